"""The newest outcome of every check, counted one way for `mmds run`'s summary, for publish's
`meta.test_results` and as Dagster shows it: `pass`, `warn` (a failing warn-severity check) or
`fail` (a failing error-severity check; dagster-dbt reports a dbt test that errored as one)."""

from collections import Counter
from collections.abc import Sequence

from dagster import AssetCheckEvaluation, AssetCheckKey, AssetCheckSeverity, DagsterInstance

from mmds_orchestrator.defs.publish.serving import CheckResult

FAILED_ROWS_METADATA = "dagster_dbt/failed_row_count"
STATUSES = ("pass", "warn", "fail")


def latest_check_results(
    instance: DagsterInstance, check_keys: Sequence[AssetCheckKey]
) -> list[CheckResult]:
    """The newest evaluation of each check that has one, sorted by check."""
    results = []
    evaluations = latest_evaluations(instance, check_keys)
    for key, evaluation in sorted(evaluations.items(), key=lambda item: item[0].to_user_string()):
        failed_rows = evaluation.metadata.get(FAILED_ROWS_METADATA)
        results.append(
            CheckResult(
                test_name=key.name,
                model_name=key.asset_key.path[-1],
                status=status(evaluation),
                failures=int(failed_rows.value) if failed_rows is not None else 0,  # type: ignore[arg-type]
            )
        )
    return results


def status(evaluation: AssetCheckEvaluation) -> str:
    """`pass`, `warn` or `fail`."""
    if evaluation.passed:
        return "pass"
    return "warn" if evaluation.severity == AssetCheckSeverity.WARN else "fail"


def tally(results: Sequence[CheckResult]) -> dict[str, int]:
    """How many checks passed, warned and failed."""
    counts = Counter(result.status for result in results)
    return {name: counts.get(name, 0) for name in STATUSES}


def latest_evaluations(
    instance: DagsterInstance, check_keys: Sequence[AssetCheckKey]
) -> dict[AssetCheckKey, AssetCheckEvaluation]:
    """The newest completed evaluation of each check that has one.

    Runs in which a check was planned but its step skipped (bronze unchanged) do not count.
    """
    storage = instance.event_log_storage
    latest = storage.get_latest_asset_check_execution_by_key(list(check_keys))  # one query
    evaluations = {
        key: record.evaluation
        for key, record in latest.items()
        if isinstance(record.evaluation, AssetCheckEvaluation)
    }
    pending = [key for key in check_keys if key not in evaluations]
    if pending:  # planned in a run that skipped them: their last completed evaluation, if any
        for key, summary in storage.get_asset_check_summary_records(pending).items():
            record = summary.last_completed_check_execution_record
            if record is not None and isinstance(record.evaluation, AssetCheckEvaluation):
                evaluations[key] = record.evaluation
    return evaluations

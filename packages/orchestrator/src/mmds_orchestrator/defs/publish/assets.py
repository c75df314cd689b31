"""The publish asset: gold becomes `serving.duckdb`, once its blocking checks passed and only
when gold changed since the last publication."""

from collections.abc import Iterator, Sequence

from dagster import (
    AssetCheckEvaluation,
    AssetCheckKey,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    AssetObservation,
    AssetsDefinition,
    DagsterInstance,
    Failure,
    MaterializeResult,
    asset,
)

from mmds_orchestrator.defs.pools import WAREHOUSE_POOL
from mmds_orchestrator.defs.publish.contract import ServingColumn
from mmds_orchestrator.defs.publish.resources import DataFiles
from mmds_orchestrator.defs.publish.serving import (
    CheckResult,
    PublishError,
    gold_digest,
    publish_serving_file,
    published_gold_digest,
    remove_partial_publications,
)
from mmds_orchestrator.defs.refresh import PublishConfig

PUBLISH_KEY = AssetKey(["serving", "gold"])
FAILED_ROWS_METADATA = "dagster_dbt/failed_row_count"


def build_publish_asset(
    sources: Sequence[AssetKey],
    test_check_keys: Sequence[AssetCheckKey],
    gold: Sequence[ServingColumn],
) -> AssetsDefinition:
    """`serving/gold`, downstream of `sources` (every gold model and the load audit), copying
    the `gold` tables and columns the contract declares.

    Refuses while the newest evaluation of any error-severity dbt test failed. Does not
    materialize (an observation says why) when gold and the tests' outcomes are those of the
    serving file already published.
    """

    @asset(
        key=PUBLISH_KEY,
        deps=sources,
        group_name="serving",
        pool=WAREHOUSE_POOL,
        kinds={"duckdb"},
        output_required=False,
        description="serving.duckdb: gold plus meta tables, replaced atomically for the dashboard.",
    )
    def serving_gold(
        context: AssetExecutionContext, files: DataFiles, config: PublishConfig
    ) -> Iterator[MaterializeResult | AssetObservation]:
        for leftover in remove_partial_publications(files.serving):
            context.log.info(f"Removed {leftover.name}, left by a publication that was killed.")
        results = latest_test_results(context, test_check_keys)
        failing = [r for r in results if r.status == "fail"]
        if failing:
            names = ", ".join(f"{r.test_name} on {r.model_name}" for r in failing)
            raise Failure(
                description=(
                    f"Not publishing: error-severity dbt tests failed ({names}); "
                    f"{files.serving} is left as it was."
                ),
                allow_retries=False,
            )
        digest = gold_digest(files.warehouse, gold, results)
        if digest == published_gold_digest(files.serving):
            context.log.info("Gold is unchanged since the last publication: nothing to publish.")
            yield AssetObservation(
                asset_key=PUBLISH_KEY,
                metadata={"skipped": True, "reason": "gold unchanged", "gold_digest": digest},
            )
            return
        try:
            record = publish_serving_file(
                files.warehouse, files.serving, gold, results, is_sample=config.is_sample
            )
        except PublishError as error:
            raise Failure(description=str(error), allow_retries=False) from error
        yield MaterializeResult(
            metadata={
                "published_at": record.published_at.isoformat(),
                "load_id": record.load_id or "none",
                "gold_tables": record.gold_tables,
                "gold_rows": record.gold_rows,
                "gold_digest": record.gold_digest,
                "portal_url": record.portal_url or "none",
                "is_sample": record.is_sample,
                "tests_recorded": len(results),
                "serving_path": str(files.serving),
            }
        )

    return serving_gold


def latest_test_results(
    context: AssetExecutionContext, check_keys: Sequence[AssetCheckKey]
) -> list[CheckResult]:
    """The newest evaluation of every dbt test (normally from this run's `dbt build`)."""
    results = []
    evaluations = latest_evaluations(context.instance, check_keys)
    for key, evaluation in sorted(evaluations.items(), key=lambda item: item[0].to_user_string()):
        if evaluation.passed:
            status = "pass"
        else:
            status = "warn" if evaluation.severity == AssetCheckSeverity.WARN else "fail"
        failed_rows = evaluation.metadata.get(FAILED_ROWS_METADATA)
        results.append(
            CheckResult(
                test_name=key.name,
                model_name=key.asset_key.path[-1],
                status=status,
                failures=int(failed_rows.value) if failed_rows is not None else 0,
            )
        )
    return results


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

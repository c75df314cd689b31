"""Run the whole graph in-process against the persistent Dagster instance."""

import time
from collections.abc import Callable

from dagster import (
    AssetCheckSeverity,
    AssetKey,
    AssetsDefinition,
    DagsterEventType,
    DagsterInstance,
    Definitions,
    ExecuteInProcessResult,
)

from mmds_orchestrator.check_results import latest_check_results, latest_evaluations
from mmds_orchestrator.definitions import defs
from mmds_orchestrator.defs.forecast.assets import FORECAST_CHECK
from mmds_orchestrator.defs.ingest.assets import BRONZE_TABLES, RECONCILIATION
from mmds_orchestrator.defs.publish.assets import PUBLISH_KEY
from mmds_orchestrator.defs.refresh import (
    DBT_OP,
    FORECAST_OP,
    INGEST_OP,
    PUBLISH_OP,
    quiet_console_config,
    refresh_run_config,
)
from mmds_orchestrator.defs.schedules.pipeline import INGEST_JOB, REBUILD_JOB
from mmds_orchestrator.defs.transform.assets import dbt_models
from mmds_orchestrator.instance import open_instance, release_abandoned_runs
from mmds_orchestrator.progress import DBT, PUBLISH, StageProgress, report
from mmds_orchestrator.run_summary import DBT_UP_TO_DATE, OUT_OF_DATE_TAG, RunSummary, summarize
from mmds_orchestrator.settings import PipelineSettings

RUN_TAGS = {"mmds/trigger": "mmds run"}
# Dagster records each materialization's code version (dagster-dbt: the node's checksum) here.
CODE_VERSION_TAG = "dagster/code_version"
STAGE_OF_STEP = {DBT_OP: DBT, PUBLISH_OP: PUBLISH}


def run_pipeline(
    settings: PipelineSettings,
    full_refresh: bool = False,
    portal_url: str | None = None,
    is_sample: bool = False,
    should_stop: Callable[[], bool] = lambda: False,
) -> RunSummary:
    """Ingest, then dbt build and publish when there is something to build, as Dagster runs
    recorded in the UI's history.

    The first run is ingest alone (`mmds_ingest`): skipped when the portal's change token has
    not moved. The second (`mmds_rebuild`) runs only when bronze changed or dbt is out of date
    (see `dbt_out_of_date`), or, its publish step alone, when gold was built after the last
    publication; publish skips when gold did not change. In-process
    execution avoids the start-up of a code server and of one process per step. Earlier runs of
    this command that were killed are marked failed first, freeing their slots. `portal_url`
    replaces the configured portal; `is_sample` says the data is the generated sample (both for
    `mmds run --sample`). Nothing starts after `should_stop()` turns true (a signal came).
    """
    started = time.perf_counter()
    definitions = defs()
    _, models = dbt_models(settings)
    with open_instance(
        settings.dagster_home,
        compute_logs=False,
        storage_url=settings.orchestrator.storage_url,
    ) as instance:
        release_abandoned_runs(instance, RUN_TAGS)
        ingest = _execute(definitions, INGEST_JOB, instance, full_refresh, portal_url=portal_url)
        results = [ingest]
        if not ingest.success:
            _not_run(ingest, "ingest failed")
        elif not should_stop():
            if full_refresh or _materialized(ingest, BRONZE_TABLES):
                reasons: list[str] | None = []
            else:
                reasons = dbt_out_of_date(instance, models) or None
            publish_only = reasons is None and publish_out_of_date(instance, models)
            if reasons is None and not publish_only:
                report(StageProgress(DBT, "skipped", detail=DBT_UP_TO_DATE))
                report(StageProgress(PUBLISH, "skipped", detail="nothing changed"))
            else:
                if publish_only:
                    report(StageProgress(DBT, "skipped", detail=DBT_UP_TO_DATE))
                rebuild = _execute(
                    definitions,
                    REBUILD_JOB,
                    instance,
                    full_refresh,
                    is_sample=is_sample,
                    out_of_date=reasons,
                    publish_only=publish_only,
                )
                results.append(rebuild)
                _not_run(rebuild, "an earlier stage failed")
        checks = latest_check_results(
            instance, [*models.check_keys, RECONCILIATION, FORECAST_CHECK]
        )
    return summarize(results, checks, time.perf_counter() - started, settings.serving_path)


def dbt_out_of_date(instance: DagsterInstance, models: AssetsDefinition) -> list[str]:
    """Why dbt must build although bronze did not change (empty: it is up to date).

    A model whose newest materialization has another code version (its SQL changed) or none, a
    model older than bronze (a build that failed after a load), a dbt test never evaluated (a
    new test) or whose newest error-severity evaluation failed.
    """
    latest = instance.get_latest_materialization_events([*models.keys, *BRONZE_TABLES])
    loads = [latest.get(key) for key in BRONZE_TABLES]
    bronze = max((event.timestamp for event in loads if event is not None), default=None)
    reasons = []
    for key, code_version in models.code_versions_by_key.items():
        event = latest.get(key)
        if event is None or event.asset_materialization is None:
            reasons.append(f"{key.to_user_string()} was never built")
        elif (event.asset_materialization.tags or {}).get(CODE_VERSION_TAG) != code_version:
            reasons.append(f"{key.to_user_string()} changed")
        elif bronze is not None and event.timestamp < bronze:
            reasons.append(f"{key.to_user_string()} is older than bronze")
    evaluations = latest_evaluations(instance, list(models.check_keys))
    for check_key in models.check_keys:
        evaluation = evaluations.get(check_key)
        if evaluation is None:
            reasons.append(f"test {check_key.name} was never evaluated")
        elif not evaluation.passed and evaluation.severity == AssetCheckSeverity.ERROR:
            reasons.append(f"test {check_key.name} failed last time")
    return reasons


def publish_out_of_date(instance: DagsterInstance, models: AssetsDefinition) -> bool:
    """Whether a gold model was built after the last publication (or its skip as unchanged):
    a run stopped or failed between its dbt build and its publish."""
    gold = [key for key in models.keys if key.path[0] == "gold"]
    built = [e.timestamp for e in instance.get_latest_materialization_events(gold).values() if e]
    if not built:
        return False
    published = instance.get_latest_materialization_events([PUBLISH_KEY]).get(PUBLISH_KEY)
    skipped = instance.fetch_observations(PUBLISH_KEY, limit=1).records
    handled = [e.timestamp for e in (published, *skipped) if e is not None]
    return not handled or max(built) > max(handled)


def _execute(
    definitions: Definitions,
    job_name: str,
    instance: DagsterInstance,
    full_refresh: bool,
    portal_url: str | None = None,
    is_sample: bool = False,
    out_of_date: list[str] | None = None,
    publish_only: bool = False,
) -> ExecuteInProcessResult:
    """One run of `job_name` (its publish step alone with `publish_only`); `out_of_date` says
    why dbt builds although bronze did not change."""
    if job_name == INGEST_JOB:
        ops = {INGEST_OP}
    else:
        ops = {PUBLISH_OP} if publish_only else {DBT_OP, FORECAST_OP, PUBLISH_OP}
    tags = {**RUN_TAGS, "mmds/full_refresh": str(full_refresh).lower()}
    if out_of_date:
        tags[OUT_OF_DATE_TAG] = "; ".join(out_of_date)[:1000]
    return definitions.resolve_job_def(job_name).execute_in_process(
        run_config={
            **refresh_run_config(full_refresh, ops, portal_url, is_sample),
            **quiet_console_config(),
        },
        instance=instance,
        raise_on_error=False,
        tags=tags,
        asset_selection=[PUBLISH_KEY] if publish_only else None,
    )


def _not_run(result: ExecuteInProcessResult, why: str) -> None:
    """Report the stages a failed run never started (the console shows why)."""
    if result.success:
        return
    started = {
        event.step_key
        for event in result.all_events
        if event.event_type == DagsterEventType.STEP_START
    }
    for step, stage in STAGE_OF_STEP.items():
        if step not in started:
            report(StageProgress(stage, "skipped", detail=why))


def _materialized(result: ExecuteInProcessResult, keys: list[AssetKey]) -> bool:
    return any(event.asset_key in keys for event in result.get_asset_materialization_events())

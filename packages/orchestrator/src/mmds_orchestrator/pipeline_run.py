"""Run the whole graph in-process against the persistent Dagster instance."""

import time

from dagster import (
    AssetCheckSeverity,
    AssetsDefinition,
    DagsterInstance,
    Definitions,
    ExecuteInProcessResult,
)

from mmds_orchestrator.definitions import defs
from mmds_orchestrator.defs.ingest.assets import BRONZE_REQUESTS
from mmds_orchestrator.defs.publish.assets import latest_evaluations
from mmds_orchestrator.defs.refresh import DBT_OP, quiet_console_config, refresh_run_config
from mmds_orchestrator.defs.schedules.pipeline import PIPELINE_JOB, REBUILD_JOB
from mmds_orchestrator.defs.transform.assets import dbt_models
from mmds_orchestrator.instance import open_instance, release_abandoned_runs
from mmds_orchestrator.run_summary import RunSummary, summarize
from mmds_orchestrator.settings import PipelineSettings

RUN_TAGS = {"mmds/trigger": "mmds run"}
# Dagster records each materialization's code version (dagster-dbt: the node's checksum) here.
CODE_VERSION_TAG = "dagster/code_version"


def run_pipeline(
    settings: PipelineSettings, full_refresh: bool = False, portal_url: str | None = None
) -> RunSummary:
    """Ingest, dbt build and publish as one Dagster run, recorded in the UI's history.

    Steps with nothing to do are skipped: ingest when the portal's change token has not moved,
    dbt and publish when bronze did not change (Dagster skips them), publish when gold did not
    change. When bronze did not change but dbt is out of date (its project changed, a model was
    never built, or its last build failed), a second run builds dbt and publishes. In-process
    execution avoids the start-up of a code server and of one process per step. Earlier runs of
    this command that were killed are marked failed first, freeing their slots. `portal_url`
    replaces the configured portal (the sample portal of `mmds run --sample`).
    """
    started = time.perf_counter()
    definitions = defs()
    _, models = dbt_models(settings)
    with open_instance(settings.dagster_home) as instance:
        release_abandoned_runs(instance, RUN_TAGS)
        results = [_execute(definitions, instance, full_refresh, portal_url)]
        if not _ran(results[0], DBT_OP) and results[0].success:
            reasons = dbt_out_of_date(instance, models)
            if reasons:
                results.append(_execute(definitions, instance, full_refresh, None, reasons))
    return summarize(results, time.perf_counter() - started)


def dbt_out_of_date(instance: DagsterInstance, models: AssetsDefinition) -> list[str]:
    """Why dbt must build although bronze did not change (empty: it is up to date).

    A model whose newest materialization has another code version (its SQL changed) or none, a
    model older than bronze (a build that failed after a load), a dbt test never evaluated (a
    new test) or whose newest error-severity evaluation failed.
    """
    keys = [*models.keys, BRONZE_REQUESTS]
    latest = instance.get_latest_materialization_events(keys)
    bronze = latest.get(BRONZE_REQUESTS)
    reasons = []
    for key, code_version in models.code_versions_by_key.items():
        event = latest.get(key)
        if event is None or event.asset_materialization is None:
            reasons.append(f"{key.to_user_string()} was never built")
        elif event.asset_materialization.tags.get(CODE_VERSION_TAG) != code_version:
            reasons.append(f"{key.to_user_string()} changed")
        elif bronze is not None and event.timestamp < bronze.timestamp:
            reasons.append(f"{key.to_user_string()} is older than bronze")
    evaluations = latest_evaluations(instance, list(models.check_keys))
    for key in models.check_keys:
        evaluation = evaluations.get(key)
        if evaluation is None:
            reasons.append(f"test {key.name} was never evaluated")
        elif not evaluation.passed and evaluation.severity == AssetCheckSeverity.ERROR:
            reasons.append(f"test {key.name} failed last time")
    return reasons


def _execute(
    definitions: Definitions,
    instance: DagsterInstance,
    full_refresh: bool,
    portal_url: str | None,
    reasons: list[str] | None = None,
) -> ExecuteInProcessResult:
    """The pipeline job, or the rebuild job (no ingest) when dbt is out of date for `reasons`."""
    job = definitions.resolve_job_def(REBUILD_JOB if reasons else PIPELINE_JOB)
    ops = {DBT_OP} if reasons else None
    tags = {**RUN_TAGS, "mmds/full_refresh": str(full_refresh).lower()}
    if reasons:
        tags["mmds/dbt_out_of_date"] = "; ".join(reasons)[:1000]
    return job.execute_in_process(
        run_config={**refresh_run_config(full_refresh, ops, portal_url), **quiet_console_config()},
        instance=instance,
        raise_on_error=False,
        tags=tags,
    )


def _ran(result: ExecuteInProcessResult, op: str) -> bool:
    return any(
        event.is_step_success or event.is_step_failure
        for event in result.all_events
        if event.step_key == op
    )

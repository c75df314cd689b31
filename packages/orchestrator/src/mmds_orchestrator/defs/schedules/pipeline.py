"""The pipeline job and its schedules: hourly incremental, weekly full refresh."""

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    Definitions,
    ScheduleDefinition,
    define_asset_job,
    definitions,
)

from mmds_orchestrator.defs.ingest.assets import BRONZE_LOADS, BRONZE_TABLES, RECONCILIATION
from mmds_orchestrator.defs.refresh import refresh_run_config
from mmds_orchestrator.settings import PipelineSettings

PIPELINE_JOB = "mmds_pipeline"
INGEST_JOB = "mmds_ingest"
REBUILD_JOB = "mmds_rebuild"

BRONZE = AssetSelection.assets(*BRONZE_TABLES, BRONZE_LOADS)
# The ingest step alone: bronze and its reconciliation, without dbt's tests of its sources.
INGEST = BRONZE.without_checks() | AssetSelection.checks(RECONCILIATION)
# Everything downstream of ingest, with dbt's tests of its sources (checks on bronze's assets):
# dagster-dbt then builds its whole selection instead of a subset.
AFTER_INGEST = (AssetSelection.all() - BRONZE) | (
    AssetSelection.checks_for_assets(*BRONZE_TABLES, BRONZE_LOADS)
    - AssetSelection.checks(RECONCILIATION)
)


@definitions
def pipeline_schedules() -> Definitions:
    """The jobs and both schedules (of `mmds_pipeline`), their cron from the current settings.

    `mmds_pipeline` is the whole graph: when bronze does not change, Dagster skips dbt and
    publish. `mmds run` runs its two halves, `mmds_ingest` then, only when bronze changed or dbt
    is out of date, `mmds_rebuild`: a run with nothing to do never plans dbt's steps and checks.
    """
    settings = PipelineSettings.from_environment().orchestrator
    job = define_asset_job(
        PIPELINE_JOB,
        selection=AssetSelection.all(),
        description="Ingest, dbt build (tests as checks), publish serving.duckdb.",
    )
    # Both run in UTC; they start stopped unless MMDS_SCHEDULES_ENABLED.
    status = (
        DefaultScheduleStatus.RUNNING
        if settings.schedules_enabled
        else DefaultScheduleStatus.STOPPED
    )
    schedules = [
        ScheduleDefinition(
            name=name,
            job=job,
            cron_schedule=cron,
            execution_timezone="UTC",
            run_config=refresh_run_config(full_refresh=full_refresh),
            default_status=status,
            description=description,
        )
        for name, cron, full_refresh, description in (
            (
                "hourly_incremental",
                settings.incremental_cron,
                False,
                "New and changed records since the cursor (with lookback), then rebuild.",
            ),
            (
                "weekly_full_refresh",
                settings.full_refresh_cron,
                True,
                "Reload everything from the portal and rebuild every model.",
            ),
        )
    ]
    ingest = define_asset_job(
        INGEST_JOB, selection=INGEST, description="Ingest alone, with its reconciliation check."
    )
    rebuild = define_asset_job(
        REBUILD_JOB,
        selection=AFTER_INGEST,
        description="dbt build (tests as checks) and publish serving.duckdb, without ingest.",
    )
    return Definitions(jobs=[job, ingest, rebuild], schedules=schedules)

"""The pipeline job and its schedules: hourly incremental, weekly full refresh."""

from dagster import (
    AssetCheckKey,
    AssetSelection,
    DefaultScheduleStatus,
    Definitions,
    ScheduleDefinition,
    define_asset_job,
    definitions,
)

from mmds_orchestrator.defs.ingest.assets import BRONZE_LOADS, BRONZE_REQUESTS, RECONCILIATION_CHECK
from mmds_orchestrator.defs.refresh import refresh_run_config
from mmds_orchestrator.settings import PipelineSettings

PIPELINE_JOB = "mmds_pipeline"
REBUILD_JOB = "mmds_rebuild"

BRONZE = AssetSelection.assets(BRONZE_REQUESTS, BRONZE_LOADS)
# Everything downstream of ingest, with dbt's tests of its sources (checks on bronze's assets):
# dagster-dbt then builds its whole selection instead of a subset.
AFTER_INGEST = (AssetSelection.all() - BRONZE) | (
    AssetSelection.checks_for_assets(BRONZE_REQUESTS, BRONZE_LOADS)
    - AssetSelection.checks(AssetCheckKey(BRONZE_REQUESTS, RECONCILIATION_CHECK))
)


@definitions
def pipeline_schedules() -> Definitions:
    """The `mmds_pipeline` job and both schedules, their cron from the current settings."""
    settings = PipelineSettings()
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
            name="hourly_incremental",
            job=job,
            cron_schedule=settings.incremental_cron,
            execution_timezone="UTC",
            run_config=refresh_run_config(full_refresh=False),
            default_status=status,
            description="New and changed records since the cursor (with lookback), then rebuild.",
        ),
        ScheduleDefinition(
            name="weekly_full_refresh",
            job=job,
            cron_schedule=settings.full_refresh_cron,
            execution_timezone="UTC",
            run_config=refresh_run_config(full_refresh=True),
            default_status=status,
            description="Reload everything from the portal and rebuild every model.",
        ),
    ]
    rebuild = define_asset_job(
        REBUILD_JOB,
        selection=AFTER_INGEST,
        description="dbt build and publish without ingest: after a change of the dbt project.",
    )
    return Definitions(jobs=[job, rebuild], schedules=schedules)

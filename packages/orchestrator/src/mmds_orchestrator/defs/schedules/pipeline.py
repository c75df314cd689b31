"""The pipeline job and its schedules: hourly incremental, weekly full refresh."""

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    ScheduleDefinition,
    define_asset_job,
)
from dagster._core.definitions.unresolved_asset_job_definition import (
    UnresolvedAssetJobDefinition,
)

from mmds_orchestrator.defs.refresh import refresh_run_config

PIPELINE_JOB = "mmds_pipeline"


def build_pipeline_job() -> UnresolvedAssetJobDefinition:
    """Every asset and check from the portal to the dashboard."""
    return define_asset_job(
        PIPELINE_JOB,
        selection=AssetSelection.all(),
        description="Ingest, dbt build (tests as checks), publish serving.duckdb, dashboard.",
    )


def build_schedules(
    job: UnresolvedAssetJobDefinition,
    incremental_cron: str,
    full_refresh_cron: str,
    enabled: bool,
) -> list[ScheduleDefinition]:
    """Both schedules run in UTC; they start stopped unless `enabled` (`MMDS_SCHEDULES_ENABLED`)."""
    status = DefaultScheduleStatus.RUNNING if enabled else DefaultScheduleStatus.STOPPED
    return [
        ScheduleDefinition(
            name="hourly_incremental",
            job=job,
            cron_schedule=incremental_cron,
            execution_timezone="UTC",
            run_config=refresh_run_config(full_refresh=False),
            default_status=status,
            description="New and changed records since the cursor (with lookback), then rebuild.",
        ),
        ScheduleDefinition(
            name="weekly_full_refresh",
            job=job,
            cron_schedule=full_refresh_cron,
            execution_timezone="UTC",
            run_config=refresh_run_config(full_refresh=True),
            default_status=status,
            description="Reload everything from the portal and rebuild every model.",
        ),
    ]

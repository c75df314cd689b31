"""Run configuration shared by the stages: incremental (default) or full refresh."""

from typing import Any

from dagster import Config

INGEST_OP = "ingest_portal"
DBT_OP = "dbt_models"


class RefreshConfig(Config):
    """`full_refresh`: reload everything from the portal and rebuild every dbt model."""

    full_refresh: bool = False


def refresh_run_config(full_refresh: bool) -> dict[str, Any]:
    """Run config selecting incremental or full refresh for ingest and dbt alike."""
    config = {"config": {"full_refresh": full_refresh}}
    return {"ops": {INGEST_OP: config, DBT_OP: config}}


def quiet_console_config() -> dict[str, Any]:
    """Console logger at INFO: assets' own messages and errors, without Dagster's debug events."""
    return {"loggers": {"console": {"config": {"log_level": "INFO"}}}}

"""Run configuration shared by the stages: incremental (default) or full refresh."""

from collections.abc import Collection
from typing import Any

from dagster import Config

INGEST_OP = "ingest_portal"
DBT_OP = "dbt_models"


class RefreshConfig(Config):
    """`full_refresh`: reload everything from the portal and rebuild every dbt model."""

    full_refresh: bool = False


class IngestConfig(RefreshConfig):
    """`portal_url`: load from this portal instead of the configured one (`mmds run --sample`)."""

    portal_url: str | None = None


def refresh_run_config(
    full_refresh: bool, ops: Collection[str] | None = None, portal_url: str | None = None
) -> dict[str, Any]:
    """Run config selecting incremental or full refresh for ingest and dbt (or only `ops`), and
    the portal ingest reads if not the configured one."""
    config: dict[str, Any] = {"ops": {}}
    for op in ops or (INGEST_OP, DBT_OP):
        config["ops"][op] = {"config": {"full_refresh": full_refresh}}
    if portal_url and INGEST_OP in config["ops"]:
        config["ops"][INGEST_OP]["config"]["portal_url"] = portal_url
    return config


def quiet_console_config() -> dict[str, Any]:
    """Console logger at INFO: assets' own messages and errors, without Dagster's debug events."""
    return {"loggers": {"console": {"config": {"log_level": "INFO"}}}}

"""Run configuration shared by the stages: incremental (default) or full refresh."""

from collections.abc import Collection
from typing import Any

from dagster import Config

INGEST_OP = "ingest_portal"
DBT_OP = "dbt_models"
FORECAST_OP = "forecast_demand"
PUBLISH_OP = "serving__gold"


class RefreshConfig(Config):
    """`full_refresh`: reload everything from the portal and rebuild every dbt model."""

    full_refresh: bool = False


class IngestConfig(RefreshConfig):
    """`portal_url`: load from this portal instead of the configured one (`mmds run --sample`)."""

    portal_url: str | None = None


class PublishConfig(Config):
    """`is_sample`: the data is the project's generated sample (`mmds run --sample`)."""

    is_sample: bool = False


def refresh_run_config(
    full_refresh: bool,
    ops: Collection[str] | None = None,
    portal_url: str | None = None,
    is_sample: bool = False,
) -> dict[str, Any]:
    """Run config selecting incremental or full refresh for ingest, dbt and the forecast (or only
    `ops`), the portal ingest reads if not the configured one, and whether publish publishes a
    sample."""
    config: dict[str, Any] = {"ops": {}}
    ops = ops or (INGEST_OP, DBT_OP, FORECAST_OP, PUBLISH_OP)
    for op in set(ops) - {PUBLISH_OP}:
        config["ops"][op] = {"config": {"full_refresh": full_refresh}}
    if portal_url and INGEST_OP in ops:
        config["ops"][INGEST_OP]["config"]["portal_url"] = portal_url
    if is_sample and PUBLISH_OP in ops:
        config["ops"][PUBLISH_OP] = {"config": {"is_sample": True}}
    return config


def quiet_console_config() -> dict[str, Any]:
    """Console logger at INFO: assets' own messages and errors, without Dagster's debug events."""
    return {"loggers": {"console": {"config": {"log_level": "INFO"}}}}

"""The single entry point of mmds' Dagster definitions (`-m mmds_orchestrator.definitions`).

Each stage lives in its own folder under `defs/`; this module wires them together with the
settings read when the definitions are loaded (never at import time).
"""

import os
from pathlib import Path

from dagster import Definitions, EnvVar, definitions
from mmds_ingest.settings import DEFAULT_PORTAL_URL

from mmds_orchestrator.defs.dashboard.assets import mmds_dashboard
from mmds_orchestrator.defs.ingest.assets import BRONZE_LOADS, ingest_portal
from mmds_orchestrator.defs.ingest.checks import bronze_matches_portal_count
from mmds_orchestrator.defs.ingest.resources import PortalIngestResource
from mmds_orchestrator.defs.io_manager import DuckDBArrowIOManager
from mmds_orchestrator.defs.publish.assets import build_publish_asset
from mmds_orchestrator.defs.publish.resources import DataFiles
from mmds_orchestrator.defs.schedules.pipeline import build_pipeline_job, build_schedules
from mmds_orchestrator.defs.transform.assets import build_dbt_assets
from mmds_orchestrator.defs.transform.project import (
    dbt_executable,
    default_project_dir,
    prepare_dbt_project,
)
from mmds_orchestrator.defs.transform.resources import DbtCli
from mmds_orchestrator.settings import PipelineSettings


@definitions
def defs() -> Definitions:
    """Definitions for the current environment (`MMDS_*` variables)."""
    return build_definitions(PipelineSettings())


def build_definitions(settings: PipelineSettings, dbt_command: Path | None = None) -> Definitions:
    """The whole graph: portal -> bronze -> dbt silver/gold -> serving file -> dashboard.

    Prepares the dbt manifest if it is missing or stale, and exports the absolute
    `MMDS_DATA_DIR` so dbt's profile finds the warehouse from any working directory. dbt runs
    as `dbt_command` if given, else the venv's `dbt`.
    """
    os.environ["MMDS_DATA_DIR"] = str(settings.data_dir)
    project = prepare_dbt_project(
        settings.dbt_project_dir or default_project_dir(),
        settings.dbt_artifacts_dir,
        settings.data_dir,
    )
    dbt_models = build_dbt_assets(project)
    gold_keys = sorted(
        (key for key in dbt_models.keys if key.path[0] == "gold"), key=lambda k: k.path
    )
    serving_gold = build_publish_asset([*gold_keys, BRONZE_LOADS], sorted(dbt_models.check_keys))
    pipeline = build_pipeline_job()
    return Definitions(
        assets=[ingest_portal, dbt_models, serving_gold, mmds_dashboard],
        asset_checks=[bronze_matches_portal_count],
        jobs=[pipeline],
        schedules=build_schedules(
            pipeline,
            settings.incremental_cron,
            settings.full_refresh_cron,
            settings.schedules_enabled,
        ),
        resources={
            "portal": PortalIngestResource(
                portal_url=_from_environment("MMDS_PORTAL_URL", DEFAULT_PORTAL_URL),
                data_dir=str(settings.data_dir),
                portal_api_key=_from_environment("MMDS_PORTAL_API_KEY", None),
            ),
            "dbt": DbtCli(project_dir=project, dbt_executable=str(dbt_command or dbt_executable())),
            "files": DataFiles(data_dir=str(settings.data_dir)),
            "io_manager": DuckDBArrowIOManager(database=str(settings.io_manager_path)),
        },
    )


def _from_environment(name: str, default: str | None) -> EnvVar | str | None:
    """An `EnvVar` (resolved when a run starts, shown as such in the UI) if set, else `default`."""
    return EnvVar(name) if name in os.environ else default

"""Run the whole graph in-process against the persistent Dagster instance."""

import time
from pathlib import Path

from mmds_orchestrator.definitions import build_definitions
from mmds_orchestrator.defs.refresh import quiet_console_config, refresh_run_config
from mmds_orchestrator.defs.schedules.pipeline import PIPELINE_JOB
from mmds_orchestrator.instance import open_instance, release_abandoned_runs
from mmds_orchestrator.run_summary import RunSummary, summarize
from mmds_orchestrator.settings import PipelineSettings

RUN_TAGS = {"mmds/trigger": "mmds run"}


def run_pipeline(
    settings: PipelineSettings, full_refresh: bool = False, dbt_command: Path | None = None
) -> RunSummary:
    """Ingest, dbt build, publish and dashboard as one Dagster run, recorded in the UI's history.

    In-process execution avoids the start-up of a code server and of one process per step.
    Earlier runs of this command that were killed are marked failed first, freeing their slots.
    `dbt_command` replaces the venv's `dbt` (e.g. a launcher of `warm_dbt`).
    """
    started = time.perf_counter()
    definitions = build_definitions(settings, dbt_command=dbt_command)
    job = definitions.resolve_job_def(PIPELINE_JOB)
    with open_instance(settings.dagster_home) as instance:
        release_abandoned_runs(instance, RUN_TAGS)
        result = job.execute_in_process(
            run_config={**refresh_run_config(full_refresh), **quiet_console_config()},
            instance=instance,
            raise_on_error=False,
            tags={**RUN_TAGS, "mmds/full_refresh": str(full_refresh).lower()},
        )
    return summarize(
        result.run_id, result.success, time.perf_counter() - started, result.all_events
    )

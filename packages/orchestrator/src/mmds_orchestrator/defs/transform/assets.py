"""dbt models, snapshots and seeds as Dagster assets; dbt data tests as asset checks."""

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetsDefinition, Failure
from dagster_dbt import DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets
from mmds_transform import ROUTINE_SELECTOR

from mmds_orchestrator.defs.pools import WAREHOUSE_POOL
from mmds_orchestrator.defs.refresh import DBT_OP, RefreshConfig
from mmds_orchestrator.defs.transform.project import (
    dbt_project,
    dbt_vars,
    mmds_dbt_project,
    prepare_manifest,
)
from mmds_orchestrator.defs.transform.stream import stream_events
from mmds_orchestrator.defs.transform.translator import LayerTranslator, excluded_tags
from mmds_orchestrator.settings import PipelineSettings


def dbt_models(settings: PipelineSettings) -> tuple[DbtProject, AssetsDefinition]:
    """The dbt project, its manifest prepared, and the `dbt_models` assets built from it.

    Publish reads the gold keys and test checks of the same definition: it is built once per
    project, data dir and manifest (dagster-dbt reads the whole manifest to build it).
    """
    project = mmds_dbt_project(settings)
    _prepared(project.project_dir, project.target_path, settings.data_dir)
    written = project.manifest_path.stat().st_mtime_ns
    models = _dbt_models(project.project_dir, project.target_path, settings.data_dir, written)
    return project, models


@cache
def _prepared(project_dir: Path, target: Path, data_dir: Path) -> None:
    """Prepare the manifest once per process (transform and publish both load the models).

    Under `dg dev`, `prepare_if_dev()` parses (each reload of the code location is a new
    process); elsewhere `prepare_manifest` parses only a missing or stale manifest.
    """
    project = dbt_project(project_dir, target, data_dir)
    project.prepare_if_dev()
    prepare_manifest(project, data_dir)


@cache
def _dbt_models(
    project_dir: Path, target: Path, data_dir: Path, _manifest_written: int
) -> AssetsDefinition:
    return build_dbt_assets(dbt_project(project_dir, target, data_dir), data_dir)


def build_dbt_assets(project: DbtProject, data_dir: Path) -> AssetsDefinition:
    """One `dbt build` step for every model, snapshot and seed; data tests become checks.

    The build is mmds-transform's routine selector: unit tests and full-rebuild proofs are left
    to its pytest suite and CI. A failing error-severity test fails the step, so nothing
    downstream (publish) runs.
    """
    manifest = json.loads(project.manifest_path.read_text(encoding="utf-8"))

    @dbt_assets(
        manifest=manifest,
        project=project,
        selector=ROUTINE_SELECTOR,
        name=DBT_OP,
        dagster_dbt_translator=LayerTranslator(
            unselected_tags=excluded_tags(manifest, ROUTINE_SELECTOR),
            settings=DagsterDbtTranslatorSettings(enable_source_tests_as_checks=True),
        ),
        pool=WAREHOUSE_POOL,
    )
    def dbt_models(
        context: AssetExecutionContext, dbt: DbtCliResource, config: RefreshConfig
    ) -> Iterator[Any]:
        args = ["build", *dbt_vars(data_dir)]
        if config.full_refresh:
            args.append("--full-refresh")
        # the project's own target: dbt reuses its partial parse there, builds take turns (pool)
        target = project.manifest_path.parent
        invocation = dbt.cli(args, context=context, target_path=target, raise_on_error=False)
        yield from stream_events(invocation)
        if not invocation.is_successful():
            raise Failure(
                description=f"dbt build failed: {failed_nodes(target)}", allow_retries=False
            )

    return dbt_models


def failed_nodes(target: Path) -> str:
    """One line naming each dbt node that errored or failed, with its message."""
    results_file = target / "run_results.json"
    if not results_file.exists():
        return f"dbt stopped before running any node: {_logged_errors(target / 'dbt.log')}"
    run_results = json.loads(results_file.read_text(encoding="utf-8"))
    failures = [
        f"{result['unique_id']} ({result['status']}: {(result.get('message') or '').strip()})"
        for result in run_results.get("results", [])
        if result.get("status") in {"error", "fail", "runtime error"}
    ]
    return "; ".join(failures) or "see the dbt output in the run's logs"


def _logged_errors(log_file: Path) -> str:
    """The error messages of dbt's JSON log (e.g. a parsing error), or where to look."""
    errors = []
    if log_file.exists():
        for line in log_file.read_text(encoding="utf-8").splitlines():
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            info = event.get("info", {})
            if info.get("level") == "error":
                errors.append(event.get("data", {}).get("exc") or info.get("msg", ""))
    return " | ".join(e.strip() for e in errors if e.strip()) or f"see {log_file}"

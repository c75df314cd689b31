"""dbt models, snapshots and seeds as Dagster assets; dbt data tests as asset checks."""

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetMaterialization, AssetsDefinition, Failure, Output
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
from mmds_orchestrator.defs.transform.stream import STOP_GRACE_SECONDS, stream_events
from mmds_orchestrator.defs.transform.translator import LayerTranslator, excluded_tags
from mmds_orchestrator.progress import DBT, StageProgress, report
from mmds_orchestrator.settings import PipelineSettings
from mmds_orchestrator.wording import one_line, plural

# dbt's tests that stop the line for systemic breakage (mmds-transform, CONTRACT-P2 B): their
# message says what broke and how to fix it.
SYSTEMIC_TESTS = (
    "flagged_share_of_newest_load_within_threshold",
    "flagged_share_of_all_requests_within_threshold",
)
SYSTEMIC_MESSAGE_START = "systemic breakage"
FAILED_STATUSES = {"error", "fail", "runtime error"}


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
        nodes = len(context.selected_asset_keys) + len(context.selected_asset_check_keys)
        report(StageProgress(DBT, "started", total=nodes, unit="nodes"))
        invocation = dbt.cli(args, context=context, target_path=target, raise_on_error=False)
        invocation.termination_timeout_seconds = STOP_GRACE_SECONDS
        built = tested = 0
        for event in stream_events(invocation):
            if isinstance(event, Output | AssetMaterialization):
                built += 1
            else:
                tested += 1
            report(StageProgress(DBT, "progress", done=min(built + tested, nodes), total=nodes))
            yield event
        if not invocation.is_successful():
            line = dbt_failure(target)
            report(StageProgress(DBT, "failed", detail=line.removeprefix("dbt build failed: ")))
            raise Failure(description=line, allow_retries=False)
        done = f"{plural(built, 'model')} built, {plural(tested, 'test')} run"
        report(StageProgress(DBT, "finished", detail=done))

    return dbt_models


def dbt_failure(target: Path) -> str:
    """Why `dbt build` failed, on one line: the failing node and its message.

    A systemic-breakage test reads "not published: <its message>" (which says what to fix).
    """
    results_file = target / "run_results.json"
    if not results_file.exists():
        return one_line(
            f"dbt stopped before running any node: {_logged_errors(target / 'dbt.log')}"
        )
    run_results = json.loads(results_file.read_text(encoding="utf-8"))
    failures = [r for r in run_results.get("results", []) if r.get("status") in FAILED_STATUSES]
    if not failures:
        return "dbt build failed: see the dbt output in the log"
    for result in failures:
        message = result.get("message") or ""
        if _node_name(result) in SYSTEMIC_TESTS and SYSTEMIC_MESSAGE_START in message:
            breakage = message[message.index(SYSTEMIC_MESSAGE_START) :]
            return one_line(f"not published: {breakage}", limit=None)  # its fix comes last
    first = failures[0]
    more = (
        f" (and {len(failures) - 1} more failing nodes: see the log)" if len(failures) > 1 else ""
    )
    return one_line(
        f"dbt build failed: {_node_name(first)} ({first['status']}): "
        f"{first.get('message') or 'no message'}{more}",
    )


def _node_name(result: dict[str, Any]) -> str:
    """`fct_service_requests` of `model.mmds.fct_service_requests`."""
    parts = str(result.get("unique_id", "")).split(".")
    return parts[2] if len(parts) > 2 else ".".join(parts)


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

"""dbt models, snapshots and tests as Dagster assets and asset checks."""

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetsDefinition, Failure
from dagster_dbt import DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets
from mmds_transform import ROUTINE_SELECTOR

from mmds_orchestrator.defs.pools import WAREHOUSE_POOL
from mmds_orchestrator.defs.refresh import DBT_OP, RefreshConfig
from mmds_orchestrator.defs.transform.stream import stream_events
from mmds_orchestrator.defs.transform.translator import LayerTranslator

PARTIAL_PARSE_FILE = "partial_parse.msgpack"


def build_dbt_assets(project: DbtProject) -> AssetsDefinition:
    """One `dbt build` step for every model, snapshot and seed; data tests become checks.

    The build is mmds-transform's routine selector: unit tests and full-rebuild proofs are left
    to its pytest suite and CI. A failing error-severity test fails the step, so nothing
    downstream (publish) runs.
    """

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        selector=ROUTINE_SELECTOR,
        name=DBT_OP,
        dagster_dbt_translator=LayerTranslator(
            settings=DagsterDbtTranslatorSettings(enable_source_tests_as_checks=True)
        ),
        pool=WAREHOUSE_POOL,
    )
    def dbt_models(
        context: AssetExecutionContext, dbt: DbtCliResource, config: RefreshConfig
    ) -> Iterator[Any]:
        args = ["build", "--full-refresh"] if config.full_refresh else ["build"]
        target = project.target_path / "runs" / f"{context.run.run_id[:8]}-{context.retry_number}"
        reuse_parse(project.target_path, target)
        invocation = dbt.cli(args, context=context, target_path=target, raise_on_error=False)
        yield from stream_events(invocation)
        if not invocation.is_successful():
            raise Failure(
                description=f"dbt build failed: {failed_nodes(target)}", allow_retries=False
            )

    return dbt_models


def reuse_parse(prepared: Path, target: Path) -> None:
    """Seed a run's target with the prepared parse, so dbt re-parses only what changed.

    dagster-dbt looks for `partial_parse.msgpack` only in dbt's default `target/`, not in the
    project's own target path; without it every `dbt build` parses the whole project again.
    """
    saved = prepared / PARTIAL_PARSE_FILE
    if saved.exists():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(saved, target / PARTIAL_PARSE_FILE)


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

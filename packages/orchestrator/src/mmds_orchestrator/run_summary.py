"""What a pipeline run did, read from its Dagster events, in the words of `mmds run`."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
from dagster import DagsterEvent, DagsterEventType, ExecuteInProcessResult

from mmds_orchestrator.check_results import tally
from mmds_orchestrator.defs.publish.assets import PUBLISH_KEY
from mmds_orchestrator.defs.publish.serving import CheckResult
from mmds_orchestrator.wording import describe_load, one_line

MODEL_LAYERS = {"silver", "gold"}
# The metadata every load's asset event carries (`mmds_ingest.LoadResult`).
LOAD_METADATA = "rows_received"
OUT_OF_DATE_TAG = "mmds/dbt_out_of_date"
DBT_UP_TO_DATE = "bronze unchanged, and dbt is up to date"
QUARANTINE = "gold.fct_quarantined_requests"
SHOWN_REASONS = 5
LABEL_WIDTH = 10


@dataclass
class RunSummary:
    """Counts and outcome of one `mmds run`: its ingest run, and its rebuild run if any."""

    run_ids: list[str]
    succeeded: bool
    seconds: float
    serving_path: Path
    checks: Sequence[CheckResult] = ()
    loads: list[dict[str, Any]] = field(default_factory=list)
    models_built: int = 0
    dbt_out_of_date: str | None = None
    skipped: list[str] = field(default_factory=list)
    published_at: str | None = None
    failure: str | None = None
    quarantine: str | None = None

    @property
    def ok(self) -> bool:
        """Every step succeeded and no error-severity check fails."""
        return self.succeeded and self.failure is None and tally(self.checks)["fail"] == 0

    def lines(self) -> list[str]:
        """The summary as printed by `mmds run` (the failure, if any, last)."""
        counts = tally(self.checks)
        failing = [f"{c.test_name} on {c.model_name}" for c in self.checks if c.status == "fail"]
        loads = [describe_load(load) for load in self.loads] or ["none"]
        rows = [
            ("loads", loads[0]),
            *(("", load) for load in loads[1:]),  # one line per load, under the first
            ("flagged", self.quarantine),
            (
                "models",
                f"{self.models_built} built"
                + (
                    f" (dbt was out of date: {self.dbt_out_of_date})"
                    if self.dbt_out_of_date
                    else ""
                ),
            ),
            (
                "checks",
                f"{counts['pass']} passed, {counts['warn']} warned, {counts['fail']} failed"
                + (f" ({', '.join(failing)})" if failing else ""),
            ),
            ("published", self._published()),
            ("skipped", "; ".join(self.skipped) or None),
            ("time", f"{self.seconds:.1f} s"),
            ("failed", self.failure),
        ]
        return [f"{label:<{LABEL_WIDTH}} {text}" for label, text in rows if text]

    def _published(self) -> str:
        if self.published_at:
            return f"{self.published_at} to {self.serving_path}"
        if self.serving_path.exists():
            return f"no, {self.serving_path.name} is as it was"
        return "no"


def summarize(
    results: Sequence[ExecuteInProcessResult],
    checks: Sequence[CheckResult],
    seconds: float,
    serving_path: Path,
) -> RunSummary:
    """Fold the events of one `mmds run`'s Dagster runs into a `RunSummary`."""
    summary = RunSummary(
        run_ids=[r.run_id for r in results],
        succeeded=all(r.success for r in results),
        seconds=seconds,
        serving_path=serving_path,
        checks=checks,
    )
    for result in results:
        for event in result.all_events:
            _count(summary, event)
        summary.dbt_out_of_date = result.dagster_run.tags.get(OUT_OF_DATE_TAG) or (
            summary.dbt_out_of_date
        )
    if len(results) == 1 and summary.succeeded:
        summary.skipped.insert(0, f"dbt and publish: {DBT_UP_TO_DATE}")
    summary.quarantine = quarantined(serving_path)
    return summary


def quarantined(serving: Path) -> str | None:
    """How many published requests are flagged, and why (None without a serving file)."""
    if not serving.exists():
        return None
    try:
        with duckdb.connect(str(serving), read_only=True) as connection:
            reasons = connection.execute(
                "select quality_reason, count(distinct service_request_id) "  # noqa: S608 - a constant
                f"from {QUARANTINE} group by all order by 2 desc, 1"
            ).fetchall()
            (requests,) = connection.execute(
                f"select count(distinct service_request_id) from {QUARANTINE}"  # noqa: S608
            ).fetchone() or (0,)
    except duckdb.Error:  # an older file without the quarantine
        return None
    source = f"({QUARANTINE}, as published)"
    if not requests:
        return f"no request {source}"
    shown = ", ".join(f"{count:,} {reason}" for reason, count in reasons[:SHOWN_REASONS])
    more = f", {len(reasons) - SHOWN_REASONS} more reasons" if len(reasons) > SHOWN_REASONS else ""
    return f"{requests:,} requests {source}: {shown}{more}"


def _count(summary: RunSummary, event: DagsterEvent) -> None:
    if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
        _count_materialization(summary, event)
    elif event.event_type == DagsterEventType.ASSET_OBSERVATION:
        observation = event.asset_observation_data.asset_observation
        metadata = {name: value.value for name, value in observation.metadata.items()}
        if LOAD_METADATA in metadata:  # a load that changed nothing
            summary.loads.append(metadata)
        elif observation.asset_key == PUBLISH_KEY:
            summary.skipped.append(f"publish: {metadata.get('reason', 'nothing to publish')}")
    elif event.event_type == DagsterEventType.STEP_FAILURE and summary.failure is None:
        summary.failure = failure_message(event)


def _count_materialization(summary: RunSummary, event: DagsterEvent) -> None:
    key = event.asset_key
    if key is None:
        return
    metadata = event.step_materialization_data.materialization.metadata
    if LOAD_METADATA in metadata:  # a load, of whichever dataset
        summary.loads.append({name: value.value for name, value in metadata.items()})
    elif key == PUBLISH_KEY and "published_at" in metadata:
        published_at = datetime.fromisoformat(str(metadata["published_at"].value))
        summary.published_at = f"{published_at:%Y-%m-%d %H:%M:%S} UTC"
    elif key.path[0] in MODEL_LAYERS:
        summary.models_built += 1


def failure_message(event: DagsterEvent) -> str:
    """A step failure on one line: the step's own description (ingest, dbt and publish fail
    with one), else the error's first line."""
    data = event.step_failure_data
    if data.user_failure_data is not None and data.user_failure_data.description:
        return one_line(data.user_failure_data.description, limit=None)  # the step's own line
    if data.error is not None:
        message = data.error.message.strip().splitlines()[0] if data.error.message else ""
        return one_line(f"{event.step_key} failed: {message}")
    return f"{event.step_key} failed: see the log"

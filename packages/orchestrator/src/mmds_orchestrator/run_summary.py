"""What a pipeline run did, read from its Dagster events, in the words of `mmds run`."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from dagster import AssetCheckSeverity, DagsterEvent, DagsterEventType

from mmds_orchestrator.defs.ingest.assets import BRONZE_REQUESTS
from mmds_orchestrator.defs.publish.assets import PUBLISH_KEY

MODEL_LAYERS = {"silver", "gold"}


@dataclass
class RunSummary:
    """Counts and outcome of one run of the pipeline job."""

    run_id: str
    succeeded: bool
    seconds: float
    load: dict[str, object] = field(default_factory=dict)
    models_built: int = 0
    checks_passed: int = 0
    checks_warned: int = 0
    checks_failed: int = 0
    published_at: str | None = None
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """The run succeeded and no error-severity check failed."""
        return self.succeeded and self.checks_failed == 0

    def lines(self) -> list[str]:
        """The summary as printed by `mmds run`."""
        load = self.load
        rows = (
            f"{load.get('rows_received', 0)} received, {load.get('rows_inserted', 0)} inserted, "
            f"{load.get('rows_updated', 0)} updated ({load.get('mode', '?')} load "
            f"{load.get('load_id', '?')}, {load.get('status', '?')})"
            if load
            else "none (ingest did not complete)"
        )
        lines = [
            f"rows loaded:    {rows}",
            f"models built:   {self.models_built}",
            f"checks:         {self.checks_passed} passed, {self.checks_warned} warned, "
            f"{self.checks_failed} failed",
            f"published at:   {self.published_at or 'not published (serving file unchanged)'}",
            f"seconds:        {self.seconds:.1f}",
            f"dagster run:    {self.run_id}",
        ]
        lines += [f"FAILED: {failure}" for failure in self.failures]
        return lines


def summarize(
    run_id: str, succeeded: bool, seconds: float, events: Iterable[DagsterEvent]
) -> RunSummary:
    """Fold a run's events into a `RunSummary`."""
    summary = RunSummary(run_id=run_id, succeeded=succeeded, seconds=seconds)
    for event in events:
        if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
            _count_materialization(summary, event)
        elif event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.asset_check_evaluation_data
            if evaluation.passed:
                summary.checks_passed += 1
            elif evaluation.severity == AssetCheckSeverity.WARN:
                summary.checks_warned += 1
            else:
                summary.checks_failed += 1
                summary.failures.append(
                    f"check {evaluation.check_name} on {evaluation.asset_key.to_user_string()}"
                )
        elif event.event_type == DagsterEventType.STEP_FAILURE:
            summary.failures.append(f"step {event.step_key}: {_failure_message(event)}")
    return summary


def _count_materialization(summary: RunSummary, event: DagsterEvent) -> None:
    key = event.asset_key
    if key is None:
        return
    metadata = event.step_materialization_data.materialization.metadata
    if key == BRONZE_REQUESTS:
        summary.load = {name: value.value for name, value in metadata.items()}
    elif key == PUBLISH_KEY and "published_at" in metadata:
        summary.published_at = str(metadata["published_at"].value)
    elif key.path[0] in MODEL_LAYERS:
        summary.models_built += 1


def _failure_message(event: DagsterEvent) -> str:
    data = event.step_failure_data
    if data.user_failure_data is not None and data.user_failure_data.description:
        return data.user_failure_data.description
    if data.error is not None:
        return data.error.message.strip()
    return "failed (see the run's logs in `mmds ui`)"

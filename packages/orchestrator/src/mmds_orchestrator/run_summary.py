"""What a pipeline run did, read from its Dagster events, in the words of `mmds run`."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from dagster import AssetCheckSeverity, DagsterEvent, DagsterEventType, ExecuteInProcessResult

from mmds_orchestrator.defs.ingest.assets import BRONZE_REQUESTS
from mmds_orchestrator.defs.publish.assets import PUBLISH_KEY

MODEL_LAYERS = {"silver", "gold"}
OUT_OF_DATE_TAG = "mmds/dbt_out_of_date"


@dataclass
class RunSummary:
    """Counts and outcome of one `mmds run`: its ingest run, and its rebuild run if any."""

    run_ids: list[str]
    succeeded: bool
    seconds: float
    load: dict[str, object] = field(default_factory=dict)
    models_built: int = 0
    dbt_skipped: str | None = None
    dbt_out_of_date: str | None = None
    checks_passed: int = 0
    checks_warned: int = 0
    checks_failed: int = 0
    published_at: str | None = None
    publish_skipped: str | None = None
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """The run succeeded and no error-severity check failed."""
        return self.succeeded and self.checks_failed == 0

    def lines(self) -> list[str]:
        """The summary as printed by `mmds run`."""
        return [
            f"rows loaded:    {self._load_line()}",
            f"models built:   {self.models_built}"
            + (f" (dbt skipped: {self.dbt_skipped})" if self.dbt_skipped else "")
            + (f" (dbt out of date: {self.dbt_out_of_date})" if self.dbt_out_of_date else ""),
            f"checks:         {self.checks_passed} passed, {self.checks_warned} warned, "
            f"{self.checks_failed} failed",
            f"published at:   {self._publish_line()}",
            f"seconds:        {self.seconds:.1f}",
            f"dagster run:    {', '.join(self.run_ids)}",
            *(f"FAILED: {failure}" for failure in self.failures),
        ]

    def _load_line(self) -> str:
        load = self.load
        if not load:
            return "none (ingest did not complete)"
        if load.get("status") == "skipped":
            return f"none: the portal has not changed (load {load.get('load_id', '?')} skipped)"
        return (
            f"{load.get('rows_received', 0)} received, {load.get('rows_inserted', 0)} inserted, "
            f"{load.get('rows_updated', 0)} updated ({load.get('mode', '?')} load "
            f"{load.get('load_id', '?')}, {load.get('status', '?')})"
        )

    def _publish_line(self) -> str:
        if self.published_at:
            return self.published_at
        if self.publish_skipped:
            return f"not published: {self.publish_skipped} (serving file unchanged)"
        if self.dbt_skipped and self.succeeded:
            return "not published: nothing changed (serving file unchanged)"
        return "not published (serving file unchanged)"


def summarize(results: Sequence[ExecuteInProcessResult], seconds: float) -> RunSummary:
    """Fold the events of one `mmds run`'s Dagster runs into a `RunSummary`."""
    summary = RunSummary(
        run_ids=[r.run_id for r in results],
        succeeded=all(r.success for r in results),
        seconds=seconds,
    )
    for result in results:
        for event in result.all_events:
            _count(summary, event)
        summary.dbt_out_of_date = result.dagster_run.tags.get(OUT_OF_DATE_TAG) or (
            summary.dbt_out_of_date
        )
    if len(results) == 1 and summary.succeeded:
        summary.dbt_skipped = "bronze unchanged, and dbt is up to date"
    return summary


def _count(summary: RunSummary, event: DagsterEvent) -> None:
    if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
        _count_materialization(summary, event)
    elif event.event_type == DagsterEventType.ASSET_OBSERVATION:
        observation = event.asset_observation_data.asset_observation
        metadata = {name: value.value for name, value in observation.metadata.items()}
        if observation.asset_key == BRONZE_REQUESTS:
            summary.load = metadata
        elif observation.asset_key == PUBLISH_KEY:
            summary.publish_skipped = str(metadata.get("reason", "nothing to publish"))
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

"""A dbt build whose event stream breaks is stopped at once and releases the warehouse."""

import gc
import time

import duckdb
import pytest
from dagster_dbt import DbtCliResource
from mmds_orchestrator.defs.transform.stream import stream_events
from mmds_transform import dbt_executable


class StreamBroke(RuntimeError):
    """Stands for any failure while dagster-dbt turns dbt's output into Dagster events."""


# dagster-dbt's own reader of dbt's output, left half-read here, complains when collected
# (collected before the test ends, so that the complaint is filtered here and nowhere else).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_dbt_is_stopped_and_the_warehouse_unlocked_when_the_event_stream_breaks(dbt_probe):
    # dbt as the pipeline starts it
    dbt = DbtCliResource(project_dir=str(dbt_probe.project), dbt_executable=str(dbt_executable()))
    parsed = dbt_probe.scratch / "parsed"
    dbt.cli(["parse"], target_path=parsed).wait()
    invocation = dbt.cli(
        ["build"], target_path=dbt_probe.scratch / "build", manifest=parsed / "manifest.json"
    )
    events = invocation.stream()

    def breaking_after_the_first_event():
        yield next(iter(events))  # `quick` is built; dbt now holds the warehouse in `slow`
        raise StreamBroke("the event stream broke")

    invocation.stream = breaking_after_the_first_event
    invocation.termination_timeout_seconds = 5  # dbt's grace for SIGINT, then SIGTERM
    started = time.monotonic()
    with pytest.raises(StreamBroke):
        for _ in stream_events(invocation):
            pass

    assert invocation.process.poll() is not None, "dbt is still running"
    assert time.monotonic() - started < 30, "dbt was waited for instead of stopped"
    with duckdb.connect(str(dbt_probe.warehouse)) as con:  # raises if dbt still holds it
        assert con.execute("select id from main.quick").fetchall() == [(1,)]
    events = None
    gc.collect()

"""Runs take turns on the warehouse: two launched at once both succeed, a killed one blocks
nothing."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter

pytestmark = pytest.mark.slow


def _step_windows(instance: DagsterInstance, run_id: str) -> list[tuple[float, float]]:
    """(start, end) of every step of a run that executed."""
    starts: dict[str, float] = {}
    windows = []
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type == DagsterEventType.STEP_START:
            starts[event.step_key] = entry.timestamp
        elif event.event_type in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
            windows.append((starts[event.step_key], entry.timestamp))
    return windows


def test_two_runs_launched_at_once_both_succeed_in_turn(data_dir, sample_rows):
    mmds = Path(sys.executable).with_name("mmds")
    runs = [
        subprocess.Popen(
            [str(mmds), "run", "--sample"],
            env=dict(os.environ),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=600)[0] for run in runs]

    for run, output in zip(runs, outputs, strict=True):
        assert run.returncode == 0, output[-3000:]
        assert "Conflicting lock" not in output
    with DagsterInstance.from_config(str(data_dir / "dagster_home")) as instance:
        finished = instance.get_runs()
        # one run loads and builds; the other may find dbt not yet built and rebuild it
        assert len(finished) >= 2
        assert {run.status for run in finished} == {DagsterRunStatus.SUCCESS}
        windows = [_step_windows(instance, run.run_id) for run in finished]
    # The warehouse pool has one slot: no step of one run overlaps a step of another.
    for index, steps in enumerate(windows):
        for other in windows[index + 1 :]:
            for start, end in steps:
                for other_start, other_end in other:
                    assert end <= other_start or other_end <= start
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        counts = con.execute(
            "select count(*), count(distinct _record_key) from bronze.service_requests"
        ).fetchone()
    assert counts == (sample_rows, sample_rows)


def test_a_run_killed_while_dbt_holds_the_warehouse_does_not_block_the_next(data_dir):
    mmds = Path(sys.executable).with_name("mmds")
    dbt_log = data_dir / "dbt" / "target" / "dbt.log"
    logged_before = dbt_log.stat().st_mtime if dbt_log.exists() else 0.0
    killed = subprocess.Popen(
        [str(mmds), "run", "--sample"],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while not (dbt_log.exists() and dbt_log.stat().st_mtime > logged_before):
        assert killed.poll() is None, "the run ended before dbt started"
        assert time.monotonic() < deadline, "dbt never started"
        time.sleep(0.05)
    os.killpg(killed.pid, signal.SIGKILL)  # the run and its dbt, like kill -9
    killed.wait()

    after = subprocess.run(
        [str(mmds), "run", "--sample"],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert after.returncode == 0, after.stdout[-3000:] + after.stderr[-3000:]
    with DagsterInstance.from_config(str(data_dir / "dagster_home")) as instance:
        failed = instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.FAILURE]))
        assert len(failed) == 1
        messages = [
            entry.dagster_event.message or ""
            for entry in instance.all_logs(failed[0].run_id)
            if entry.dagster_event is not None
        ]
    assert any("is gone" in message for message in messages), messages

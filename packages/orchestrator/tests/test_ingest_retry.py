"""The ingest step adds no retries to mmds-ingest's own budget: a failed load fails the step
once, with the library's message on one line. Only a warehouse locked by another process is
tried once more, a little later."""

import subprocess
import sys
import time

import duckdb
from dagster import DagsterEventType, materialize
from mmds_ingest.fake_portal import FakePortal
from mmds_orchestrator.defs.ingest.assets import LOCKED_RETRY_SECONDS, ingest_portal
from mmds_orchestrator.instance import open_instance

HOLD_THE_LOCK = """
import sys, time, duckdb
with duckdb.connect(sys.argv[1]) as con:
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _config(portal_url: str) -> dict:
    return {"ops": {"ingest_portal": {"config": {"portal_url": portal_url}}}}


def _retries(result) -> list:
    return [e for e in result.all_events if e.event_type == DagsterEventType.STEP_UP_FOR_RETRY]


def test_a_portal_that_stays_down_fails_the_step_once_without_a_dagster_retry(
    data_dir, monkeypatch
):
    monkeypatch.setenv("MMDS_RETRY_ATTEMPTS", "2")  # the library's own budget: two attempts
    with FakePortal(rows=500, seed=3) as portal:
        portal.inject("server_error", times=None, statuses=(503,))
        with open_instance(data_dir / "dagster_home") as instance:
            result = materialize(
                [ingest_portal],
                run_config=_config(portal.url),
                instance=instance,
                raise_on_error=False,
            )
        fired = portal.faults_fired

    assert not result.success
    assert fired == {"server_error": 2}, "Dagster retried on top of the library"
    assert _retries(result) == []
    (failure,) = [e for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE]
    description = failure.step_failure_data.user_failure_data.description
    assert description.startswith("ingest failed: ")
    assert "503" in description
    assert "\n" not in description


def test_a_permanent_portal_error_fails_at_once_with_the_librarys_message(data_dir):
    with FakePortal(rows=100, seed=1) as portal, open_instance(data_dir / "dagster_home") as dg:
        portal.inject("server_error", times=None, statuses=(403,))  # a 4xx: waiting fixes nothing
        result = materialize(
            [ingest_portal], run_config=_config(portal.url), instance=dg, raise_on_error=False
        )

    assert not result.success
    assert _retries(result) == []
    (failure,) = [e for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE]
    description = failure.step_failure_data.user_failure_data.description
    assert description.startswith("ingest failed: ")
    assert "HTTP 403" in description


def test_a_warehouse_locked_by_another_process_is_tried_once_more_later(data_dir):
    data_dir.mkdir(parents=True, exist_ok=True)
    warehouse = data_dir / "warehouse.duckdb"
    holder = subprocess.Popen(
        # long enough for the first attempt to meet the lock on a busy machine, released well
        # before the retry LOCKED_RETRY_SECONDS later
        [sys.executable, "-c", HOLD_THE_LOCK, str(warehouse), "7"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    started = time.monotonic()
    with FakePortal(rows=500, seed=3) as portal, open_instance(data_dir / "dagster_home") as dg:
        result = materialize([ingest_portal], run_config=_config(portal.url), instance=dg)
    holder.wait(timeout=30)

    assert result.success
    (retry,) = _retries(result)
    assert "lock" in retry.event_specific_data.error.to_string().lower()
    assert time.monotonic() - started >= LOCKED_RETRY_SECONDS
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from bronze.service_requests").fetchone() == (500,)

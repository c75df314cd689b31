"""SIGINT or SIGTERM stops a real `mmds run` within 2 s at every stage, publishes nothing, leaves
no dbt behind, says where it stopped, and the next run recovers."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from mmds_ingest.fake_portal import FakePortal

pytestmark = pytest.mark.slow

MMDS = Path(sys.executable).with_name("mmds")
# The product's promise, measured from the signal to the process's end.
STOP_SECONDS = 2.0


@pytest.mark.parametrize(
    ("where", "signum", "cue", "delay"),
    [
        ("while starting", signal.SIGINT, "mmds run: data dir", 0.3),
        ("during ingest", signal.SIGTERM, "ingest   started", 1.0),
        ("during dbt", signal.SIGINT, "dbt      started", 1.5),
        ("during dbt", signal.SIGTERM, "dbt      started", 3.0),
        ("during publish", signal.SIGINT, "publish  started", 0.0),
    ],
    ids=["starting-SIGINT", "ingest-SIGTERM", "dbt-SIGINT", "dbt-SIGTERM", "publish-SIGINT"],
)
def test_a_signal_stops_the_run_within_2_s_and_the_next_run_recovers(
    published_copy, portal_options, run_env, mmds, fingerprint, where, signum, cue, delay
):
    data_dir = published_copy
    with FakePortal(**portal_options) as portal:
        portal.advance(days=2)  # something to load, build and publish
        if where == "during ingest":  # the export never starts: the load waits on its socket
            portal.inject("slow_first_byte", times=None, endpoint="exports", seconds=60)
        env = run_env(data_dir, portal.url)
        before = fingerprint(data_dir)

        run = mmds("run", env=env)
        run.wait_for(cue)
        time.sleep(delay)  # into the stage
        seconds = run.signal(signum)
        lines = run.finish()

        assert run.process.returncode == 128 + signum, lines
        assert seconds < STOP_SECONDS, f"{seconds:.2f} s"
        assert lines[-2] == (
            f"stopped by {signal.Signals(signum).name} {where}: nothing was published, "
            "serving.duckdb is as it was; run `mmds run` again to resume"
        ), lines
        log = Path(lines[-1].removeprefix("log").strip())
        assert log.parent == data_dir / "logs"
        assert log.exists()
        assert not any("Traceback" in line for line in lines), lines
        assert run.leftovers() == [], "dbt (or another child) outlived mmds run"
        with duckdb.connect(str(data_dir / "warehouse.duckdb")):  # nobody holds it any more
            pass
        after = fingerprint(data_dir)
        assert after[0] == before[0], "the serving file changed"
        if where in {"while starting", "during ingest"}:
            assert after == before, "the warehouse changed"

        portal.clear_faults()
        again = subprocess.run(
            [str(MMDS), "run"], env=env, capture_output=True, text=True, timeout=600, check=False
        )

    assert again.returncode == 0, again.stdout + again.stderr
    assert "published  20" in again.stdout
    assert fingerprint(data_dir)[0] != before[0]

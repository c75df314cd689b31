"""kill -9 of a loading process at random moments never corrupts the warehouse: it is left as
before or with the whole load committed, and the next run completes the work."""

import os
import random
import subprocess
import sys
import time

import duckdb
import pytest
from mmds_ingest import IngestSettings, run_load
from mmds_ingest.fake_portal import FakePortal

TRIALS = 10
LOADER = (
    "import sys; from mmds_ingest import IngestSettings, run_load; "
    "run_load(IngestSettings(), full_refresh=sys.argv[1] == 'full')"
)


def _snapshot(path) -> tuple:
    with duckdb.connect(str(path), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        if not con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'bronze'"
        ).fetchone()[0]:
            return ((), (), ())
        return (
            tuple(
                con.execute(
                    "SELECT _record_key, _row_hash FROM bronze.service_requests ORDER BY 1"
                ).fetchall()
            ),
            tuple(
                con.execute(
                    "SELECT load_id, status FROM bronze._loads ORDER BY started_at"
                ).fetchall()
            ),
            tuple(con.execute("SELECT cursor, load_id FROM bronze._state").fetchall()),
        )


def _assert_consistent(path) -> None:
    with duckdb.connect(str(path), read_only=True) as con:
        rows, keys, newest = con.execute(
            "SELECT count(*), count(DISTINCT _record_key), max(last_modified_timestamp) "
            "FROM bronze.service_requests"
        ).fetchone()
        net, last_load = con.execute(
            "SELECT sum(rows_inserted - rows_deleted), arg_max(load_id, started_at) "
            "FROM bronze._loads WHERE status = 'succeeded'"
        ).fetchone()
        state = con.execute("SELECT cursor, load_id FROM bronze._state").fetchall()
    assert rows == keys  # no duplicates
    assert rows == (net or 0)  # every committed insert is there, nothing else
    assert state == ([(newest, last_load)] if last_load else [])  # cursor covers the data


@pytest.mark.slow
def test_kill_9_at_random_moments(tmp_path):
    data_dir = tmp_path / "data"
    warehouse = data_dir / "warehouse.duckdb"
    rng = random.Random(20261130)  # noqa: S311 -- reproducible kill moments, not secrets
    outcomes = {"unchanged": 0, "committed": 0}
    with FakePortal(rows=8_000, seed=5) as portal:
        env = os.environ | {"MMDS_DATA_DIR": str(data_dir), "MMDS_PORTAL_URL": portal.url}
        started = time.monotonic()
        subprocess.run([sys.executable, "-c", LOADER, "full"], env=env, check=True)
        whole = time.monotonic() - started
        for trial in range(TRIALS):
            portal.advance(days=1)
            before = _snapshot(warehouse)
            mode = "full" if trial % 3 == 0 else "incremental"
            loader = subprocess.Popen([sys.executable, "-c", LOADER, mode], env=env)
            time.sleep(rng.uniform(0.0, whole * 1.1))
            loader.kill()
            loader.wait()
            after = _snapshot(warehouse)
            _assert_consistent(warehouse)
            if after == before:
                outcomes["unchanged"] += 1
            else:
                outcomes["committed"] += 1
                assert len(after[1]) == len(before[1]) + 1  # exactly one whole load more

        settings = IngestSettings(data_dir=data_dir, portal_url=portal.url)
        run_load(settings)  # the next run completes the work
        check = run_load(settings, full_refresh=True)
    _assert_consistent(warehouse)
    assert (check.rows_inserted, check.rows_updated) == (0, 0)
    assert not (data_dir / "tmp").exists()  # a killed load's export is cleaned up
    print(f"whole load {whole:.2f}s, outcomes {outcomes}")
    assert outcomes["unchanged"] > 0  # the kills did land inside loads

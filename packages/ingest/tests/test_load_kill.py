"""kill -9 of a loading process at random moments never corrupts the warehouse: it is left as
before or with the whole load committed, and the next run completes the work."""

import os
import sys
from contextlib import closing
from pathlib import Path

import duckdb
import pytest
from mmds_ingest import IngestSettings, run_load
from mmds_ingest.fake_portal import FakePortal

sys.path.insert(0, str(Path(__file__).parent))
from load_kills import Fetch, assert_consistent, kill_loads_midway

TRIALS = 10


def _fetcher(path: Path) -> Fetch:
    """Run one query on the warehouse file (read-only, opened and closed around it)."""

    def fetch(sql: str) -> list[tuple]:
        with closing(duckdb.connect(str(path), read_only=True)) as con:
            con.execute("SET TimeZone = 'UTC'")
            return con.execute(sql).fetchall()

    return fetch


@pytest.mark.slow
def test_kill_9_at_random_moments(tmp_path):
    data_dir = tmp_path / "data"
    fetch = _fetcher(data_dir / "warehouse.duckdb")
    with FakePortal(rows=8_000, seed=5) as portal:
        env = os.environ | {"MMDS_DATA_DIR": str(data_dir), "MMDS_PORTAL_URL": portal.url}
        outcomes = kill_loads_midway(portal, env, fetch, trials=TRIALS, seed=20261130)
        settings = IngestSettings(data_dir=data_dir, portal_url=portal.url)
        run_load(settings)  # the next run completes the work
        check = run_load(settings, full_refresh=True)
    assert_consistent(fetch)
    assert (check.rows_inserted, check.rows_updated) == (0, 0)
    assert not (data_dir / "tmp").exists()  # a killed load's export is cleaned up
    print(outcomes)
    assert outcomes.unchanged > 0  # the kills did land inside loads

"""`mmds run` with `MMDS_WAREHOUSE_URL` on a real PostgreSQL server gives the same answers as on
the DuckDB file for the same portal: every gold table (EXCEPT ALL both ways, types normalised)
and the published serving files, after a first run and after incremental cycles with new,
closed, edited and deleted requests.

The server is the session's (tests/postgres_server.py); the test has its own database.
"""

import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from mmds_ingest.fake_portal import FakePortal

from tests.engine_rows import duckdb_tables, except_all, postgres_tables

pytestmark = pytest.mark.slow

MMDS = str(Path(sys.executable).with_name("mmds"))
# Before November 2026: from then on, DuckDB's time zone data (ICU) and the system's (which
# PostgreSQL reads) disagree on America/Vancouver's offset (README, "Moving to a server").
PORTAL_END = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


def _differences(first: dict[str, Counter], second: dict[str, Counter]) -> dict:
    """Per table that differs (EXCEPT ALL both ways): how many rows are only on each side, and
    the first such pair of rows with the same first column, as the values that differ."""
    assert set(first) == set(second)
    found = {}
    for name in first:
        only_first, rows_only_second = except_all(first[name], second[name])
        only_second = {row[0]: row for row in rows_only_second}
        if not only_first and not only_second:
            continue
        pair = next(
            (
                [
                    (i, a, b)
                    for i, (a, b) in enumerate(zip(row, only_second[row[0]], strict=True))
                    if a != b
                ]
                for row in only_first
                if row[0] in only_second
            ),
            None,
        )
        found[name] = (len(only_first), len(only_second), pair, only_first[:2])
    return found


def _run(env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [MMDS, "run"], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def test_the_same_gold_and_serving_file_on_both_engines(tmp_path, postgres_url):
    with FakePortal(rows=3_000, seed=17, end=PORTAL_END) as portal:
        base = os.environ | {
            "MMDS_PORTAL_URL": portal.url,
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DAGSTER_DISABLE_TELEMETRY": "true",
        }
        for name in ("MMDS_WAREHOUSE_URL", "DAGSTER_HOME", "MMDS_DBT_PROJECT_DIR"):
            base.pop(name, None)
        on_duckdb = base | {"MMDS_DATA_DIR": str(tmp_path / "duckdb")}
        on_postgres = base | {
            "MMDS_DATA_DIR": str(tmp_path / "postgres"),
            "MMDS_WAREHOUSE_URL": postgres_url,
        }
        for env in (on_duckdb, on_postgres):
            # The boundaries through mmds-ingest: `mmds run` does not load them yet.
            subprocess.run(
                [str(Path(sys.executable).with_name("mmds-ingest")), "load"],
                env=env,
                capture_output=True,
                check=True,
                timeout=300,
            )
        for cycle in range(2):
            if cycle:
                change = portal.advance(days=10)
                assert change.added and change.closed and change.edited
                portal.delete_records(4)
            for env in (on_duckdb, on_postgres):
                _run(env)
            duck_dir, pg_dir = tmp_path / "duckdb", tmp_path / "postgres"
            assert not (pg_dir / "warehouse.duckdb").exists()  # nothing went to a DuckDB file
            gold = duckdb_tables(duck_dir / "warehouse.duckdb", "gold")
            assert len(gold) >= 9 and gold["fct_service_requests"]
            assert _differences(gold, postgres_tables(postgres_url, "gold")) == {}
            for schema in ("gold", "meta"):
                served = duckdb_tables(duck_dir / "serving.duckdb", schema)
                other = duckdb_tables(pg_dir / "serving.duckdb", schema)
                if schema == "meta":  # each engine's own loads, instants and counts of layers
                    for table in ("loads", "publish", "layer_row_counts"):
                        assert served.pop(table) and other.pop(table)
                assert _differences(served, other) == {}
        # The serving files count the same rows in every layer.
        counts = [
            duckdb_tables(path / "serving.duckdb", "meta")["layer_row_counts"]
            for path in (duck_dir, pg_dir)
        ]
        assert counts[0] == counts[1]


def test_two_runs_at_once_against_one_server_take_turns(tmp_path, postgres_url):
    """Two `mmds run` from two data dirs (two machines) on one warehouse and one Dagster
    storage: the shared `warehouse` pool makes them take turns, both succeed, and bronze holds
    each record once."""
    storage = postgres_url.replace("postgresql://", "postgresql+psycopg2://")
    with FakePortal(rows=2_000, seed=23, end=PORTAL_END) as portal:
        base = os.environ | {
            "MMDS_PORTAL_URL": portal.url,
            "MMDS_WAREHOUSE_URL": postgres_url,
            "MMDS_DAGSTER_STORAGE_URL": storage,
            "MMDS_LOCK_WAIT_SECONDS": "300",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DAGSTER_DISABLE_TELEMETRY": "true",
        }
        for name in ("DAGSTER_HOME", "MMDS_DBT_PROJECT_DIR"):
            base.pop(name, None)
        subprocess.run(
            [str(Path(sys.executable).with_name("mmds-ingest")), "load"],
            env=base | {"MMDS_DATA_DIR": str(tmp_path / "first")},
            capture_output=True,
            check=True,
            timeout=300,
        )
        portal.advance(days=5)
        runs = [
            subprocess.Popen(
                [MMDS, "run"],
                env=base | {"MMDS_DATA_DIR": str(tmp_path / name)},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for name in ("first", "second")
        ]
        outputs = [run.communicate(timeout=900)[0] for run in runs]
        assert [run.returncode for run in runs] == [0, 0], "\n".join(o[-3000:] for o in outputs)
        with psycopg.connect(postgres_url) as con:
            rows, keys = con.execute(
                "SELECT count(*), count(DISTINCT _record_key) FROM bronze.service_requests"
            ).fetchone()
            recorded = con.execute("SELECT count(DISTINCT run_id) FROM runs").fetchone()[0]
            assert rows == keys == portal.total_count()
            assert recorded >= 2  # both runs in the one shared history
    for name in ("first", "second"):
        assert (tmp_path / name / "serving.duckdb").exists()
        assert not list((tmp_path / name / "dagster_home").glob("**/*.db"))

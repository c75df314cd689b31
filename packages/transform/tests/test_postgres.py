"""The same dbt project on PostgreSQL: every gold table equals DuckDB's, before and after an
incremental cycle with new, changed and deleted requests and one hostile record of each kind.

A real PostgreSQL server is started for the session (tests/postgres_server.py). Bronze is
loaded into DuckDB by mmds-ingest from the fake portal, then copied into PostgreSQL with COPY;
each engine then runs the same plain `dbt build`.
"""

import json
import math
import sys
from collections import Counter
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg
import pytest
from mmds_transform import dbt_target_dir, run_dbt

sys.path.insert(0, str(Path(__file__).parent))
import hostile_bronze
import postgres_warehouse
import seeded_warehouse

pytestmark = pytest.mark.slow

ROWS = 1_000


@dataclass(frozen=True)
class Comparison:
    """One state of the portal, built on both engines."""

    duckdb_build: dict
    postgres_build: dict
    tables: list[str]
    # table -> (rows only on DuckDB, rows only on PostgreSQL), as EXCEPT ALL would give them
    differences: dict[str, tuple[list, list]]
    row_counts: dict[str, int]


def _normalised(value):
    """A value as both engines should agree on it: instants in UTC, numbers as floats to 12
    significant digits (percentiles are computed by different code), the rest as is."""
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, Decimal | float) and not isinstance(value, bool):
        return float(f"{float(value):.12g}") if math.isfinite(value) else float(value)
    return value


def _rows_duckdb(warehouse: Path, table: str) -> Counter:
    with closing(duckdb.connect(str(warehouse), read_only=True)) as con:
        con.execute("set TimeZone = 'UTC'")
        rows = con.execute(f"select * from gold.{table}").fetchall()  # noqa: S608
    return Counter(tuple(_normalised(v) for v in row) for row in rows)


def _rows_postgres(url: str, table: str) -> Counter:
    with psycopg.connect(url) as con:
        rows = con.execute(f"select * from gold.{table}").fetchall()  # noqa: S608
    return Counter(tuple(_normalised(v) for v in row) for row in rows)


def _build(data_dir: Path, url: str | None = None) -> dict:
    run_dbt(["build"], data_dir, warehouse_url=url)
    return json.loads((dbt_target_dir(data_dir) / "run_results.json").read_text("utf-8"))


def _compare(duck_dir: Path, pg_dir: Path, url: str) -> Comparison:
    postgres_warehouse.copy_bronze(duck_dir / "warehouse.duckdb", url)
    duckdb_build = _build(duck_dir)
    postgres_build = _build(pg_dir, url)
    with closing(duckdb.connect(str(duck_dir / "warehouse.duckdb"), read_only=True)) as con:
        tables = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables"
                " where table_schema = 'gold' order by 1"
            ).fetchall()
        ]
    differences, counts = {}, {}
    for table in tables:
        on_duckdb = _rows_duckdb(duck_dir / "warehouse.duckdb", table)
        on_postgres = _rows_postgres(url, table)
        differences[table] = (
            list((on_duckdb - on_postgres).elements())[:5],
            list((on_postgres - on_duckdb).elements())[:5],
        )
        counts[table] = on_duckdb.total()
    return Comparison(duckdb_build, postgres_build, tables, differences, counts)


@pytest.fixture(scope="module")
def comparisons(postgres_server_url, tmp_path_factory) -> dict[str, Comparison]:
    duck_dir = tmp_path_factory.mktemp("duckdb-warehouse")
    pg_dir = tmp_path_factory.mktemp("postgres-artefacts")
    portal = seeded_warehouse.start_portal(rows=ROWS, seed=21)
    try:
        seeded_warehouse.load_bronze(duck_dir, portal, full_refresh=True)
        first = _compare(duck_dir, pg_dir, postgres_server_url)
        advance = portal.advance(days=20)
        assert advance.added and advance.closed and advance.edited and advance.deleted
        seeded_warehouse.load_bronze(duck_dir, portal)
        seeded_warehouse.load_bronze(duck_dir, portal, full_refresh=True)
    finally:
        portal.stop()
    # One record of every hostile kind: the quarantine and the treatments run on both engines.
    hostile_bronze.insert_rows(duck_dir, hostile_bronze.hostile_mix(), "hostile-load")
    return {"full": first, "incremental": _compare(duck_dir, pg_dir, postgres_server_url)}


def _statuses(build: dict) -> Counter:
    return Counter(result["status"] for result in build["results"])


@pytest.mark.parametrize("state", ["full", "incremental"])
def test_every_node_builds_on_both_engines(comparisons, state):
    comparison = comparisons[state]
    for build in (comparison.duckdb_build, comparison.postgres_build):
        assert not {"error", "fail", "runtime error"} & set(_statuses(build))
    # The same nodes ran: models, seeds, snapshot, data and unit tests, rebuild proofs included.
    ids = [
        {r["unique_id"] for r in b["results"]}
        for b in (comparison.duckdb_build, comparison.postgres_build)
    ]
    assert ids[0] == ids[1]
    assert "test.mmds.assert_fct_service_requests_matches_full_rebuild" in ids[1]


@pytest.mark.parametrize("state", ["full", "incremental"])
def test_every_gold_table_is_the_same_on_both_engines(comparisons, state):
    comparison = comparisons[state]
    assert len(comparison.tables) == 9
    assert comparison.differences == {table: ([], []) for table in comparison.tables}
    assert comparison.row_counts["fct_service_requests"] > ROWS * 0.9
    assert comparison.row_counts["dim_local_areas"] == 23


def test_the_incremental_cycle_changed_gold(comparisons):
    before, after = comparisons["full"].row_counts, comparisons["incremental"].row_counts
    assert after["fct_quarantined_requests"] > before["fct_quarantined_requests"]
    assert after["fct_request_status_changes"] > before["fct_request_status_changes"]
    assert after["agg_demand_features_daily"] > before["agg_demand_features_daily"]

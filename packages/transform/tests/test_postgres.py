"""The same dbt project on PostgreSQL: every gold table equals DuckDB's, before and after an
incremental cycle with new, changed and deleted requests and one hostile record of each kind.

A real PostgreSQL server is started for the session (tests/postgres_server.py). Bronze is
loaded into DuckDB by mmds-ingest from the fake portal, then copied into PostgreSQL with COPY;
each engine then runs the same plain `dbt build`.
"""

import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from mmds_transform import dbt_target_dir, run_dbt

from tests.engine_rows import duckdb_tables, except_all, postgres_tables

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


def _build(data_dir: Path, url: str | None = None) -> dict:
    run_dbt(["build"], data_dir, warehouse_url=url)
    return json.loads((dbt_target_dir(data_dir) / "run_results.json").read_text("utf-8"))


def _compare(duck_dir: Path, pg_dir: Path, url: str) -> Comparison:
    postgres_warehouse.copy_bronze(duck_dir / "warehouse.duckdb", url)
    duckdb_build = _build(duck_dir)
    postgres_build = _build(pg_dir, url)
    on_duckdb = duckdb_tables(duck_dir / "warehouse.duckdb", "gold")
    on_postgres = postgres_tables(url, "gold")
    tables = sorted(on_duckdb)
    differences = {
        table: tuple(rows[:5] for rows in except_all(on_duckdb[table], on_postgres[table]))
        for table in tables
    }
    counts = {table: on_duckdb[table].total() for table in tables}
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

"""One seeded warehouse per test session, taken through the life a real warehouse has.

dbt's start-up dominates small runs (several seconds a command), so the session runs dbt five
times and the tests assert many things against the results:

0. ``dbt build`` on an empty bronze (as on a fresh clone before any load);
1. the fake portal serves generated data; mmds-ingest loads it; ``dbt build`` (first build);
2. the portal moves on (new, closed, edited and deleted requests); an incremental load, then a
   full load (both reconcile deletions with the portal); ``dbt build`` again (incremental
   staging and fact, new snapshot versions); the fact is copied aside;
3. ``dbt build --full-refresh`` of the fact, to compare with the incremental result;
4. ``dbt docs generate``.
"""

import sys
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from mmds_ingest import LoadResult
from mmds_ingest.bronze import ensure_schema
from mmds_ingest.fake_portal import AdvanceSummary
from mmds_transform import dbt_target_dir, run_dbt

sys.path.insert(0, str(Path(__file__).parent))
import seeded_warehouse

ROWS = 2_000
SEED = 11


@dataclass(frozen=True)
class WarehouseHistory:
    """The results of every step the session took the warehouse through."""

    data_dir: Path
    empty_build: dict
    first_load: LoadResult
    first_build: dict
    advance: AdvanceSummary
    second_load: LoadResult
    reconciling_load: LoadResult
    second_build: dict
    second_fact_sql: str
    full_refresh_build: dict

    @property
    def warehouse(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def target_dir(self) -> Path:
        return dbt_target_dir(self.data_dir)

    def query(self, sql: str, parameters: list | None = None) -> list[tuple]:
        """Run a read-only query against the warehouse."""
        with closing(duckdb.connect(str(self.warehouse), read_only=True)) as con:
            con.execute("set TimeZone = 'UTC'")
            return con.execute(sql, parameters).fetchall()


@pytest.fixture(scope="session")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WarehouseHistory]:
    data_dir = tmp_path_factory.mktemp("transform-warehouse")
    with closing(duckdb.connect(str(data_dir / "warehouse.duckdb"))) as con:
        ensure_schema(con)
    seeded_warehouse.load_local_area_boundaries(data_dir, rows=False)
    empty_build = seeded_warehouse.dbt_build(data_dir)
    portal = seeded_warehouse.start_portal(rows=ROWS, seed=SEED)
    try:
        first_load = seeded_warehouse.load_bronze(data_dir, portal, full_refresh=True)
        first_build = seeded_warehouse.dbt_build(data_dir)
        advance = portal.advance(days=20)
        second_load = seeded_warehouse.load_bronze(data_dir, portal)
        reconciling_load = seeded_warehouse.load_bronze(data_dir, portal, full_refresh=True)
    finally:
        portal.stop()
    second_build = seeded_warehouse.dbt_build(data_dir)
    fact_sql = dbt_target_dir(data_dir) / "run/mmds/models/marts/fct_service_requests.sql"
    second_fact_sql = fact_sql.read_text(encoding="utf-8")
    with closing(duckdb.connect(str(data_dir / "warehouse.duckdb"))) as con:
        con.execute("create table main.fct_after_incremental as from gold.fct_service_requests")
    full_refresh_build = seeded_warehouse.dbt_build(
        data_dir, "--full-refresh", "--select", "fct_service_requests"
    )
    run_dbt(["docs", "generate", "--no-compile"], data_dir)  # the build compiled everything
    yield WarehouseHistory(
        data_dir=data_dir,
        empty_build=empty_build,
        first_load=first_load,
        first_build=first_build,
        advance=advance,
        second_load=second_load,
        reconciling_load=reconciling_load,
        second_build=second_build,
        second_fact_sql=second_fact_sql,
        full_refresh_build=full_refresh_build,
    )

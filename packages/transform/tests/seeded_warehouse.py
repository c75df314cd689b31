"""A warehouse whose bronze holds the project's own generated data, loaded the real way.

The fake portal (mmds-ingest's real HTTP server with its data generator) serves a generated
dataset with the source's quirks on a loopback port; mmds-ingest's ``run_load`` loads it into
``<data-dir>/warehouse.duckdb`` exactly as it loads the City's portal; the 22 real local-area
boundaries join it in bronze (unless ingest loaded them itself); then ``dbt build`` runs the
whole project against it. Used by this package's tests and by CI's dbt job:

    uv run python packages/transform/tests/seeded_warehouse.py --data-dir /tmp/mmds-ci [--rows N]

Exit status 0 only if the load and every dbt node (models, seeds, snapshot, tests) succeeded.
"""

import argparse
import hashlib
import json
import sys
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import mmds_ingest
from mmds_ingest import IngestError, IngestSettings, LoadResult, run_load
from mmds_ingest.fake_portal import FakePortal
from mmds_transform import DbtCommandError, dbt_target_dir, run_dbt

# A fixed instant in the past: the generated data is the same on every run, and no generated
# timestamp is ever later than the clock of the machine running the tests.
PORTAL_END = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
DEFAULT_ROWS = 2_000
DEFAULT_SEED = 7


@dataclass(frozen=True)
class SeededBuild:
    """What a seeded build produced: the load's result and dbt's run results."""

    data_dir: Path
    load: LoadResult
    run_results: dict

    @property
    def warehouse(self) -> Path:
        """The DuckDB file holding bronze, silver and gold."""
        return self.data_dir / "warehouse.duckdb"


def start_portal(rows: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED) -> FakePortal:
    """Start the fake portal serving ``rows`` generated requests (stop it with ``.stop()``)."""
    return FakePortal(rows=rows, seed=seed, end=PORTAL_END).start()


def load_bronze(data_dir: Path, portal: FakePortal, *, full_refresh: bool = False) -> LoadResult:
    """Load the portal's current data into ``<data_dir>/warehouse.duckdb`` with mmds-ingest,
    and the local-area boundaries beside it (``load_local_area_boundaries``)."""
    settings = IngestSettings(data_dir=data_dir, portal_url=portal.url)
    result = run_load(settings, full_refresh=full_refresh)
    load_local_area_boundaries(data_dir)
    return result


# The real boundaries the fake portal serves as `local-area-boundary` (ingest's package data).
BOUNDARIES_GEOJSON = (
    Path(mmds_ingest.__file__).parent / "fake_portal" / "data" / "local-area-boundary.geojson"
)
# bronze.local_area_boundaries as docs/contracts.md describes it (ingest owns the table).
BOUNDARIES_DDL = """
create table if not exists bronze.local_area_boundaries (
    name VARCHAR, geom JSON, geo_point_2d JSON, _record_key VARCHAR, _row_hash VARCHAR,
    _load_id VARCHAR, _loaded_at TIMESTAMPTZ, _quality_issues VARCHAR, _raw JSON
)
"""


def load_local_area_boundaries(data_dir: Path, *, rows: bool = True) -> int:
    """Give bronze the 22 local-area boundaries, as ingest loads them, unless it has some.

    Creates ``bronze.local_area_boundaries`` if missing and, with ``rows``, fills it from the
    committed GeoJSON when it is empty (a warehouse whose ingest loads the dataset itself is
    left alone). Returns the number of rows the table then holds.
    """
    loaded_at = datetime.now(UTC)
    records = []
    for feature in json.loads(BOUNDARIES_GEOJSON.read_text(encoding="utf-8"))["features"]:
        raw = {**feature["properties"], "geom": feature["geometry"]}
        records.append(
            (
                raw["name"],
                json.dumps(raw["geom"]),
                json.dumps(raw["geo_point_2d"]),
                hashlib.md5(raw["name"].encode()).hexdigest(),  # noqa: S324 (an identity)
                hashlib.md5(json.dumps(raw, sort_keys=True).encode()).hexdigest(),  # noqa: S324
                "fixture-boundaries",
                loaded_at,
                json.dumps(raw),
            )
        )
    with closing(duckdb.connect(str(Path(data_dir) / "warehouse.duckdb"))) as con:
        con.execute("create schema if not exists bronze")
        con.execute(BOUNDARIES_DDL)
        (count,) = con.execute("select count(*) from bronze.local_area_boundaries").fetchone()
        if rows and count == 0:
            con.executemany(
                "insert into bronze.local_area_boundaries values (?, ?, ?, ?, ?, ?, ?, null, ?)",
                records,
            )
            count = len(records)
    return count


def dbt_build(data_dir: Path, *extra_args: str) -> dict:
    """Run ``dbt build`` against the data directory and return its ``run_results.json``."""
    run_dbt(["build", *extra_args], data_dir)
    return read_run_results(data_dir)


def read_run_results(data_dir: Path) -> dict:
    """Return the ``run_results.json`` of the last dbt command run on the data directory."""
    path = dbt_target_dir(data_dir) / "run_results.json"
    return json.loads(path.read_text(encoding="utf-8"))


def load_generated(
    data_dir: Path, rows: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED
) -> LoadResult:
    """Serve ``rows`` generated requests and load them into bronze the real way (full load)."""
    portal = start_portal(rows, seed)
    try:
        return load_bronze(data_dir, portal, full_refresh=True)
    finally:
        portal.stop()


def seed_and_build(
    data_dir: Path, rows: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED
) -> SeededBuild:
    """Serve generated data, load it into bronze the real way, and ``dbt build`` on it."""
    data_dir = Path(data_dir).resolve()
    load = load_generated(data_dir, rows, seed)
    return SeededBuild(data_dir=data_dir, load=load, run_results=dbt_build(data_dir))


def _summary(build: SeededBuild) -> dict:
    statuses: dict[str, int] = {}
    for result in build.run_results["results"]:
        statuses[result["status"]] = statuses.get(result["status"], 0) + 1
    return {
        "warehouse": str(build.warehouse),
        "rows_loaded": build.load.rows_received,
        "load_id": build.load.load_id,
        "dbt_nodes": statuses,
        "dbt_seconds": round(build.run_results["elapsed_time"], 2),
    }


def main(argv: list[str] | None = None) -> int:
    """Command line: seed a warehouse in --data-dir and build it; print a JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="where warehouse.duckdb goes")
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="generated requests")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="generator seed")
    args = parser.parse_args(argv)
    try:
        build = seed_and_build(args.data_dir, args.rows, args.seed)
    except (IngestError, DbtCommandError) as error:
        print(f"seeded build failed: {error}", file=sys.stderr)
        return 1
    print(json.dumps(_summary(build)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

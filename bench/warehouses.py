"""Benchmark: the same pipeline on both warehouses, DuckDB and PostgreSQL, in one run.

    uv run python bench/warehouses.py --rows 1000000

One fake portal (its own process) serves N generated requests. For each engine in turn: a full
load of bronze (`run_load`, the boundaries too), `dbt build` of the routine selector, the
forecast asset (its features read and its two tables written through the warehouse's IO
manager, training included), and a publish of `serving.duckdb` (on PostgreSQL: its snapshot by
COPY included). Then the portal's
time moves until about 1% of rows changed, and on each engine: an incremental load and an
incremental `dbt build`. The PostgreSQL server is a fresh one in a temporary directory
(PostgreSQL 15, default settings, fsync on, on this machine's disk). Prints one JSON line
last: each step's seconds per engine, and `<step>_ratio` = PostgreSQL / DuckDB.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from dagster import AssetSpec, DagsterInstance, materialize  # noqa: E402
from ingest import advance_until_changed, start_portal  # noqa: E402 -- bench/ingest.py
from mmds_ingest import IngestSettings, run_load  # noqa: E402
from mmds_ingest.datasets import LOCAL_AREA_BOUNDARIES, SERVICE_REQUESTS  # noqa: E402
from mmds_orchestrator.defs.forecast.assets import WAREHOUSE_TABLES, forecast_demand  # noqa: E402
from mmds_orchestrator.defs.forecast.tables import (  # noqa: E402
    FEATURES_KEY,
    HOLIDAYS_KEY,
    WarehouseTables,
)
from mmds_orchestrator.defs.publish.contract import forecast_contract, gold_contract  # noqa: E402
from mmds_orchestrator.defs.publish.postgres_snapshot import snapshot_postgres  # noqa: E402
from mmds_orchestrator.defs.publish.serving import publish_serving_file  # noqa: E402
from mmds_transform import ROUTINE_SELECTOR, dbt_target_dir, run_dbt  # noqa: E402

from tests.postgres_server import postgres_server  # noqa: E402

STEPS = ("full_load", "dbt_full", "forecast", "publish", "incremental_load", "dbt_incremental")


def timed(work) -> float:
    started = time.perf_counter()
    work()
    return round(time.perf_counter() - started, 2)


class Engine:
    """One warehouse: its data dir and, for PostgreSQL, its URL."""

    def __init__(self, name: str, data_dir: Path, portal_url: str, url: str | None) -> None:
        self.name, self.data_dir, self.url = name, data_dir, url
        self.settings = IngestSettings(
            data_dir=data_dir, portal_url=portal_url, warehouse_url=url, read_timeout_seconds=600
        )
        self.seconds: dict[str, float] = {}

    def load(self, step: str) -> None:
        self.seconds[step] = timed(lambda: run_load(self.settings, dataset=SERVICE_REQUESTS))
        run_load(self.settings, dataset=LOCAL_AREA_BOUNDARIES)

    def build(self, step: str) -> None:
        build = ["build", "--selector", ROUTINE_SELECTOR]
        self.seconds[step] = timed(lambda: run_dbt(build, self.data_dir, warehouse_url=self.url))

    def forecast(self) -> None:
        # Imported before the clock starts, so that the first engine does not pay for both.
        import lightgbm  # noqa: F401
        import mlforecast  # noqa: F401

        # The IO manager picks the engine from MMDS_WAREHOUSE_URL, as under `mmds run`.
        os.environ.pop("MMDS_WAREHOUSE_URL", None)
        if self.url:
            os.environ["MMDS_WAREHOUSE_URL"] = self.url
        tables = WarehouseTables(database=str(self.settings.warehouse_path))

        def forecast() -> None:
            result = materialize(
                [forecast_demand, AssetSpec(FEATURES_KEY), AssetSpec(HOLIDAYS_KEY)],
                selection=[forecast_demand],
                resources={WAREHOUSE_TABLES: tables},
                instance=DagsterInstance.ephemeral(),
            )
            assert result.success

        self.seconds["forecast"] = timed(forecast)
        os.environ.pop("MMDS_WAREHOUSE_URL", None)

    def publish(self) -> None:
        manifest = json.loads((dbt_target_dir(self.data_dir) / "manifest.json").read_text())
        gold = [*gold_contract(manifest), *forecast_contract()]
        serving = self.data_dir / "serving.duckdb"

        def publish() -> None:
            warehouse = self.settings.warehouse_path
            if self.url:
                warehouse = snapshot_postgres(
                    self.url, self.name, self.data_dir / "snapshot.duckdb", gold
                )
            publish_serving_file(warehouse, serving, gold, [])

        self.seconds["publish"] = timed(publish)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--change-share", type=float, default=0.01)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="warehouses-bench-"))
    load_before = os.getloadavg()[0]
    # Data ending in the past (as bench/transform.py's), before November 2026: from then on
    # the engines' time zone data disagree on Vancouver's offset (README, "Moving to a server").
    portal, portal_url = start_portal(args.rows, args.seed, end="2026-06-30T12:00:00+00:00")
    try:
        with postgres_server(fsync=True) as url:
            engines = [
                Engine("duckdb", scratch / "duckdb", portal_url, None),
                Engine("postgresql", scratch / "postgresql", portal_url, url),
            ]
            for engine in engines:
                print(f"{engine.name}: full load, dbt build, forecast, publish", file=sys.stderr)
                engine.load("full_load")
                engine.build("dbt_full")
                engine.forecast()
                engine.publish()
            changed = advance_until_changed(portal_url, args.change_share, args.rows)
            for engine in engines:
                print(f"{engine.name}: incremental load, dbt build", file=sys.stderr)
                engine.load("incremental_load")
                engine.build("dbt_incremental")
    finally:
        portal.terminate()
        portal.wait()
        shutil.rmtree(scratch, ignore_errors=True)
    duck, pg = engines
    figures: dict[str, object] = {"bench": "warehouses", "rows": args.rows, "changed_rows": changed}
    for step in STEPS:
        figures[f"duckdb_{step}_seconds"] = duck.seconds[step]
        figures[f"postgresql_{step}_seconds"] = pg.seconds[step]
        figures[f"{step}_ratio"] = round(pg.seconds[step] / duck.seconds[step], 2)
    figures |= {"load_avg_1m_before": load_before, "load_avg_1m_after": os.getloadavg()[0]}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

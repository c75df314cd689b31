"""Benchmark: the forecast asset on the features of an N-request history.

Bronze is loaded the real way (mmds-ingest's fake portal, both datasets, `run_load`), then the
routine `dbt build` makes `gold.agg_demand_features_daily`. The forecast asset then runs twice,
each time in a fresh Python process, as `mmds run` would run it in-process (`materialize` with
the warehouse's IO manager and a persistent Dagster instance):

1. it trains: `seconds` is the forecast step's wall time, from loading its inputs to writing
   its tables; the step imports mlforecast, LightGBM, scikit-learn and polars itself, so that
   start-up is in it. `process_seconds` is the whole child (Python, Dagster and the run around
   the step); `peak_rss_mb` the child's peak RSS;
2. with no new complete day it keeps the forecast: `routine_seconds` is what a routine
   `mmds run` pays for the forecast then: the import of the forecast's definitions
   (`definitions_import_seconds`, every run) plus its step (`routine_step_seconds`, a run
   that rebuilds).

    uv run python bench/forecast.py [--rows 1000000] [--data-dir DIR [--reuse]]

Prints one JSON line last: rows, series, seconds (target <= 30), peak_rss_mb, mase_model,
mase_baseline, mase_ratio (target <= 0.9), routine_seconds (target <= 1), their parts, and the
load average (a shared 2-core machine: read the figures beside it).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mmds_ingest import IngestSettings, run_load
from mmds_ingest.datasets import DATASETS
from mmds_ingest.fake_portal import FakePortal
from mmds_transform import ROUTINE_SELECTOR, run_dbt

sys.path.insert(0, str(Path(__file__).resolve().parent))
from transform import PORTAL_END  # the same fixed portal clock as the dbt benchmark

TARGET_SECONDS = 30.0
TARGET_RATIO = 0.9
TARGET_ROUTINE_SECONDS = 1.0

# The child: materialize the forecast asset once, print what it took as JSON.
CHILD = """
import json, resource, sys, time
started = time.perf_counter()
from dagster import AssetSpec, DagsterEventType, DagsterInstance, materialize
import_started = time.perf_counter()
from mmds_orchestrator.defs.forecast.assets import WAREHOUSE_TABLES, forecast_demand
from mmds_orchestrator.defs.forecast.tables import FEATURES_KEY, HOLIDAYS_KEY, WarehouseTables
imported = time.perf_counter() - import_started
warehouse, home = sys.argv[1], sys.argv[2]
with DagsterInstance.local_temp(tempdir=home) as instance:
    result = materialize(
        [forecast_demand, AssetSpec(FEATURES_KEY), AssetSpec(HOLIDAYS_KEY)],
        selection=[forecast_demand],
        resources={WAREHOUSE_TABLES: WarehouseTables(database=warehouse)},
        instance=instance,
    )
    events = {
        e.dagster_event.event_type: e.timestamp
        for e in instance.all_logs(result.run_id)
        if e.dagster_event is not None
    }
step = events[DagsterEventType.STEP_SUCCESS] - events[DagsterEventType.STEP_START]
[check] = result.get_asset_check_evaluations()
metadata = {
    e.asset_key.path[-1]: {k: v.value for k, v in e.materialization.metadata.items()}
    for e in result.get_asset_materialization_events()
}
print(json.dumps({
    "success": result.success,
    "seconds": time.perf_counter() - started,
    "import_seconds": imported,
    "step_seconds": step,
    "retrained": metadata["forecast_backtest"]["retrained"],
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "check": {k: v.value for k, v in check.metadata.items()},
}))
"""


def build_features(data_dir: Path, rows: int, seed: int) -> dict[str, float]:
    """Load `rows` generated requests and the boundaries, then run the routine dbt build."""
    started = time.perf_counter()
    with FakePortal(rows=rows, seed=seed, end=PORTAL_END) as portal:
        settings = IngestSettings(data_dir=data_dir, portal_url=portal.url)
        for dataset in DATASETS:
            run_load(settings, dataset=dataset, full_refresh=True)
    loaded = time.perf_counter()
    run_dbt(["build", "--selector", ROUTINE_SELECTOR], data_dir)
    return {"load_seconds": loaded - started, "dbt_seconds": time.perf_counter() - loaded}


def forecast_once(warehouse: Path, home: Path) -> dict:
    """Run the child; its JSON (with its own peak RSS: dbt's, a child too, is not in it)."""
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(warehouse), str(home)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "DAGSTER_HOME": str(home)},
    )
    lines = child.stdout.strip().splitlines()
    if child.returncode != 0 or not lines:
        raise SystemExit(f"the forecast failed (exit {child.returncode}):\n{child.stderr[-3000:]}")
    return json.loads(lines[-1])


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=311)
    parser.add_argument("--data-dir", type=Path, help="keep the warehouse here (default: temp)")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="forecast on the features already built in --data-dir (no load, no dbt build)",
    )
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="mmds-bench-forecast-"))
    data_dir = args.data_dir or scratch / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    home = scratch / "dagster_home"
    home.mkdir()
    try:
        warehouse = data_dir / "warehouse.duckdb"
        build = {}
        if not (args.reuse and warehouse.exists()):
            print(f"loading {args.rows:,} requests, building dbt in {data_dir}", file=sys.stderr)
            build = build_features(data_dir, args.rows, args.seed)
        print("forecast: training", file=sys.stderr)
        load_before = os.getloadavg()[0]
        trained = forecast_once(warehouse, home)
        print("forecast: no new complete day", file=sys.stderr)
        kept = forecast_once(warehouse, home)
        import duckdb

        with duckdb.connect(str(warehouse), read_only=True) as con:
            (series,) = con.execute(
                "select count(*) from (select distinct local_area_id, demand_group"
                " from gold.forecast_demand_daily)"
            ).fetchone()
        check = trained["check"]
        routine = kept["import_seconds"] + kept["step_seconds"]
        result = {
            "rows": args.rows,
            "series": series,
            "seconds": round(trained["step_seconds"], 2),
            "process_seconds": round(trained["seconds"], 2),
            "peak_rss_mb": round(trained["peak_rss_mb"]),
            "mase_model": round(check["mase_model"], 3),
            "mase_baseline": round(check["mase_baseline"], 3),
            "mase_ratio": round(check["ratio"], 3),
            "series_scored": check["series_scored"],
            "trained_through": check["trained_through"],
            "routine_seconds": round(routine, 2),
            "definitions_import_seconds": round(kept["import_seconds"], 3),
            "routine_step_seconds": round(kept["step_seconds"], 2),
            "routine_retrained": kept["retrained"],
            **{key: round(value, 2) for key, value in build.items()},
            "load_average_before": round(load_before, 2),
            "load_average_after": round(os.getloadavg()[0], 2),
        }
        result["within_target"] = (
            result["seconds"] <= TARGET_SECONDS
            and result["mase_ratio"] <= TARGET_RATIO
            and routine <= TARGET_ROUTINE_SECONDS
            and not kept["retrained"]
        )
        print(json.dumps(result))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Benchmark: `dbt build` on bronze holding N requests, then again after 1% of them change.

Bronze is loaded the real way (mmds-ingest's fake portal serving generated data, `run_load`).
The change is then applied to bronze directly, as an incremental load would leave it: the 1% of
requests opened most recently are closed (status, closure reason, close date, last modified,
row hash, load id and load instant (now) all move): what a day of portal updates mostly is.
Both builds are the pipeline's routine build (`dbt build --selector routine_build`, as the
orchestrator runs it: no unit tests, no full-rebuild proofs, no implied tests). The project is
parsed first, so both builds start from dbt's partial-parse cache, as the pipeline's do. Wall
time of each includes dbt's own start-up (several seconds); the JSON also gives dbt's measured
elapsed time, the time spent in models, snapshot and tests, and the CPU seconds of the dbt
process (user + system), which depend far less on how loaded a shared machine is than wall
time does.

    uv run python bench/transform.py [--rows 1000000] [--data-dir DIR] [--selector NAME]

Prints one JSON line last: rows, changed_rows, full_seconds, incremental_seconds, ratio (target
<= 0.20), cpu_ratio, plus load_seconds, parse_seconds and, for both builds, dbt's elapsed
seconds, its start-up and shut-down (wall minus elapsed), the thread seconds of models, of the
snapshot and of data tests (summed over dbt's threads), and the CPU seconds.
"""

import argparse
import json
import resource
import shutil
import tempfile
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
from mmds_ingest import IngestSettings, run_load
from mmds_ingest.fake_portal import FakePortal
from mmds_transform import ROUTINE_SELECTOR, dbt_target_dir, run_dbt

PORTAL_END = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
CHANGED_FRACTION = 0.01
TARGET_RATIO = 0.20


def load_bronze(data_dir: Path, rows: int, seed: int) -> float:
    """Serve ``rows`` generated requests and load them into bronze; return the seconds taken."""
    started = time.perf_counter()
    with FakePortal(rows=rows, seed=seed, end=PORTAL_END) as portal:
        run_load(IngestSettings(data_dir=data_dir, portal_url=portal.url), full_refresh=True)
    return time.perf_counter() - started


def change_newest_requests(data_dir: Path, fraction: float) -> int:
    """Close the most recently opened ``fraction`` of requests in bronze; return how many."""
    changed_at = PORTAL_END + timedelta(days=1)
    with closing(duckdb.connect(str(data_dir / "warehouse.duckdb"))) as con:
        con.execute("set TimeZone = 'UTC'")
        (total,) = con.execute("select count(*) from bronze.service_requests").fetchone()
        count = max(1, int(total * fraction))
        con.execute(
            """
            update bronze.service_requests as requests
            set status = 'Close',
                closure_reason = 'Service provided',
                service_request_close_date = cast(? as date),
                last_modified_timestamp = ?,
                _row_hash = md5(requests._row_hash || 'bench'),
                _load_id = 'bench-change',
                _loaded_at = current_timestamp
            where _record_key in (
                select _record_key from bronze.service_requests
                order by service_request_open_timestamp desc nulls last, _record_key
                limit ?
            )
            """,
            [changed_at.date(), changed_at, count],
        )
    return count


def parse_project(data_dir: Path) -> float:
    """Run ``dbt parse`` (seconds returned), so that both builds start from dbt's partial-parse
    cache, as the orchestrator's builds do; otherwise the full build alone pays a full parse."""
    started = time.perf_counter()
    run_dbt(["parse"], data_dir)
    return time.perf_counter() - started


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_build(data_dir: Path, selector: str = ROUTINE_SELECTOR) -> dict[str, float]:
    """Run ``dbt build --selector``; return wall, dbt's elapsed, model and CPU seconds."""
    cpu_before = _children_cpu_seconds()
    started = time.perf_counter()
    run_dbt(["build", "--selector", selector], data_dir)
    wall = time.perf_counter() - started
    cpu = _children_cpu_seconds() - cpu_before
    results = json.loads((dbt_target_dir(data_dir) / "run_results.json").read_text("utf-8"))

    def node_seconds(prefix: str) -> float:
        return sum(
            r["execution_time"] for r in results["results"] if r["unique_id"].startswith(prefix)
        )

    return {
        "wall": wall,
        "elapsed": results["elapsed_time"],
        "models": node_seconds("model."),
        "snapshot": node_seconds("snapshot."),
        "tests": node_seconds("test."),
        "cpu": cpu,
    }


def main() -> None:
    """Parse arguments, run both builds, print the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data-dir", type=Path, help="kept afterwards (default: a temp dir)")
    parser.add_argument("--selector", default=ROUTINE_SELECTOR, help="dbt selector of both builds")
    args = parser.parse_args()
    data_dir = (args.data_dir or Path(tempfile.mkdtemp(prefix="transform-bench-"))).resolve()
    try:
        load_seconds = load_bronze(data_dir, args.rows, args.seed)
        parse_seconds = parse_project(data_dir)
        full = timed_build(data_dir, args.selector)
        changed = change_newest_requests(data_dir, CHANGED_FRACTION)
        incremental = timed_build(data_dir, args.selector)
    finally:
        if args.data_dir is None:
            shutil.rmtree(data_dir, ignore_errors=True)
    print(
        json.dumps(
            {
                "rows": args.rows,
                "selector": args.selector,
                "changed_rows": changed,
                "load_seconds": round(load_seconds, 2),
                "parse_seconds": round(parse_seconds, 2),
                "full_seconds": round(full["wall"], 2),
                "incremental_seconds": round(incremental["wall"], 2),
                "ratio": round(incremental["wall"] / full["wall"], 3),
                "target_ratio": TARGET_RATIO,
                "full_cpu_seconds": round(full["cpu"], 2),
                "incremental_cpu_seconds": round(incremental["cpu"], 2),
                "cpu_ratio": round(incremental["cpu"] / full["cpu"], 3),
                "full_dbt_elapsed_seconds": round(full["elapsed"], 2),
                "incremental_dbt_elapsed_seconds": round(incremental["elapsed"], 2),
                "full_startup_seconds": round(full["wall"] - full["elapsed"], 2),
                "incremental_startup_seconds": round(
                    incremental["wall"] - incremental["elapsed"], 2
                ),
                "full_model_seconds": round(full["models"], 2),
                "incremental_model_seconds": round(incremental["models"], 2),
                "full_snapshot_seconds": round(full["snapshot"], 2),
                "incremental_snapshot_seconds": round(incremental["snapshot"], 2),
                "full_test_seconds": round(full["tests"], 2),
                "incremental_test_seconds": round(incremental["tests"], 2),
            }
        )
    )


if __name__ == "__main__":
    main()

"""Benchmark: server-side time of the queries behind each dashboard page on a 1M-request file.

Builds a synthetic serving file matching the contract (`mmds_dashboard.synthetic`, no pipeline
needed) unless `--serving-file` names a real one, then times, per page, what one uncached rerun
costs on the server: the publish check plus a fresh read-only connection running the page's
queries. Filter scenarios rotate (default 90 days, the whole history, one area and channel).
Prints one JSON line last: `<page>_p50_ms` and `<page>_p95_ms` (wall clock) per page, plus
`<page>_cpu_p50_ms` (CPU time of all DuckDB threads) and the machine's load average before and
after: wall-clock timings on a shared machine scale with its load, CPU time much less.

    uv run python bench/dashboard.py [--serving-file PATH] [--requests N] [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

from mmds_dashboard import queries
from mmds_dashboard.filters import Filters, default_filters
from mmds_dashboard.serving import publish_connection, publish_marker, read_only_connection
from mmds_dashboard.synthetic import SyntheticSpec, write_synthetic_serving_file

TARGET_MS = 300


def _pages(path: Path) -> dict[str, Callable[[Filters], object]]:
    def page(loader: Callable) -> Callable[[Filters], object]:
        def run(filters: Filters) -> object:
            with publish_connection(publish_marker(path)) as con:
                return loader(con, filters)

        return run

    return {
        "overview": page(queries.load_overview),
        "neighbourhoods": page(queries.load_neighbourhoods),
        "request_types": page(queries.load_request_types),
        "data_health": page(lambda con, _filters: queries.load_data_health(con)),
    }


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serving-file", type=Path, help="time this file instead of building one")
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=12, help="timed runs per page")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="dashboard-bench-") as scratch:
        path = args.serving_file
        build_s = None
        if path is None:
            started = time.perf_counter()
            spec = SyntheticSpec(requests=args.requests, first_date=date(2022, 1, 1))
            path = write_synthetic_serving_file(Path(scratch) / "serving.duckdb", spec)
            build_s = round(time.perf_counter() - started, 1)
            print(f"built {path} with {args.requests:,} requests in {build_s} s", flush=True)

        started = time.perf_counter()
        with read_only_connection(path) as con:
            options = queries.filter_options(con)
            (rows,) = con.execute("SELECT count(*) FROM gold.fct_service_requests").fetchone()
        if options is None:
            raise SystemExit(f"{path} holds no requests: nothing to benchmark")
        options_ms = (time.perf_counter() - started) * 1000
        default = default_filters(options)
        scenarios = [
            default,
            replace(default, start=options.first_date),
            replace(default, areas=options.areas[:1], channels=options.channels[:1]),
        ]
        result: dict[str, object] = {
            "bench": "dashboard",
            "cpus": os.cpu_count(),
            "load_avg_1m_before": round(os.getloadavg()[0], 2),
            "fact_rows": rows,
            "build_s": build_s,
            "filter_options_ms": round(options_ms, 1),
        }
        for name, run in _pages(path).items():
            run(default)  # warm the OS page cache once, like a live server
            samples, cpu = [], []
            for i in range(args.repeats):
                started, started_cpu = time.perf_counter(), time.process_time()
                run(scenarios[i % len(scenarios)])
                samples.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
            result[f"{name}_p50_ms"] = round(statistics.median(samples), 1)
            result[f"{name}_p95_ms"] = round(_percentile(samples, 0.95), 1)
            result[f"{name}_cpu_p50_ms"] = round(statistics.median(cpu), 1)
        result["load_avg_1m_after"] = round(os.getloadavg()[0], 2)
        result["target_ms"] = TARGET_MS
        result["all_pages_within_target"] = all(
            result[f"{name}_p95_ms"] <= TARGET_MS for name in _pages(path)
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()

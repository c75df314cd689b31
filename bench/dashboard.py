"""Benchmark: the dashboard on a 1M-request serving file, on the server and in a browser.

Builds its serving file as a user does, `mmds run --sample` of N generated requests (default
1,000,000; `tests/published_serving.publish_sample`), unless `--serving-file` names one already
published.

Server side: per page, what one uncached rerun costs on the server: the publish check plus a
fresh read-only connection running the page's queries. Filter scenarios rotate (default 90
days, the whole history, one area and channel). `<page>_p50_ms` / `<page>_p95_ms` (wall clock)
and `<page>_cpu_p50_ms`; and the same pages with every count taken from the fact by the same
definition (`<page>_fact_p50_ms`, `<page>_fact_cpu_p50_ms`: as before the pages read the
aggregates).

Browser (Debian's Chromium, as a person feels it): the dashboard and Streamlit's own floor (a
page with a title and one Altair chart, served by the same command) run side by side; each of
`--visits` rounds opens every page and the floor in a new browser context, interleaved so both
see the same machine. Per page `<page>_browser_p95_s` (from navigation to the page settled:
title and elements shown, script done, charts drawn) and its ratio to the floor's p95; and
`first_visit_s`, the Overview's first visit right after the server started.

Prints one JSON line last, with the machine's load average before and after: wall-clock
timings on a shared machine scale with its load, CPU time much less.

    uv run python bench/dashboard.py [--serving-file PATH] [--requests N] [--repeats N]
                                     [--visits N] [--no-browser]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from unittest import mock

from mmds_dashboard import health, queries
from mmds_dashboard.filters import Filters, default_filters
from mmds_dashboard.launch import streamlit_command
from mmds_dashboard.serving import publish_connection, publish_marker, read_only_connection

TARGET_MS = 300
TARGET_FLOOR_RATIO = 1.3
TARGET_FIRST_VISIT_S = 3.0
ROOT = Path(__file__).parents[1]
DRIVER = ROOT / "packages/dashboard/scripts/screenshots.py"
PUBLISHER = ROOT / "tests/published_serving.py"
FLOOR_APP = '''"""Streamlit's floor: a title and one Altair chart."""
import altair as alt
import pandas as pd
import streamlit as st

st.title("Floor")
frame = pd.DataFrame({"day": range(90), "requests": [500 + (d * 37) % 200 for d in range(90)]})
st.altair_chart(alt.Chart(frame).mark_line().encode(x="day:Q", y="requests:Q"), width="stretch")
'''


def _module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _driver():
    """The browser driver shared with the tests and the screenshots."""
    return _module("dashboard_screenshots", DRIVER)


def _pages(path: Path) -> dict[str, Callable[[Filters], object]]:
    def page(loader: Callable) -> Callable[[Filters], object]:
        def run(filters: Filters) -> object:
            marker = publish_marker(path)
            with publish_connection(marker) as con:
                return loader(con, filters)

        return run

    partial_day = _options(path).partial_day
    return {
        "overview": page(lambda con, f: queries.load_overview(con, f, partial_day)),
        "neighbourhoods": page(lambda con, f: queries.load_neighbourhoods(con, f, partial_day)),
        "request_types": page(lambda con, f: queries.load_request_types(con, f, partial_day)),
        "data_health": page(lambda con, _filters: health.load_data_health(con)),
    }


def _options(path: Path):
    with read_only_connection(path) as con:
        options = queries.filter_options(con)
    if options is None:
        raise SystemExit(f"{path} holds no requests: nothing to benchmark")
    return options


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def server_side(path: Path, repeats: int, suffix: str = "") -> dict[str, object]:
    """Per page: wall and CPU time of an uncached rerun's queries, rotating filters."""
    options = _options(path)
    default = default_filters(options)
    scenarios = [
        default,
        replace(default, start=options.first_date),
        replace(default, areas=options.areas[:1], channels=options.channels[:1]),
    ]
    result: dict[str, object] = {}
    for name, run in _pages(path).items():
        run(default)  # warm the OS page cache once, like a live server
        samples, cpu = [], []
        for i in range(repeats):
            started, started_cpu = time.perf_counter(), time.process_time()
            run(scenarios[i % len(scenarios)])
            samples.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        result[f"{name}{suffix}_p50_ms"] = round(statistics.median(samples), 1)
        if not suffix:  # bench/scale.py reads the pages from the `<page>_p95_ms` keys
            result[f"{name}_p95_ms"] = round(_percentile(samples, 0.95), 1)
        result[f"{name}{suffix}_cpu_p50_ms"] = round(statistics.median(cpu), 1)
    return result


def fact_only(path: Path, repeats: int) -> dict[str, object]:
    """`server_side` with every count from the fact, as before the pages read the aggregates."""
    prepare = queries.source

    def fact_source(con, filters: Filters) -> queries.Source:
        prepare(con, filters)  # creates the connection's macros
        return queries.Source(aggregates=False)

    with mock.patch.object(queries, "source", fact_source):
        return server_side(path, repeats, "_fact")


def browser(path: Path, visits: int, folder: Path) -> dict[str, object]:
    """Settle times in Chromium: the first visit after start, then `visits` interleaved rounds
    of new visits to every page and to Streamlit's floor."""
    driver = _driver()
    floor_app = folder / "floor.py"
    floor_app.write_text(FLOOR_APP)
    pages = {name or "overview": (name, title) for name, title in driver.PAGES.items()}
    result: dict[str, object] = {}
    with driver.chromium() as chromium:

        def visit(url: str, title: str, elements: list[str]) -> float:
            context = chromium.new_context(viewport=driver.WIDE)
            try:
                return driver.settle(context.new_page(), url, title, elements)
            finally:
                context.close()

        with (
            driver.serve(path, folder / "dashboard.log") as dashboard,
            driver.serve(
                path, folder / "floor.log", lambda port: streamlit_command(port, floor_app)
            ) as floor,
        ):
            result["first_visit_s"] = round(
                visit(f"{dashboard.url}/", driver.PAGES[""], driver.PAGE_ELEMENTS[""]), 2
            )
            result["floor_first_visit_s"] = round(
                visit(f"{floor.url}/", "Floor", ["stVegaLiteChart"]), 2
            )
            samples: dict[str, list[float]] = {name: [] for name in ["floor", *pages]}
            for _ in range(visits):
                samples["floor"].append(visit(f"{floor.url}/", "Floor", ["stVegaLiteChart"]))
                for name, (url_path, title) in pages.items():
                    elements = driver.PAGE_ELEMENTS[url_path]
                    samples[name].append(visit(f"{dashboard.url}/{url_path}", title, elements))
    floor_p95 = _percentile(samples["floor"], 0.95)
    result["floor_browser_p50_s"] = round(statistics.median(samples["floor"]), 2)
    result["floor_browser_p95_s"] = round(floor_p95, 2)
    for name in pages:
        p95 = _percentile(samples[name], 0.95)
        result[f"{name}_browser_p50_s"] = round(statistics.median(samples[name]), 2)
        result[f"{name}_browser_p95_s"] = round(p95, 2)
        result[f"{name}_floor_ratio"] = round(p95 / floor_p95, 2)
    result["target_floor_ratio"] = TARGET_FLOOR_RATIO
    result["pages_within_floor_ratio"] = all(
        result[f"{name}_floor_ratio"] <= TARGET_FLOOR_RATIO for name in pages
    )
    result["target_first_visit_s"] = TARGET_FIRST_VISIT_S
    result["first_visit_within_target"] = result["first_visit_s"] <= TARGET_FIRST_VISIT_S
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serving-file", type=Path, help="time this file instead of building one")
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=12, help="timed runs per page (server)")
    parser.add_argument("--visits", type=int, default=10, help="new visits per page (browser)")
    parser.add_argument("--no-browser", action="store_true", help="server-side figures only")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="dashboard-bench-") as scratch:
        folder = Path(scratch)
        path = args.serving_file
        build_s = None
        if path is None:
            started = time.perf_counter()
            publisher = _module("published_serving", PUBLISHER)
            path = publisher.publish_sample(folder / "data", args.requests)
            build_s = round(time.perf_counter() - started, 1)
            print(f"mmds run --sample published {args.requests:,} requests in {build_s} s")

        started = time.perf_counter()
        _options(path)
        options_ms = (time.perf_counter() - started) * 1000
        with read_only_connection(path) as con:
            (rows,) = con.execute("SELECT count(*) FROM gold.fct_service_requests").fetchone()
        result: dict[str, object] = {
            "bench": "dashboard",
            "cpus": os.cpu_count(),
            "load_avg_1m_before": round(os.getloadavg()[0], 2),
            "fact_rows": rows,
            "build_s": build_s,
            "filter_options_ms": round(options_ms, 1),
        }
        result.update(server_side(path, args.repeats))
        result.update(fact_only(path, args.repeats))
        result["target_ms"] = TARGET_MS
        result["all_pages_within_target"] = all(
            result[f"{name}_p95_ms"] <= TARGET_MS for name in _pages(path)
        )
        if args.no_browser:
            pass
        elif not _driver().CHROMIUM.exists():
            print("no /usr/bin/chromium: browser figures skipped", file=sys.stderr, flush=True)
        else:
            print("timing pages in Chromium ...", file=sys.stderr, flush=True)
            result.update(browser(path, args.visits, folder))
        result["load_avg_1m_after"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()

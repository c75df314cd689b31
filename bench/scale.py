"""Benchmark: the scale curve of the whole pipeline at several sizes, one JSON line per size.

    uv run python bench/scale.py [--sizes 250000,1000000,4000000] [--seed 42]

For each size the fake portal (its own process, as in bench/ingest.py) serves that many
generated requests, and four stages run one after the other, each in its own subprocess so that
its peak resident memory is its own (read from the kernel's rusage of that child, which includes
the processes it waited for, e.g. dbt):

- ingest: `mmds_ingest.run_load` full load into a fresh warehouse;
- dbt_build: `dbt build` of the routine selection `mmds run` builds (bench/transform.py's
  `timed_build`: everything but the full-rebuild proofs and the unit tests);
- publish: the orchestrator's `publish_serving_file` (gold into serving.duckdb);
- dashboard: bench/dashboard.py on that serving file (each page's queries, uncached);
  its seconds are one visit of every page (sum of the pages' median times).

Each line holds rows, `<stage>_seconds` (wall), `<stage>_cpu_seconds` (user + system, of the
stage and its children), `<stage>_peak_rss_mb` and, from the second size on, the exponents
`<stage>_time_exponent`, `<stage>_cpu_exponent` and `<stage>_rss_exponent` against the previous
size: log(cost ratio) / log(rows ratio), so 1.0 is linear and 0.0 is flat. On a shared machine
wall seconds follow its load; CPU seconds much less, so judge linearity on those. `load_before`
and `load_after` are the machine's one-minute load average around the stages of a size.
"""

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
STAGES = ("ingest", "dbt_build", "publish", "dashboard")
DASHBOARD_REPEATS = 6


def _ingest(data_dir: Path, portal_url: str) -> dict:
    from mmds_ingest import IngestSettings, run_load

    result = run_load(IngestSettings(data_dir=data_dir, portal_url=portal_url), full_refresh=True)
    return {"seconds": result.seconds, "rows": result.rows_received}


def _dbt_build(data_dir: Path) -> dict:
    from transform import timed_build  # bench/transform.py

    return {"seconds": timed_build(data_dir)["wall"]}


def _publish(data_dir: Path) -> dict:
    from mmds_orchestrator.defs.publish.contract import gold_contract
    from mmds_orchestrator.defs.publish.serving import CheckResult, publish_serving_file
    from mmds_transform import dbt_target_dir

    target = dbt_target_dir(data_dir)
    run_results = json.loads((target / "run_results.json").read_text("utf-8"))
    gold = gold_contract(json.loads((target / "manifest.json").read_text("utf-8")))
    tests = [
        CheckResult(r["unique_id"].split(".")[-2], "", r["status"], r.get("failures") or 0)
        for r in run_results["results"]
        if r["unique_id"].startswith("test.")
    ]
    started = time.perf_counter()
    record = publish_serving_file(
        data_dir / "warehouse.duckdb", data_dir / "serving.duckdb", gold, tests
    )
    return {"seconds": time.perf_counter() - started, "gold_rows": record.gold_rows}


def run_stage(stage: str, data_dir: Path, portal_url: str | None) -> None:
    """Run one stage in this process and print its result as one JSON line."""
    if stage == "ingest":
        result = _ingest(data_dir, portal_url or "")
    elif stage == "dbt_build":
        result = _dbt_build(data_dir)
    else:
        result = _publish(data_dir)
    print(json.dumps(result))


def _child(command: list[str]) -> tuple[dict, float, float]:
    """Run a command to its end; return its last JSON line, peak RSS in MB and CPU seconds.

    The kernel's rusage of a reaped child includes the children it waited for: its peak RSS is
    the larger of its own and theirs, and its CPU time adds theirs, so a stage that runs dbt
    counts dbt too. CPU seconds hardly depend on how loaded a shared machine is; wall seconds do.
    """
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command[1:3])} failed with exit code {process.returncode}")
    last_line = json.loads(output.strip().splitlines()[-1])
    return last_line, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def measure(stage: str, data_dir: Path, portal_url: str) -> dict:
    """Run one stage in its own subprocess; return its seconds and peak RSS (and its extras)."""
    if stage == "dashboard":
        serving = data_dir / "serving.duckdb"
        command = [sys.executable, str(BENCH_DIR / "dashboard.py"), "--serving-file", str(serving)]
        result, rss, cpu = _child([*command, "--repeats", str(DASHBOARD_REPEATS), "--no-browser"])
        pages = [
            key.removesuffix("_p95_ms")
            for key in result
            if key.endswith("_p95_ms") and not key.endswith("_cpu_p95_ms")
        ]
        return {
            "seconds": sum(result[f"{page}_p50_ms"] for page in pages) / 1000,
            "peak_rss_mb": rss,
            "cpu_seconds": cpu,
            "worst_p95_ms": max(result[f"{page}_p95_ms"] for page in pages),
        }
    command = [sys.executable, __file__, "--stage", stage, "--data-dir", str(data_dir)]
    result, rss, cpu = _child([*command, "--portal-url", portal_url])
    return {**result, "peak_rss_mb": rss, "cpu_seconds": cpu}


def measure_size(rows: int, seed: int, scratch: Path) -> dict:
    """Serve `rows` generated requests and measure every stage on them."""
    from ingest import start_portal  # bench/ingest.py

    data_dir = scratch / f"rows-{rows}"
    started = time.perf_counter()
    portal, url = start_portal(rows, seed)
    line: dict[str, object] = {
        "bench": "scale",
        "rows": rows,
        "portal_start_seconds": round(time.perf_counter() - started, 1),
        "load_before": round(os.getloadavg()[0], 2),
    }
    try:
        for stage in STAGES:
            result = measure(stage, data_dir, url)
            print(f"{rows:,} rows, {stage}: {result}", file=sys.stderr, flush=True)
            line[f"{stage}_seconds"] = round(result.pop("seconds"), 2)
            line[f"{stage}_cpu_seconds"] = round(result.pop("cpu_seconds"), 2)
            line[f"{stage}_peak_rss_mb"] = round(result.pop("peak_rss_mb"))
            line |= {f"{stage}_{key}": value for key, value in result.items()}
        line["load_after"] = round(os.getloadavg()[0], 2)
    finally:
        portal.terminate()
        portal.wait(timeout=60)
        shutil.rmtree(data_dir, ignore_errors=True)
    if line["ingest_rows"] != rows:
        raise SystemExit(f"ingest loaded {line['ingest_rows']} rows, not {rows}")
    return line


def growth(line: dict, previous: dict) -> dict[str, float]:
    """Each stage's cost exponent against the previous size (1.0 linear, 0.0 flat)."""
    rows_ratio = math.log(line["rows"] / previous["rows"])
    exponents = {}
    for stage in STAGES:
        for cost, name in (("seconds", "time"), ("cpu_seconds", "cpu"), ("peak_rss_mb", "rss")):
            ratio = line[f"{stage}_{cost}"] / max(previous[f"{stage}_{cost}"], 1e-3)
            exponents[f"{stage}_{name}_exponent"] = round(math.log(ratio) / rows_ratio, 2)
    return exponents


def _sizes(text: str) -> list[int]:
    sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    if not sizes or any(size < 1 for size in sizes) or sizes != sorted(set(sizes)):
        raise argparse.ArgumentTypeError(f"sizes must be increasing positive integers: {text!r}")
    return sizes


def main() -> None:
    """Parse arguments; run a single stage (internal) or the whole curve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=_sizes, default=[250_000, 1_000_000, 4_000_000])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--stage", choices=STAGES[:3], help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--portal-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        run_stage(args.stage, args.data_dir, args.portal_url)
        return
    scratch = Path(tempfile.mkdtemp(prefix="mmds-bench-scale-"))
    previous = None
    try:
        for rows in args.sizes:
            line = measure_size(rows, args.seed, scratch)
            if previous is not None:
                line |= growth(line, previous)
            print(json.dumps(line), flush=True)
            previous = line
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()

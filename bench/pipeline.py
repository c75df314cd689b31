"""Benchmark: `mmds run` (Dagster, in-process) against the same work run directly.

Both paths load the same generated sample from one fake portal into a fresh warehouse and build
it with dbt's same selection (mmds-transform's routine selector). The direct path is
`mmds-ingest load` followed by `dbt build`; the orchestrated path is `mmds run`, which also
publishes serving.duckdb and records the run in Dagster. Both start warm, as on any machine
after the first run: the dbt manifest (and dbt's partial-parse cache) and Dagster's (empty)
instance exist before the clock starts, and each path has run once on a small sample (2,000
rows) beforehand, so Python's bytecode cache holds every module it imports. The cache lives in
a directory of its own (PYTHONPYCACHEPREFIX) even where PYTHONDONTWRITEBYTECODE is set;
`--no-bytecode-cache` measures both paths without it.

    uv run python bench/pipeline.py [--rows 100000] [--seed 311] [--keep] [--no-bytecode-cache]

Prints one JSON line last: rows, mmds_seconds, direct_seconds (ingest_seconds + dbt_seconds),
overhead_ratio = mmds_seconds / direct_seconds (target <= 1.3), within_target, and the CPU
seconds of each path's processes (steadier than wall time on a shared machine).
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from mmds_ingest.fake_portal import FakePortal
from mmds_ingest.fake_portal.generator import DEFAULT_END
from mmds_orchestrator.defs.transform.project import (
    dbt_environment,
    default_project_dir,
    prepare_dbt_project,
)
from mmds_orchestrator.instance import open_instance
from mmds_orchestrator.settings import DAGSTER_HOME_DIR, PipelineSettings
from mmds_transform import ROUTINE_SELECTOR

TARGET_RATIO = 1.3
WARMUP_ROWS = 2_000
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Cost:
    """Wall seconds, and CPU seconds (user + system) of the process and its children."""

    wall: float
    cpu: float

    def __add__(self, other: "Cost") -> "Cost":
        return Cost(self.wall + other.wall, self.cpu + other.cpu)


def timed(command: list[str], env: dict[str, str]) -> Cost:
    """Run a command to completion (failing loudly) and return what it cost."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        output = (completed.stdout + completed.stderr)[-3000:]
        sys.exit(f"{' '.join(command)} failed with exit code {completed.returncode}:\n{output}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Cost(seconds, cpu)


def with_bytecode_cache(env: dict[str, str], bytecode_cache: Path | None) -> dict[str, str]:
    """`env` with Python's bytecode cache in `bytecode_cache`, or without one if None."""
    env = dict(env)
    if bytecode_cache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(bytecode_cache)
    return env


def orchestrated(data_dir: Path, portal_url: str, bytecode_cache: Path | None) -> Cost:
    """`mmds run` against the portal, with the manifest and Dagster's instance made beforehand."""
    prepare_dbt_project(default_project_dir(), data_dir / "dbt", data_dir)
    open_instance(data_dir / DAGSTER_HOME_DIR).dispose()
    env = {**os.environ, "MMDS_DATA_DIR": str(data_dir), "MMDS_PORTAL_URL": portal_url}
    return timed([str(BIN / "mmds"), "run"], with_bytecode_cache(env, bytecode_cache))


def direct(data_dir: Path, portal_url: str, bytecode_cache: Path | None) -> tuple[Cost, Cost]:
    """`mmds-ingest load` then `dbt build`, with dbt's parse cache warmed beforehand."""
    project = default_project_dir()
    target = data_dir / "target"
    env = with_bytecode_cache(dbt_environment(data_dir, target / "logs"), bytecode_cache)
    dbt = [str(BIN / "dbt")]
    where = ["--project-dir", str(project), "--profiles-dir", str(project)]
    where += ["--target-path", str(target)]
    timed([*dbt, "parse", *where], env)
    ingest = timed(
        [str(BIN / "mmds-ingest"), "load", "--data-dir", str(data_dir), "--portal-url", portal_url],
        env,
    )
    build = timed([*dbt, "build", *where, "--selector", ROUTINE_SELECTOR], env)
    return ingest, build


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = PipelineSettings()
    parser.add_argument("--rows", type=int, default=defaults.sample_rows)
    parser.add_argument("--seed", type=int, default=defaults.sample_seed)
    parser.add_argument("--keep", action="store_true", help="Keep the data dirs for inspection.")
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="Run both paths without Python's bytecode cache (every import compiles).",
    )
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="orchestrator-bench-"))
    cache = None if args.no_bytecode_cache else root / "pycache"
    start = DEFAULT_END.date().replace(year=DEFAULT_END.year - 2)
    try:
        warmup_rows = min(WARMUP_ROWS, args.rows)
        print(f"warming up both paths on {warmup_rows:,} rows", file=sys.stderr)
        with FakePortal(rows=warmup_rows, seed=args.seed, start=start) as portal:
            direct(root / "warmup-direct", portal.url, cache)
            orchestrated(root / "warmup-mmds", portal.url, cache)
        print(f"measuring both paths on {args.rows:,} rows", file=sys.stderr)
        with FakePortal(rows=args.rows, seed=args.seed, start=start) as portal:
            ingest, build = direct(root / "direct", portal.url, cache)
            mmds = orchestrated(root / "mmds", portal.url, cache)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    both = ingest + build
    ratio = mmds.wall / both.wall
    print(
        json.dumps(
            {
                "benchmark": "pipeline",
                "rows": args.rows,
                "bytecode_cache": not args.no_bytecode_cache,
                "mmds_seconds": round(mmds.wall, 2),
                "direct_seconds": round(both.wall, 2),
                "ingest_seconds": round(ingest.wall, 2),
                "dbt_seconds": round(build.wall, 2),
                "overhead_ratio": round(ratio, 3),
                "target_ratio": TARGET_RATIO,
                "within_target": ratio <= TARGET_RATIO,
                "mmds_cpu_seconds": round(mmds.cpu, 2),
                "direct_cpu_seconds": round(both.cpu, 2),
                "cpu_ratio": round(mmds.cpu / both.cpu, 3),
                "kept_in": str(root) if args.keep else None,
            }
        )
    )


if __name__ == "__main__":
    main()

"""Benchmark: `mmds run` (Dagster, in-process) against the same work run directly.

Both paths load the same generated sample from one fake portal into a fresh warehouse and build
it with dbt. The direct path is `mmds-ingest load` followed by `dbt build`; the orchestrated
path is `mmds run`, which also publishes serving.duckdb and records the run in Dagster. Both
start warm: the dbt manifest (and dbt's partial-parse cache) exists before the clock starts,
as it does on any machine after the first run.

    uv run python bench/pipeline.py [--rows 100000] [--seed 311] [--keep]

Prints one JSON line last: rows, mmds_seconds, direct_seconds (ingest_seconds + dbt_seconds),
overhead_ratio = mmds_seconds / direct_seconds (target <= 1.3) and within_target.
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

from mmds_ingest.fake_portal import FakePortal
from mmds_ingest.fake_portal.generator import DEFAULT_END
from mmds_orchestrator.defs.transform.project import (
    dbt_environment,
    default_project_dir,
    prepare_dbt_project,
)
from mmds_orchestrator.settings import PipelineSettings

TARGET_RATIO = 1.3
BIN = Path(sys.executable).parent


def timed(command: list[str], env: dict[str, str]) -> float:
    """Run a command to completion (failing loudly) and return its wall seconds."""
    started = time.perf_counter()
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        output = (completed.stdout + completed.stderr)[-3000:]
        sys.exit(f"{' '.join(command)} failed with exit code {completed.returncode}:\n{output}")
    return seconds


def orchestrated(data_dir: Path, portal_url: str) -> float:
    """`mmds run` against the portal, with the manifest prepared beforehand."""
    prepare_dbt_project(default_project_dir(), data_dir / "dbt", data_dir)
    env = {**os.environ, "MMDS_DATA_DIR": str(data_dir), "MMDS_PORTAL_URL": portal_url}
    return timed([str(BIN / "mmds"), "run"], env)


def direct(data_dir: Path, portal_url: str) -> tuple[float, float]:
    """`mmds-ingest load` then `dbt build`, with dbt's parse cache warmed beforehand."""
    project = default_project_dir()
    target = data_dir / "target"
    env = dbt_environment(data_dir, target / "logs")
    dbt = [str(BIN / "dbt")]
    where = ["--project-dir", str(project), "--profiles-dir", str(project)]
    timed([*dbt, "parse", *where, "--target-path", str(target)], env)
    ingest = timed(
        [str(BIN / "mmds-ingest"), "load", "--data-dir", str(data_dir), "--portal-url", portal_url],
        env,
    )
    build = timed([*dbt, "build", *where, "--target-path", str(target)], env)
    return ingest, build


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = PipelineSettings()
    parser.add_argument("--rows", type=int, default=defaults.sample_rows)
    parser.add_argument("--seed", type=int, default=defaults.sample_seed)
    parser.add_argument("--keep", action="store_true", help="Keep the data dirs for inspection.")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="orchestrator-bench-"))
    start = DEFAULT_END.date().replace(year=DEFAULT_END.year - 2)
    try:
        with FakePortal(rows=args.rows, seed=args.seed, start=start) as portal:
            ingest_seconds, dbt_seconds = direct(root / "direct", portal.url)
            mmds_seconds = orchestrated(root / "mmds", portal.url)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    direct_seconds = ingest_seconds + dbt_seconds
    ratio = mmds_seconds / direct_seconds
    print(
        json.dumps(
            {
                "benchmark": "pipeline",
                "rows": args.rows,
                "mmds_seconds": round(mmds_seconds, 2),
                "direct_seconds": round(direct_seconds, 2),
                "ingest_seconds": round(ingest_seconds, 2),
                "dbt_seconds": round(dbt_seconds, 2),
                "overhead_ratio": round(ratio, 3),
                "target_ratio": TARGET_RATIO,
                "within_target": ratio <= TARGET_RATIO,
                "kept_in": str(root) if args.keep else None,
            }
        )
    )


if __name__ == "__main__":
    main()

"""Benchmark: `mmds run` as a user runs it, against the same work run directly.

One fake portal serves N generated requests (default 1,000,000). In order, each a process of its
own, with Python's bytecode cache as the machine has it (no warm-up run):

1. direct: `mmds-ingest load` then `dbt build --selector routine_build` into a fresh data dir;
2. `mmds run` into another fresh data dir: the same work plus dbt's manifest, Dagster's instance,
   the checks and publishing serving.duckdb (`mmds_seconds`; `overhead_ratio` against 1);
3. `mmds run` again, the portal unchanged (`routine_unchanged_seconds`);
4. the portal's clock moves until about 1% of the rows changed, then `mmds run`
   (`routine_changed_seconds`);
5. `mmds run --full-refresh`: everything reloaded and rebuilt (`full_seconds`);
6. `python -c "import dagster, dagster_dbt, dbt.cli.main"` (`import_seconds`), the floor of any
   run of `mmds`.

    uv run python bench/pipeline.py [--rows 1000000] [--seed 311] [--change-share 0.01] [--keep]

Prints one JSON line last with those figures, each path's CPU seconds, the loads `mmds run`
made (`mode/status`, oldest first), and the three targets:
overhead_ratio <= 1.5, routine_unchanged_seconds <= 1.5 x import_seconds, and
routine_changed_seconds <= full_seconds / 3.
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

import duckdb
from mmds_ingest.fake_portal import FakePortal
from mmds_ingest.fake_portal.generator import DEFAULT_END
from mmds_orchestrator.cli import SAMPLE_SEED
from mmds_transform import ROUTINE_SELECTOR, profiles_dir, project_dir

OVERHEAD_TARGET = 1.5
UNCHANGED_TO_IMPORT_TARGET = 1.5
CHANGED_TO_FULL_TARGET = 1 / 3
BIN = Path(sys.executable).parent
IMPORTS = "import dagster, dagster_dbt, dbt.cli.main"


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
    print(f"  {Path(command[0]).name} {' '.join(command[1:2])}: {seconds:.1f} s", file=sys.stderr)
    return Cost(seconds, cpu)


def environment(data_dir: Path, portal_url: str) -> dict[str, str]:
    """The caller's environment pointed at `data_dir` and the portal, telemetry off."""
    return {
        **os.environ,
        "MMDS_DATA_DIR": str(data_dir),
        "MMDS_PORTAL_URL": portal_url,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def direct(data_dir: Path, portal_url: str) -> tuple[Cost, Cost]:
    """`mmds-ingest load`, then `dbt build` of the routine selection, by hand."""
    env = environment(data_dir, portal_url)
    ingest = timed([str(BIN / "mmds-ingest"), "load"], env)
    build = timed(
        [
            str(BIN / "dbt"),
            "build",
            "--selector",
            ROUTINE_SELECTOR,
            "--project-dir",
            str(project_dir()),
            "--profiles-dir",
            str(profiles_dir()),
            "--target-path",
            str(data_dir / "target"),
        ],
        env,
    )
    return ingest, build


def mmds_run(data_dir: Path, portal_url: str, *args: str) -> Cost:
    """`mmds run [args]` against the portal."""
    return timed([str(BIN / "mmds"), "run", *args], environment(data_dir, portal_url))


def advance_until_changed(portal: FakePortal, share: float, rows: int) -> int:
    """Move the portal's clock a day at a time until `share` of its rows changed."""
    changed = 0
    while changed < share * rows:
        summary = portal.advance(days=1)
        changed += summary.added + summary.closed + summary.edited + summary.deleted
    return changed


def load_modes(data_dir: Path) -> list[str]:
    """`mode/status` of every load of `data_dir`'s warehouse, oldest first."""
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as connection:
        rows = connection.execute(
            "select mode || '/' || status from bronze._loads order by started_at"
        ).fetchall()
    return [mode for (mode,) in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=SAMPLE_SEED)
    parser.add_argument("--change-share", type=float, default=0.01)
    parser.add_argument("--keep", action="store_true", help="Keep the data dirs for inspection.")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="orchestrator-bench-"))
    start = DEFAULT_END.date().replace(year=DEFAULT_END.year - 2)
    load_before = os.getloadavg()[0]
    try:
        print(f"portal of {args.rows:,} rows", file=sys.stderr)
        with FakePortal(rows=args.rows, seed=args.seed, start=start) as portal:
            print("direct: ingest, dbt build", file=sys.stderr)
            ingest, build = direct(root / "direct", portal.url)
            print("mmds run: first, unchanged, 1% changed, full refresh", file=sys.stderr)
            mmds = mmds_run(root / "mmds", portal.url)
            unchanged = mmds_run(root / "mmds", portal.url)
            changed_rows = advance_until_changed(portal, args.change_share, args.rows)
            changed = mmds_run(root / "mmds", portal.url)
            full = mmds_run(root / "mmds", portal.url, "--full-refresh")
        loads = load_modes(root / "mmds")
        imports = timed([sys.executable, "-c", IMPORTS], dict(os.environ))
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    both = ingest + build
    ratios = {
        "overhead_ratio": mmds.wall / both.wall,
        "unchanged_to_import_ratio": unchanged.wall / imports.wall,
        "changed_to_full_ratio": changed.wall / full.wall,
    }
    targets = {
        "overhead_ratio": OVERHEAD_TARGET,
        "unchanged_to_import_ratio": UNCHANGED_TO_IMPORT_TARGET,
        "changed_to_full_ratio": CHANGED_TO_FULL_TARGET,
    }
    print(
        json.dumps(
            {
                "benchmark": "pipeline",
                "rows": args.rows,
                "bytecode_cache": not os.environ.get("PYTHONDONTWRITEBYTECODE"),
                "mmds_seconds": round(mmds.wall, 2),
                "direct_seconds": round(both.wall, 2),
                "ingest_seconds": round(ingest.wall, 2),
                "dbt_seconds": round(build.wall, 2),
                "routine_unchanged_seconds": round(unchanged.wall, 2),
                "changed_rows": changed_rows,
                "routine_changed_seconds": round(changed.wall, 2),
                "mmds_loads": loads,
                "full_seconds": round(full.wall, 2),
                "import_seconds": round(imports.wall, 2),
                **{name: round(value, 3) for name, value in ratios.items()},
                "targets": {name: round(value, 3) for name, value in targets.items()},
                "within_targets": {name: ratios[name] <= targets[name] for name in targets},
                "mmds_cpu_seconds": round(mmds.cpu, 2),
                "direct_cpu_seconds": round(both.cpu, 2),
                "routine_unchanged_cpu_seconds": round(unchanged.cpu, 2),
                "routine_changed_cpu_seconds": round(changed.cpu, 2),
                "full_cpu_seconds": round(full.cpu, 2),
                "import_cpu_seconds": round(imports.cpu, 2),
                "load_before": round(load_before, 2),
                "load_after": round(os.getloadavg()[0], 2),
                "kept_in": str(root) if args.keep else None,
            }
        )
    )


if __name__ == "__main__":
    main()

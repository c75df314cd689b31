"""Run every benchmark at small sizes and print their JSON lines (the last: all of them).

    uv run python bench/all.py [--rows 50000]

Each benchmark runs in its own process, as a user would run it; its own last line (one JSON
object) is echoed tagged with the benchmark's name, then one line holds them all. Sizes derive
from --rows so the whole set stays under five minutes on a 2-core laptop at the default.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def benchmarks(rows: int) -> dict[str, list[str]]:
    """Each benchmark's script and arguments at the given base size."""
    return {
        "fake_portal": ["fake_portal.py", "--rows", str(rows)],
        "ingest": ["ingest.py", "--rows", str(rows)],
        "transform": ["transform.py", "--rows", str(rows)],
        "dashboard": ["dashboard.py", "--requests", str(rows), "--repeats", "5", "--no-browser"],
        "pipeline": ["pipeline.py", "--rows", str(max(rows // 5, 1000))],
        "scale": ["scale.py", "--sizes", f"{rows // 4},{rows}"],
        "forecast": ["forecast.py", "--rows", str(rows)],
        "warehouses": ["warehouses.py", "--rows", str(rows)],
    }


def run(name: str, argv: list[str]) -> dict:
    """Run one benchmark script and return the JSON object of its last line."""
    script = BENCH / argv[0]
    result = subprocess.run(
        [sys.executable, str(script), *argv[1:]], capture_output=True, text=True, check=False
    )
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        tail = (result.stderr or result.stdout)[-2000:]
        raise SystemExit(f"benchmark {name} failed (exit {result.returncode}):\n{tail}")
    return json.loads(lines[-1])


def main() -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000, help="base size (default 50,000)")
    parser.add_argument("--only", nargs="*", help="run only these benchmarks")
    args = parser.parse_args()
    started = time.perf_counter()
    figures = {}
    for name, argv in benchmarks(args.rows).items():
        if args.only and name not in args.only:
            continue
        figures[name] = run(name, argv)
        print(json.dumps({"benchmark": name, **figures[name]}), flush=True)
    figures["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())

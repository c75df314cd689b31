"""Benchmark: full load of N rows from the fake portal, the DuckDB floor, an incremental,
then the reconciliation with the portal.

    uv run python bench/ingest.py --rows 1000000

The fake portal runs as its own process (`mmds-ingest fake-portal`); this process runs the
connector (`mmds_ingest.run_load`) into a fresh warehouse under a scratch folder. The floor is
DuckDB alone loading the same JSON-lines export from local disk into a table. Then the portal's
time moves until about 1% of rows changed, and an incremental load runs. Then a load with the
portal unchanged (no download: the reconciliation alone, bronze equal to the portal), and one
after the portal deleted 101 records (an incremental whose reconciliation finds and removes
them). Prints one JSON line last: rows, seconds (as the load reports it), wall_seconds (as
its caller waits: the close of the connection, which finishes writing the file, included),
rows_per_s, peak_rss_mb (of the loading process during the full load), floor_seconds,
ratio_to_floor, cpu_seconds and floor_cpu_seconds (this process's CPU time in the full load
and in the floor: steadier than wall time on a shared machine; the portal's CPU is not in
them), changed_rows, incremental_seconds, incremental_ratio, reconcile_equal_seconds,
reconcile_after_deletions_seconds (whole loads, as a user waits for them), deleted_rows, and
the load average before and after.
"""

import argparse
import json
import logging
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import httpx
from mmds_ingest import IngestSettings, run_load
from mmds_ingest.datasets import SERVICE_REQUESTS


def start_portal(rows: int, seed: int, end: str | None = None) -> tuple[subprocess.Popen, str]:
    """Start `mmds-ingest fake-portal` (its data ending at `end`, ISO 8601, if given) and return
    it with its site root URL."""
    command = [str(Path(sys.executable).with_name("mmds-ingest")), "fake-portal"]
    portal = subprocess.Popen(
        [*command, "--rows", str(rows), "--seed", str(seed), *(["--end", end] if end else [])],
        stdout=subprocess.PIPE,
        text=True,
    )
    url = portal.stdout.readline().strip()
    if not url.startswith("http://127.0.0.1:"):
        portal.terminate()
        raise SystemExit(f"the fake portal did not start (printed {url!r})")
    return portal, url


def download_export(dataset_url: str, target: Path) -> None:
    """The same export the connector reads, saved for the floor measurement."""
    params = {"timezone": "UTC", "order_by": "last_modified_timestamp"}
    with (
        httpx.stream("GET", f"{dataset_url}/exports/jsonl", params=params, timeout=600) as r,
        target.open("wb") as sink,
    ):
        r.raise_for_status()
        for chunk in r.iter_bytes(1 << 20):
            sink.write(chunk)


def cpu_seconds() -> float:
    """CPU time of this process so far (user + system, all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def floor_seconds(export: Path, scratch: Path) -> tuple[float, float]:
    """DuckDB alone: the export file from local disk into a table of a fresh database file.

    Returns wall and CPU seconds."""
    started, started_cpu = time.perf_counter(), cpu_seconds()
    with duckdb.connect(str(scratch / "floor.duckdb")) as con:
        con.execute("CREATE TABLE service_requests AS SELECT * FROM read_json(?)", [str(export)])
    return time.perf_counter() - started, cpu_seconds() - started_cpu


def advance_until_changed(url: str, share: float, rows: int) -> int:
    """Move the portal's time a day at a time until `share` of the rows changed."""
    changed = 0
    while changed < share * rows:
        summary = httpx.post(f"{url}/__fake__/advance", params={"days": 1}, timeout=600).json()
        changed += sum(summary.get(key, 0) for key in ("added", "closed", "edited", "deleted"))
    return changed


def delete_records(url: str, count: int) -> int:
    """Have the portal delete `count` records, as the City now and then does."""
    response = httpx.delete(f"{url}/__fake__/records", params={"count": count}, timeout=600)
    response.raise_for_status()
    return len(response.json()["deleted"])


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--change-share", type=float, default=0.01)

    parser.add_argument("--deletions", type=int, default=101)
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    scratch = Path(tempfile.mkdtemp(prefix="mmds-bench-ingest-"))
    portal, url = start_portal(args.rows, args.seed)
    try:
        settings = IngestSettings(data_dir=scratch / "data", portal_url=url)
        started, started_cpu = time.perf_counter(), cpu_seconds()
        full = run_load(settings, full_refresh=True)
        full_cpu, full_wall = cpu_seconds() - started_cpu, time.perf_counter() - started
        peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"full load: {full.rows_received:,} rows in {full.seconds:.1f}s", file=sys.stderr)

        export = scratch / "export.jsonl"
        download_export(url + SERVICE_REQUESTS.path, export)
        floor, floor_cpu = floor_seconds(export, scratch)
        export.unlink()
        print(f"floor: {floor:.1f}s", file=sys.stderr)

        changed = advance_until_changed(url, args.change_share, args.rows)
        incremental = run_load(settings)
        print(
            f"incremental: {incremental.rows_received:,} rows in {incremental.seconds:.1f}s",
            file=sys.stderr,
        )

        equal = run_load(settings)  # nothing changed: no download, the reconciliation alone
        print(f"equal: {equal.seconds:.2f}s ({equal.reconciliation})", file=sys.stderr)
        deleted = delete_records(url, args.deletions)
        repaired = run_load(settings)
        if repaired.rows_deleted != deleted or repaired.bronze_count != repaired.portal_total:
            raise SystemExit(f"the reconciliation did not remove the deletions: {repaired}")
        print(
            f"after {deleted} deletions: {repaired.seconds:.2f}s ({repaired.reconciliation})",
            file=sys.stderr,
        )
    finally:
        portal.terminate()
        portal.wait(timeout=30)
        shutil.rmtree(scratch, ignore_errors=True)

    print(
        json.dumps(
            {
                "rows": full.rows_received,
                "seconds": round(full.seconds, 2),
                "wall_seconds": round(full_wall, 2),
                "rows_per_s": round(full.rows_received / full.seconds),
                "peak_rss_mb": round(peak_rss_mb),
                "floor_seconds": round(floor, 2),
                "ratio_to_floor": round(full.seconds / floor, 2),
                "cpu_seconds": round(full_cpu, 2),
                "floor_cpu_seconds": round(floor_cpu, 2),
                "changed_rows": changed,
                "incremental_rows": incremental.rows_received,
                "incremental_seconds": round(incremental.seconds, 2),
                "incremental_ratio": round(incremental.seconds / full.seconds, 3),
                "reconcile_equal_seconds": round(equal.seconds, 2),
                "deleted_rows": deleted,
                "reconcile_after_deletions_seconds": round(repaired.seconds, 2),
                "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            }
        )
    )


if __name__ == "__main__":
    main()

"""Benchmark: stream the fake portal's full export (jsonl and parquet) and time it.

    uv run python bench/fake_portal.py --rows 1000000

Prints one line per format, then one JSON line last: rows, startup seconds, and per format
bytes, seconds and MB/s; plus the process's peak resident memory.
"""

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

import httpx
import pyarrow.parquet as pq
from mmds_ingest.fake_portal import FakePortal

FORMATS = ("jsonl", "parquet")


def _stream(url: str, fmt: str, scratch: Path) -> dict:
    """Download one export to a file, counting bytes; return rows, bytes, seconds, MB/s."""
    target = scratch / f"export.{fmt}"
    started = time.perf_counter()
    size = newlines = 0
    params = {"timezone": "UTC", "order_by": "last_modified_timestamp"}
    with (
        httpx.stream("GET", f"{url}/exports/{fmt}", params=params, timeout=600) as response,
        target.open("wb") as sink,
    ):
        response.raise_for_status()
        for chunk in response.iter_bytes(1 << 20):
            size += len(chunk)
            newlines += chunk.count(b"\n")
            sink.write(chunk)
    seconds = time.perf_counter() - started
    rows = newlines if fmt == "jsonl" else pq.ParquetFile(target).metadata.num_rows
    target.unlink()
    return {
        "rows": rows,
        "bytes": size,
        "seconds": round(seconds, 3),
        "mb_per_s": round(size / 1e6 / seconds, 1),
        "rows_per_s": round(rows / seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    started = time.perf_counter()
    with (
        FakePortal(rows=args.rows, seed=args.seed) as portal,
        tempfile.TemporaryDirectory(prefix="fake-portal-bench-") as scratch,
    ):
        startup = time.perf_counter() - started
        result = {"bench": "fake_portal", "rows": args.rows, "startup_seconds": round(startup, 2)}
        for fmt in FORMATS:
            result[fmt] = _stream(portal.dataset_url, fmt, Path(scratch))
            if result[fmt]["rows"] != args.rows:
                raise SystemExit(f"{fmt} export had {result[fmt]['rows']} rows, not {args.rows}")
            print(f"{fmt}: {result[fmt]}", flush=True)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""Benchmark: generate N rows, then stream the fake portal's full export (jsonl, parquet).

    uv run python bench/fake_portal.py --rows 1000000

First the generator writes N rows to a parquet file chunk by chunk (seconds, rows/s, and how
much this process's memory grew). Then the portal runs as its own process
(`mmds-ingest fake-portal`), as it does beside a connector, and this process streams each
export with httpx. Prints one line per phase, then one JSON line last: rows, generation,
the portal's start-up seconds and peak memory, and per format rows, bytes, seconds, MB/s and
rows/s.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil
import pyarrow.parquet as pq
from mmds_ingest.fake_portal import generate_batches
from mmds_ingest.fake_portal.generator import SCHEMA

FORMATS = ("jsonl", "parquet")
DATASET_PATH = "/api/explore/v2.1/catalog/datasets/3-1-1-service-requests"


class PeakMemory(threading.Thread):
    """Samples a process's resident memory until stopped; `peak_mb` is the highest seen."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak_mb = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.05):
            try:
                rss = sum(p.memory_info().rss for p in [self.process, *self.process.children()])
            except psutil.Error:
                return
            self.peak_mb = max(self.peak_mb, rss >> 20)


def stream_export(url: str, fmt: str, scratch: Path) -> dict:
    """Download one export to a file; return rows, bytes, seconds, MB/s and rows/s."""
    target = scratch / f"export.{fmt}"
    params = {"timezone": "UTC", "order_by": "last_modified_timestamp"}
    started = time.perf_counter()
    size = newlines = 0
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


def generate(rows: int, seed: int, scratch: Path) -> dict:
    """Write `rows` generated rows to parquet in chunks; return seconds, rows/s, memory growth."""
    memory = PeakMemory(os.getpid())
    baseline = memory.process.memory_info().rss >> 20
    memory.start()
    started = time.perf_counter()
    with pq.ParquetWriter(scratch / "generated.parquet", SCHEMA) as writer:
        for batch in generate_batches(rows, seed):
            writer.write_batch(batch)
    seconds = time.perf_counter() - started
    memory.done.set()
    memory.join()
    return {
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "rss_growth_mb": max(memory.peak_mb - baseline, 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    result: dict = {"bench": "fake_portal", "rows": args.rows}
    with tempfile.TemporaryDirectory(prefix="fake-portal-bench-") as scratch:
        result["generate"] = generate(args.rows, args.seed, Path(scratch))
    print(f"generate: {result['generate']}", flush=True)
    command = [str(Path(sys.executable).with_name("mmds-ingest")), "fake-portal"]
    started = time.perf_counter()
    portal = subprocess.Popen(
        [*command, "--rows", str(args.rows), "--seed", str(args.seed)],
        stdout=subprocess.PIPE,
        text=True,
    )
    memory = PeakMemory(portal.pid)
    memory.start()
    try:
        url = portal.stdout.readline().strip()
        if not url:
            raise SystemExit("the fake portal did not start (see its output above)")
        result["startup_seconds"] = round(time.perf_counter() - started, 2)
        with tempfile.TemporaryDirectory(prefix="fake-portal-bench-") as scratch:
            for fmt in FORMATS:
                result[fmt] = stream_export(f"{url}{DATASET_PATH}", fmt, Path(scratch))
                if result[fmt]["rows"] != args.rows:
                    raise SystemExit(
                        f"{fmt} export had {result[fmt]['rows']} rows, not {args.rows}"
                    )
                print(f"{fmt}: {result[fmt]}", flush=True)
    finally:
        portal.send_signal(signal.SIGTERM)
        portal.wait(timeout=60)
        memory.done.set()
        memory.join()
    result["portal_peak_rss_mb"] = memory.peak_mb
    print(json.dumps(result))


if __name__ == "__main__":
    main()

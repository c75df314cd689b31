"""Serving files published by the real pipeline from generated data: the dashboard's test data.

The dashboard's tests against data (`tests/dashboard/`, fixture `published_serving`) read what
`mmds run` publishes, never a copy of the contract written out by hand: one vocabulary (the fake
portal's), one hash (dbt's). They live at the root because building the files takes the other
members, and the dashboard package imports none of them.

`bench/dashboard.py` and the dashboard's screenshot script build their 1M-request files with
`publish_sample`, the README's own `mmds run --sample`.
"""

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

BIN = Path(sys.executable).parent
ROWS = 6_000
SEED = 5
START = date(2025, 6, 1)  # 18 months of requests: every page has history to compare with
REOPENED_DRAWN = 12  # records the City deletes between the runs; the closed ones come back open
NEW_TYPE = "Vendor's Street Use Permit Case"  # a request type the City adds, with a quote
NEW_TYPE_REQUESTS = 3
RUN_TIMEOUT_S = 1800


@dataclass(frozen=True)
class PublishedServing:
    """Two publications of one generated portal, both read-only for the tests sharing them."""

    first: Path  # after the first `mmds run`: a full load of the portal with the hostile mix
    latest: Path  # after a day of changes (requests closed, added, edited, reopened) and a run
    portal_now: datetime  # the portal's clock at the latest run (UTC)


def _environment(data_dir: Path, portal_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MMDS_")}
    env["MMDS_DATA_DIR"] = str(data_dir)
    if portal_url:
        env["MMDS_PORTAL_URL"] = portal_url
    return env


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(
        [str(BIN / command[0]), *command[1:]],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=RUN_TIMEOUT_S,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({result.returncode}):\n"
            f"{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )


def publish_sample(data_dir: Path, rows: int, seed: int = 311) -> Path:
    """`mmds run --sample` of `rows` generated requests into `data_dir`; the serving file."""
    env = _environment(data_dir, None) | {
        "MMDS_SAMPLE_ROWS": str(rows),
        "MMDS_SAMPLE_SEED": str(seed),
    }
    _run(["mmds", "run", "--sample"], env)
    return data_dir / "serving.duckdb"


def publish_twice(folder: Path) -> PublishedServing:
    """Two `mmds run`s against one fake portal serving generated requests and the hostile mix:
    a full load, then a day of changes with requests the City reopened and a new request type."""
    from mmds_ingest.fake_portal import FakePortal
    from mmds_ingest.fake_portal.generator import generate_records

    data_dir = folder / "data"
    with FakePortal(rows=ROWS, seed=SEED, start=START, hostile=True) as portal:
        env = _environment(data_dir, portal.url)
        _run(["mmds", "run"], env)
        first = shutil.copy2(data_dir / "serving.duckdb", folder / "first.duckdb")
        stamp = portal.now.replace(microsecond=0).isoformat()
        reopened = [
            record
            | {
                "status": "Open",
                "closure_reason": "N/A",
                "service_request_close_date": None,
                "last_modified_timestamp": stamp,
            }
            for record in portal.delete_records(REOPENED_DRAWN)
            if record["status"] == "Close"
        ]
        portal.add_records(reopened)
        week_before = (portal.now - timedelta(days=7)).date()
        portal.add_records(
            record | {"service_request_type": NEW_TYPE}
            for record in generate_records(
                NEW_TYPE_REQUESTS, seed=SEED, start=week_before, end=portal.now
            )
        )
        portal.advance(1.0)
        _run(["mmds", "run"], env)
        now = portal.now
    return PublishedServing(first=Path(first), latest=data_dir / "serving.duckdb", portal_now=now)

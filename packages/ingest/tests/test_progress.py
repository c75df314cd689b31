"""`run_load(..., on_progress=...)` hears of every phase, in order, and of the download's rows
and bytes a few times a second; `mmds-ingest load` shows the same without a terminal as log
lines."""

import subprocess
import sys
import time
from pathlib import Path

from mmds_ingest import IngestSettings, run_load
from mmds_ingest.fake_portal import FakePortal
from mmds_ingest.progress import UPDATES_PER_SECOND, LoadProgress

DATASET = "3-1-1-service-requests"
MMDS_INGEST = str(Path(sys.executable).with_name("mmds-ingest"))


def _phases(reports: list[LoadProgress]) -> list[str]:
    phases: list[str] = []
    for report in reports:
        if not phases or phases[-1] != report.phase:
            phases.append(report.phase)
    return phases


def test_every_phase_is_reported_in_order(fake_portal, ingest_settings):
    first: list[LoadProgress] = []
    again: list[LoadProgress] = []
    skipped: list[LoadProgress] = []

    run_load(ingest_settings, on_progress=first.append)
    fake_portal.advance(days=1)
    run_load(ingest_settings, on_progress=again.append)
    run_load(ingest_settings, on_progress=skipped.append)

    assert _phases(first) == ["metadata", "download", "reconcile", "commit", "done"]
    assert _phases(again) == ["metadata", "download", "merge", "reconcile", "commit", "done"]
    assert _phases(skipped) == ["metadata", "reconcile", "commit", "done"]
    assert {report.dataset for report in first + again + skipped} == {DATASET}
    download = next(report for report in first if report.phase == "download")
    assert download.expected_rows == 2_000


def test_the_download_is_reported_a_few_times_a_second(tmp_path):
    reports: list[tuple[float, LoadProgress]] = []
    with FakePortal(rows=60_000, seed=3) as portal:
        settings = IngestSettings(data_dir=tmp_path, portal_url=portal.url)
        portal.inject("slow_first_byte", seconds=0.5, endpoint="exports")
        run_load(settings, on_progress=lambda report: reports.append((time.monotonic(), report)))

    received = [(at, report) for at, report in reports if report.phase == "download"]
    counts = [report.rows for _, report in received]
    assert counts == sorted(counts)  # rows only grow
    assert all(report.expected_rows == 60_000 for _, report in received)
    assert all(report.rows <= 60_000 and report.bytes >= 0 for _, report in received)
    seconds = received[-1][0] - received[0][0]
    assert len(received) <= seconds * UPDATES_PER_SECOND + 2


def test_the_command_without_a_terminal_logs_each_phase(fake_portal, tmp_path):
    done = subprocess.run(
        [MMDS_INGEST, "load", "--data-dir", str(tmp_path), "--portal-url", fake_portal.url],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert "\x1b[" not in done.stdout + done.stderr  # no terminal, no escape codes
    lines = [line.split(" INFO ", 1)[-1] for line in done.stderr.splitlines()]
    shown = [line.split(":", 1)[1].split()[0] for line in lines if line.startswith(f"{DATASET}:")]
    assert shown == ["metadata", "download", "reconcile", "commit", "done"]
    assert f"{DATASET}: download (0 of 2,000 rows, 0.0 MB)" in lines

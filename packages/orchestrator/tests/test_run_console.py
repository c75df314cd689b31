"""What `mmds run` shows: a line per stage (live on a terminal, plain elsewhere), a summary that
counts checks as Dagster and the serving file do, and a log file holding everything."""

import os
import pty
import re
import select
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from mmds_ingest.fake_portal import FakePortal
from mmds_orchestrator.check_results import latest_check_results
from mmds_orchestrator.definitions import defs
from mmds_orchestrator.run_log import create_log_file

MMDS = Path(sys.executable).with_name("mmds")
ANSI = "\x1b["


def _log_of(stdout: str) -> Path:
    return Path(stdout.splitlines()[-1].removeprefix("log").strip())


def test_only_the_newest_logs_are_kept_each_named_by_its_start_time(tmp_path):
    starts = [datetime(2026, 12, 1, 10, minute, tzinfo=UTC) for minute in range(5)]
    paths = [create_log_file(tmp_path, started, keep=3) for started in starts]
    twin = create_log_file(tmp_path, starts[-1], keep=3)  # started in the same second

    assert paths[-1].name == "mmds-run-20261201T100400Z.log"
    assert twin.name == "mmds-run-20261201T100400Z-2.log"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "mmds-run-20261201T100300Z.log",
        "mmds-run-20261201T100400Z-2.log",
        "mmds-run-20261201T100400Z.log",
    ]


@pytest.mark.slow
def test_a_run_off_a_terminal_prints_plain_stage_lines_and_a_summary(published, query):
    output = published.first.stdout
    serving = published.data_dir / "serving.duckdb"

    assert ANSI not in output
    for stage in (
        "ingest   started",
        "ingest   done in",
        "dbt      started: ",
        "dbt      done in",
        "publish  done in",
    ):
        assert stage in output
    assert re.search(
        r"^loads      3-1-1-service-requests: full load, 3,017 received: 3,017 inserted, ",
        output,
        re.M,
    )
    (flagged,) = query(
        serving, "select count(distinct service_request_id) from gold.fct_quarantined_requests"
    )[0]
    assert flagged > 0
    assert (
        f"flagged    {flagged:,} requests (gold.fct_quarantined_requests, as published): " in output
    )
    assert re.search(
        r"^published  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC to .*serving\.duckdb$", output, re.M
    )
    assert output.splitlines()[-1].startswith("log        ")


@pytest.mark.slow
def test_checks_are_counted_the_same_in_the_summary_the_serving_file_and_dagster(
    published, query, monkeypatch
):
    passed, warned, failed = map(
        int,
        re.search(
            r"^checks     (\d+) passed, (\d+) warned, (\d+) failed", published.first.stdout, re.M
        ).groups(),
    )
    serving = published.data_dir / "serving.duckdb"
    recorded = dict(query(serving, "select status, count(*) from meta.test_results group by 1"))
    monkeypatch.setenv("MMDS_DATA_DIR", str(published.data_dir))
    repository = defs().get_repository_def()
    from dagster import DagsterInstance

    with DagsterInstance.from_config(str(published.data_dir / "dagster_home")) as instance:
        dagster = latest_check_results(instance, list(repository.asset_graph.asset_check_keys))

    assert warned > 0  # the hostile mix: domain tests warn, with counts
    assert recorded == {
        s: n for s, n in {"pass": passed, "warn": warned, "fail": failed}.items() if n
    }
    assert len(dagster) == passed + warned + failed == len(repository.asset_graph.asset_check_keys)


@pytest.mark.slow
def test_the_log_file_holds_dagsters_and_dbts_own_output_without_ansi(published):
    log = _log_of(published.first.stdout).read_text(encoding="utf-8")

    assert ANSI not in log
    assert "Done. PASS=" in log  # dbt's own summary line
    assert " - dagster - INFO - mmds_rebuild - " in log  # Dagster's own log lines
    for line in published.first.stdout.splitlines():
        assert line in log


@pytest.mark.slow
def test_on_a_terminal_the_stages_are_live_and_v_streams_dagsters_logs(
    published_copy, run_env, portal_options
):
    with FakePortal(**portal_options) as portal:
        env = run_env(published_copy, portal.url)
        terminal = _on_a_terminal([str(MMDS), "run"], env)
        verbose = subprocess.run(
            [str(MMDS), "run", "-v"], env=env, capture_output=True, text=True, timeout=600
        )

    assert terminal.returncode == 0, terminal.output
    assert ANSI in terminal.output  # drawn by rich
    assert "✓" in terminal.output and "ingest" in terminal.output
    assert "dbt and publish: bronze unchanged, and dbt is up to date" in terminal.output
    assert verbose.returncode == 0
    assert " - dagster - " in verbose.stdout  # Dagster's own lines, on the console
    assert ANSI not in verbose.stdout


class _Terminal:
    def __init__(self, returncode: int, output: str) -> None:
        self.returncode, self.output = returncode, output


def _on_a_terminal(command: list[str], env: dict[str, str]) -> _Terminal:
    """Run `command` with a pseudo-terminal as its stdout and stderr; all it drew."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        command, env={**env, "COLUMNS": "120"}, stdout=terminal, stderr=terminal, close_fds=True
    )
    os.close(terminal)
    chunks = []
    while True:
        ready, _, _ = select.select([controller], [], [], 600)
        if not ready:
            break
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed: the process ended
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    return _Terminal(process.wait(timeout=60), b"".join(chunks).decode("utf-8", "replace"))

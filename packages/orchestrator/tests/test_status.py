"""`mmds status`: the last run and its outcome, the loads, freshness, quarantined rows, and where
the dashboard and the UI live and whether they are up."""

import http.server
import subprocess
import sys
import threading
from pathlib import Path

import pytest

MMDS = Path(sys.executable).with_name("mmds")


def _status(env: dict[str, str], *args: str) -> list[str]:
    result = subprocess.run(
        [str(MMDS), "status", *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.splitlines()


def test_a_data_dir_without_runs_says_what_to_run(tmp_path, run_env):
    lines = _status(run_env(tmp_path / "data", "http://127.0.0.1:9"))

    assert "last run   none yet: `mmds run --sample` (offline) or `mmds run`" in lines
    assert "published  nothing yet: serving.duckdb is written by `mmds run`" in lines
    assert any(line.startswith("dashboard  http://127.0.0.1:8501 (not running") for line in lines)


@pytest.mark.slow
def test_after_a_run_status_tells_its_outcome_and_sees_a_server_that_is_up(published, run_env):
    class Healthy(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/_stcore/health" else 404)
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Healthy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        lines = _status(
            run_env(published.data_dir, "http://127.0.0.1:9"), "--dashboard-port", str(port)
        )
    finally:
        server.shutdown()
        server.server_close()

    text = "\n".join(lines)
    assert "last run   mmds_rebuild succeeded, " in text
    assert "last loads " in text and "full load, 3,017 received" in text
    assert "newest change in the data" in text
    assert "flagged    " in text and "(gold.fct_quarantined_requests, as published)" in text
    assert f"dashboard  http://127.0.0.1:{port} (up)" in lines
    assert "dagster ui http://127.0.0.1:3000 (not running: `mmds ui` starts it)" in lines

"""The launcher's command line: help, version, bad values and a busy port answered in one line."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

from mmds_dashboard import __version__

LAUNCHER = Path(sys.executable).with_name("mmds-dashboard")


def _run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LAUNCHER), *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def test_help_names_options_settings_and_examples() -> None:
    result = _run("--help")
    assert result.returncode == 0
    help_text = result.stdout
    for expected in ("--port", "--serving-file", "--data-dir", "--version", "127.0.0.1"):
        assert expected in help_text
    assert "[env var: MMDS_SERVING_FILE]" in help_text
    assert "MMDS_DATA_DIR]" in help_text
    assert "Examples:" in help_text and "mmds-dashboard --port 8502" in help_text
    assert not re.search(r"<[a-z ]+>", help_text), "no <bool>, <int range> placeholders"


def test_version() -> None:
    result = _run("--version")
    assert (result.returncode, result.stdout.strip()) == (0, f"mmds-dashboard {__version__}")


def test_a_bad_port_is_refused() -> None:
    result = _run("--port", "70000")
    assert result.returncode == 2
    assert "Invalid value for '--port'" in result.stderr


def test_a_busy_port_is_answered_in_one_line_with_the_fix() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        started = time.monotonic()
        result = _run("--port", str(port), timeout=30)
        took = time.monotonic() - started
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"port {port} on 127.0.0.1 is already in use" in lines[0]
    assert f"--port {port + 1}" in lines[0]
    assert "Serving" not in result.stdout, "nothing was started"
    assert took < 10

"""The `mmds` command's surface: help everywhere, settings validated before anything starts."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mmds_orchestrator import cli
from typer.testing import CliRunner

runner = CliRunner()
MMDS = Path(sys.executable).with_name("mmds")


@pytest.mark.parametrize("command", [[], ["run"], ["status"], ["ui"], ["dashboard"]])
def test_every_command_has_help_without_placeholders_for_flags(command):
    result = runner.invoke(cli.app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output
    assert "<bool>" not in result.output


def test_help_shows_examples_and_the_environment_variables_of_options():
    assert "Examples:\n    mmds run --sample" in runner.invoke(cli.app, ["--help"]).output
    output = runner.invoke(cli.app, ["run", "--help"]).output
    assert "--sample" in output
    assert "--full-refresh" in output
    assert "[env var:\n" in output or "[env var: MMDS_SAMPLE_ROWS" in output
    assert "MMDS_SAMPLE_ROWS" in output
    assert "Examples:\n    mmds run --sample" in output
    assert "MMDS_DASHBOARD_PORT" in runner.invoke(cli.app, ["dashboard", "--help"]).output
    assert "MMDS_SCHEDULES_ENABLED" in runner.invoke(cli.app, ["ui", "--help"]).output


def test_version_names_every_member_and_the_frameworks():
    result = runner.invoke(cli.app, ["--version"])
    assert result.exit_code == 0
    for name in ("mmds-orchestrator", "mmds-ingest", "mmds-transform", "dagster", "dbt-core"):
        assert f"{name} " in result.output


@pytest.mark.parametrize(
    ("command", "variable"), [("dashboard", "MMDS_DASHBOARD_PORT"), ("ui", "MMDS_UI_PORT")]
)
def test_a_busy_port_is_refused_at_once_in_one_line_with_the_fix(tmp_path, command, variable):
    env = {**os.environ, "MMDS_DATA_DIR": str(tmp_path / "data")}
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        started = time.monotonic()
        result = subprocess.run(
            [str(MMDS), command, "--port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        seconds = time.monotonic() - started

    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert f"port {port} on 127.0.0.1 is in use" in line
    assert "--port" in line and variable in line
    assert "Serving" not in result.stdout
    assert seconds < 10


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MMDS_PORTAL_URL", "not-a-url"),
        ("MMDS_RETRY_BUDGET_SECONDS", "-1"),
        ("MMDS_INCREMENTAL_CRON", "every hour"),
        ("MMDS_SCHEDULES_ENABLED", "maybe"),
    ],
)
def test_an_invalid_setting_stops_mmds_run_before_anything_starts(tmp_path, variable, value):
    data_dir = tmp_path / "data"
    env = {**os.environ, "MMDS_DATA_DIR": str(data_dir), variable: value}
    started = time.monotonic()
    result = subprocess.run(
        [str(MMDS), "run"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    seconds = time.monotonic() - started

    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert variable in line
    assert "Traceback" not in line
    assert not data_dir.exists(), "something started before the settings were validated"
    assert seconds < 5, f"{seconds:.1f} s"  # a second on a quiet machine; this one is shared


def test_an_invalid_option_from_the_environment_names_its_variable(tmp_path):
    env = {**os.environ, "MMDS_DATA_DIR": str(tmp_path / "data"), "MMDS_SAMPLE_ROWS": "many"}
    result = subprocess.run(
        [str(MMDS), "run", "--sample"], env=env, capture_output=True, text=True, check=False
    )

    assert result.returncode == 2
    assert "MMDS_SAMPLE_ROWS" in result.stderr
    assert not (tmp_path / "data").exists()

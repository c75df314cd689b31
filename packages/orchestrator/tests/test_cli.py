"""The `mmds` command's surface: help everywhere, settings validated before anything starts."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mmds_orchestrator import cli
from typer.testing import CliRunner

runner = CliRunner()


@pytest.mark.parametrize("command", [[], ["run"], ["ui"], ["dashboard"]])
def test_every_command_has_help(command):
    result = runner.invoke(cli.app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_run_offers_sample_and_full_refresh():
    output = runner.invoke(cli.app, ["run", "--help"]).output
    assert "--sample" in output
    assert "--full-refresh" in output


MMDS = Path(sys.executable).with_name("mmds")


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

"""The `mmds` command's surface: help everywhere."""

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

"""The `mmds` command's surface: help everywhere, and a plain message when a piece is missing."""

import importlib.util

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


def test_a_missing_package_is_named_instead_of_a_traceback(monkeypatch):
    real_find_spec = importlib.util.find_spec

    def without_transform(name, *args):
        return None if name == "mmds_transform" else real_find_spec(name, *args)

    monkeypatch.setattr(cli, "find_spec", without_transform)

    result = runner.invoke(cli.app, ["run", "--sample"])

    assert result.exit_code == 2
    assert "mmds-transform is not installed" in result.output
    assert "Traceback" not in result.output

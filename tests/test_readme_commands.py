"""Every command the docs show is exercised: run here, or by the named test that mirrors it."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.readme import ROOT, command_key, documented_commands
from tests.servers import free_port, listening_addresses, serve

# What exercises each documented command: a test (`path::function`) or a CI file running it.
EXERCISED_BY = {
    "mmds run": [
        "tests/test_fresh_clone.py::test_fresh_clone_runs_the_readme_quick_start",
        "packages/orchestrator/tests/test_pipeline_run.py::"
        "test_a_routine_run_after_the_portal_changed_loads_builds_and_republishes",
    ],
    "mmds status": [
        "packages/orchestrator/tests/test_status.py::"
        "test_after_a_run_status_tells_its_outcome_and_sees_a_server_that_is_up"
    ],
    "mmds ui": ["tests/test_readme_commands.py::test_mmds_ui_serves_dagster_on_loopback"],
    "mmds dashboard": ["tests/test_readme_commands.py::test_dashboards_serve_on_loopback"],
    "mmds-dashboard": ["tests/test_readme_commands.py::test_dashboards_serve_on_loopback"],
    "streamlit run": ["tests/test_readme_commands.py::test_dashboards_serve_on_loopback"],
    "mmds-ingest": ["packages/ingest/tests/test_cli.py::test_load_then_status_and_history"],
    "mmds-ingest load": ["packages/ingest/tests/test_cli.py::test_load_then_status_and_history"],
    "dbt build": [
        "packages/transform/tests/test_seeded_build.py::test_first_build_runs_every_node_without_error"
    ],
    "python packages/transform/tests/seeded_warehouse.py": [".ci/run"],
    "sqlfluff lint": [".pre-commit-config.yaml"],
    "pre-commit run": [".ci/run"],
    "pre-commit install": ["tests/test_readme_commands.py::test_pre_commit_install_sets_the_hook"],
    "pytest": [".ci/run"],
    "python docs/diagrams.py": [
        "tests/test_docs.py::"
        "test_architecture_page_diagrams_match_the_definitions_and_the_dbt_manifest"
    ],
    "python packages/dashboard/scripts/screenshots.py": [
        "tests/dashboard/test_browser.py::"
        "test_every_page_renders_in_chromium_and_follows_a_republish"
    ],
    **{
        f"python bench/{name}.py": ["tests/test_readme_commands.py::test_every_benchmark_runs"]
        for name in (
            "all",
            "fake_portal",
            "ingest",
            "transform",
            "dashboard",
            "pipeline",
            "scale",
            "forecast",
            "warehouses",
        )
    },
}


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def _exercises(reference: str, key: str) -> bool:
    if "::" in reference:
        path, function = reference.split("::")
        source = (ROOT / path).read_text()
        return re.search(rf"^def {re.escape(function)}\(", source, re.MULTILINE) is not None
    return key.split()[-1] in (ROOT / reference).read_text()


def test_every_documented_command_is_exercised():
    unexercised = {
        f"{path}: {command}"
        for path, commands in documented_commands().items()
        for command in commands
        if command_key(command) not in EXERCISED_BY
    }
    assert not unexercised, "add each to EXERCISED_BY with the test that runs it"
    for key, references in EXERCISED_BY.items():
        for reference in references:
            assert _exercises(reference, key), f"{reference} does not exercise `{key}`"


@pytest.fixture
def env(tmp_path):
    return {**os.environ, "MMDS_DATA_DIR": str(tmp_path / "data")}


@pytest.mark.slow
def test_mmds_ui_serves_dagster_on_loopback(env):
    command = [_bin("mmds"), "ui", "--port", str(free_port())]
    with serve(command, env=env, health="/server_info", timeout=300) as ui:
        assert listening_addresses(ui.pid) == {"127.0.0.1"}
        assert " - dagster - INFO - " not in ui.output()  # start-up chatter: only with -v


@pytest.mark.slow  # three Streamlit servers, one after the other
def test_dashboards_serve_on_loopback(env):
    app = ROOT / "packages/dashboard/src/mmds_dashboard/app.py"
    commands = [
        [_bin("mmds"), "dashboard", "--port", str(free_port())],
        [_bin("mmds-dashboard"), "--port", str(free_port())],
        [sys.executable, "-m", "streamlit", "run", str(app), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false", "--server.headless", "true",
         "--server.port", str(free_port())],
    ]  # fmt: skip
    for command in commands:
        with serve(command, env=env, health="/_stcore/health") as dashboard:
            assert listening_addresses(dashboard.pid) == {"127.0.0.1"}, command


def test_pre_commit_install_sets_the_hook(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    subprocess.run([_bin("pre-commit"), "install"], cwd=clone, check=True, capture_output=True)
    assert "pre-commit" in (clone / ".git" / "hooks" / "pre-commit").read_text()


@pytest.mark.slow
@pytest.mark.heavy
def test_every_benchmark_runs():
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "all.py"), "--rows", "4000"],
        capture_output=True,
        text=True,
        check=False,
        timeout=1200,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    names = {path.stem for path in (ROOT / "bench").glob("*.py")} - {"all", "common", "_common"}
    assert names <= set(figures), names - set(figures)

"""Shared fixtures: an isolated data dir per test, with the dbt manifest parsed once a session."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from mmds_orchestrator.defs.transform.project import default_project_dir, prepare_dbt_project
from mmds_orchestrator.settings import DBT_ARTIFACTS_DIR

# Small enough for a quick `dbt build`, large enough for every gold table to have rows.
SAMPLE_ROWS = 3_000

# Variables a test must never inherit from the developer's shell.
_ISOLATED = ("MMDS_PORTAL_URL", "MMDS_PORTAL_API_KEY", "MMDS_DBT_PROJECT_DIR", "DAGSTER_HOME")


@pytest.fixture(scope="session")
def parsed_dbt_target(tmp_path_factory) -> Path:
    """A dbt target dir holding a fresh manifest of mmds-transform's project (parsed once)."""
    data_dir = tmp_path_factory.mktemp("parsed")
    artifacts = data_dir / DBT_ARTIFACTS_DIR
    prepare_dbt_project(default_project_dir(), artifacts, data_dir)
    return artifacts / "target"


def isolate_environment(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    """Point every MMDS_ setting at `data_dir` and make failing portals fail fast."""
    for name in _ISOLATED:
        # set then delete, so that whatever the code under test sets is undone afterwards
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.setenv("MMDS_DATA_DIR", str(data_dir))
    monkeypatch.setenv("MMDS_SAMPLE_ROWS", str(SAMPLE_ROWS))
    monkeypatch.setenv("MMDS_RETRY_INITIAL_WAIT_SECONDS", "0.01")
    monkeypatch.setenv("MMDS_RETRY_MAX_WAIT_SECONDS", "0.1")
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")


def new_data_dir(root: Path, parsed_dbt_target: Path) -> Path:
    """An empty data dir that already holds the session's dbt manifest."""
    data_dir = root / "data"
    shutil.copytree(
        parsed_dbt_target,
        data_dir / DBT_ARTIFACTS_DIR / "target",
        ignore=shutil.ignore_patterns(".prepare.lock", "runs", "logs"),
    )
    return data_dir


@pytest.fixture
def data_dir(tmp_path, parsed_dbt_target, monkeypatch) -> Iterator[Path]:
    """A fresh MMDS_DATA_DIR for one test, with the environment pointing at it."""
    data = new_data_dir(tmp_path, parsed_dbt_target)
    isolate_environment(monkeypatch, data)
    yield data

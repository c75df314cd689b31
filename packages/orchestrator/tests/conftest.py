"""Shared fixtures: an isolated data dir per test, with the dbt manifest parsed once a session."""

import shutil
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest
from mmds_ingest import IngestSettings
from mmds_orchestrator.defs.transform.project import mmds_dbt_project, prepare_manifest
from mmds_orchestrator.settings import DBT_ARTIFACTS_DIR, OrchestratorSettings, PipelineSettings

# Small enough for a quick `dbt build`, large enough for every gold table to have rows.
SAMPLE_ROWS = 3_000

# Variables a test must never inherit from the developer's shell.
_ISOLATED = ("MMDS_PORTAL_URL", "MMDS_PORTAL_API_KEY", "MMDS_DBT_PROJECT_DIR", "DAGSTER_HOME")


@pytest.fixture(scope="session")
def parsed_dbt_target(tmp_path_factory) -> Path:
    """A dbt target dir holding a fresh manifest of mmds-transform's project (parsed once)."""
    data_dir = tmp_path_factory.mktemp("parsed")
    settings = PipelineSettings(
        IngestSettings(data_dir=data_dir), OrchestratorSettings(dbt_project_dir=None)
    )
    project = mmds_dbt_project(settings)
    prepare_manifest(project, data_dir)
    return project.manifest_path.parent


def _isolate(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
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


def _new_data_dir(root: Path, parsed_dbt_target: Path) -> Path:
    """An empty data dir that already holds the session's dbt manifest."""
    data_dir = root / "data"
    shutil.copytree(
        parsed_dbt_target,
        data_dir / DBT_ARTIFACTS_DIR / "target",
        ignore=shutil.ignore_patterns(".parse.lock", "logs"),
    )
    return data_dir


@pytest.fixture
def data_dir(tmp_path, parsed_dbt_target, monkeypatch) -> Iterator[Path]:
    """A fresh MMDS_DATA_DIR for one test, with the environment pointing at it."""
    data = _new_data_dir(tmp_path, parsed_dbt_target)
    _isolate(monkeypatch, data)
    yield data


@pytest.fixture
def isolate_environment():
    """`isolate(monkeypatch, data_dir)`: point the environment at another data dir."""
    return _isolate


# A tiny dbt project on its own DuckDB file: a quick model, then one that holds dbt's connection
# (the warehouse lock) for a minute.
PROBE_PROJECT_FILES = {
    "dbt_project.yml": "name: probe\nversion: '1.0'\nprofile: probe\n",
    "profiles.yml": (
        "probe:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        "      path: \"{{ env_var('PROBE_WAREHOUSE') }}\"\n      threads: 1\n"
    ),
    "models/quick.sql": "select 1 as id\n",
    "models/slow.py": (
        "import time\n\n\ndef model(dbt, session):\n"
        "    quick = dbt.ref('quick')\n    time.sleep(60)\n    return quick\n"
    ),
}


@pytest.fixture
def dbt_probe(tmp_path, monkeypatch) -> SimpleNamespace:
    """The probe project (`project`), its warehouse file (`warehouse`) and a scratch dir."""
    project = tmp_path / "probe"
    for name, text in PROBE_PROJECT_FILES.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text, encoding="utf-8")
    warehouse = tmp_path / "probe.duckdb"
    monkeypatch.setenv("PROBE_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    return SimpleNamespace(project=project, warehouse=warehouse, scratch=tmp_path)


@pytest.fixture
def sample_rows() -> int:
    """Rows the sample portal serves in these tests (MMDS_SAMPLE_ROWS)."""
    return SAMPLE_ROWS


@pytest.fixture
def query():
    """`query(duckdb_file, sql)`: all rows, from a read-only connection closed right after."""

    def run(path: Path, sql: str) -> list[tuple]:
        with duckdb.connect(str(path), read_only=True) as con:
            con.execute("set TimeZone = 'UTC'")
            return con.execute(sql).fetchall()

    return run


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory, parsed_dbt_target) -> SimpleNamespace:
    """Two `mmds run --sample` in a row on one fresh data dir (shared by a module's tests)."""
    from mmds_orchestrator.cli import app
    from typer.testing import CliRunner

    data_dir = _new_data_dir(tmp_path_factory.mktemp("two-runs"), parsed_dbt_target)
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as monkeypatch:
        _isolate(monkeypatch, data_dir)
        first = runner.invoke(app, ["run", "--sample"])
        first_published_at = None
        if first.exit_code == 0:
            with duckdb.connect(str(data_dir / "serving.duckdb"), read_only=True) as con:
                first_published_at = con.execute(
                    "select published_at from meta.publish"
                ).fetchone()[0]
        second = runner.invoke(app, ["run", "--sample"])
    return SimpleNamespace(
        data_dir=data_dir, first=first, first_published_at=first_published_at, second=second
    )

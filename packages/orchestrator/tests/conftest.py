"""Shared fixtures: an isolated data dir per test, with the dbt manifest parsed once a session."""

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import duckdb
import psutil
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


class MmdsProcess:
    """A real `mmds` in its own process group, SIGINT at its default (a background process of
    a non-interactive shell inherits it ignored), its output read line by line as it comes."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [str(Path(sys.executable).with_name("mmds")), *args],
            env=dict(os.environ) if env is None else env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, text: str, timeout: float = 300) -> str:
        """Read lines until one contains `text`; fail if the process ends first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=deadline - time.monotonic())
            except queue.Empty:
                break
            if line is None:
                raise AssertionError(f"mmds ended before {text!r}:\n" + "\n".join(self.lines))
            self.lines.append(line)
            if text in line:
                return line
        raise AssertionError(f"no {text!r} within {timeout} s:\n" + "\n".join(self.lines))

    def signal(self, signum: int) -> float:
        """Send `signum` to the process group; return the seconds until the process ended."""
        sent = time.monotonic()
        os.killpg(self.process.pid, signum)
        self.process.wait(timeout=60)
        return time.monotonic() - sent

    def finish(self, timeout: float = 600) -> list[str]:
        """Wait for the end; every line it printed."""
        self.process.wait(timeout=timeout)
        while (line := self._queue.get(timeout=10)) is not None:
            self.lines.append(line)
        return self.lines

    def leftovers(self, grace: float = 2.0) -> list[str]:
        """Processes of its process group (dbt, say) still alive `grace` seconds after it ended,
        zombies aside (multiprocessing's resource tracker takes a moment to notice)."""
        deadline = time.monotonic() + grace
        while True:
            alive = [
                " ".join(p.info["cmdline"] or [p.info["name"]])
                for p in psutil.process_iter(["pid", "name", "cmdline", "status"])
                if p.info["status"] != psutil.STATUS_ZOMBIE
                and _group(p.info["pid"]) == self.process.pid
            ]
            if not alive or time.monotonic() > deadline:
                return alive
            time.sleep(0.1)


def _group(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


@pytest.fixture
def mmds():
    """`mmds(*args)`: start a real `mmds` (see `MmdsProcess`); every one is stopped at the end."""
    started: list[MmdsProcess] = []

    def start(*args: str, env: dict[str, str] | None = None) -> MmdsProcess:
        started.append(MmdsProcess(*args, env=env))
        return started[-1]

    yield start
    for run in started:
        if run.process.poll() is None:
            os.killpg(run.process.pid, signal.SIGKILL)
            run.process.wait()


@pytest.fixture
def fingerprint():
    """`fingerprint(data_dir)`: what a failed or stopped run must leave as it was: the serving
    file's bytes and bronze's rows, loads and state."""

    def take(data_dir: Path) -> tuple:
        serving = data_dir / "serving.duckdb"
        served = serving.read_bytes() if serving.exists() else None
        warehouse = data_dir / "warehouse.duckdb"
        if not warehouse.exists():
            return served, None
        with duckdb.connect(str(warehouse), read_only=True) as con:
            bronze = con.execute(
                "select count(*), sum(hash(_record_key, _row_hash)) from bronze.service_requests"
            ).fetchone()
            loads = con.execute("select load_id from bronze._loads order by load_id").fetchall()
            state = con.execute("select * from bronze._state").fetchall()
        return served, bronze, loads, state

    return take


MMDS = Path(sys.executable).with_name("mmds")
# The portal of `published`: a generated sample with the hostile mix (17 odd records: flagged,
# quarantined, far below the systemic thresholds).
PORTAL = {"rows": SAMPLE_ROWS, "seed": 11, "hostile": True}


def _run_env(data_dir: Path, portal_url: str, **settings: str) -> dict[str, str]:
    """The environment of an `mmds run` subprocess against `portal_url` (failing portals fail
    fast), with nothing inherited from the developer's MMDS_* or Dagster variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MMDS_", "DAGSTER_"))}
    return {
        **env,
        "MMDS_DATA_DIR": str(data_dir),
        "MMDS_PORTAL_URL": portal_url,
        "MMDS_RETRY_INITIAL_WAIT_SECONDS": "0.01",
        "MMDS_RETRY_MAX_WAIT_SECONDS": "0.1",
        **settings,
    }


@pytest.fixture(scope="session")
def published(tmp_path_factory, parsed_dbt_target) -> SimpleNamespace:
    """A data dir that one successful `mmds run` (subprocess) loaded from `PORTAL`, built and
    published (`data_dir`), and that run (`first`); shared: read it, or change a copy."""
    data_dir = _new_data_dir(tmp_path_factory.mktemp("published"), parsed_dbt_target)
    from mmds_ingest.fake_portal import FakePortal

    with FakePortal(**PORTAL) as portal:
        first = subprocess.run(
            [str(MMDS), "run"],
            env=_run_env(data_dir, portal.url),
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    assert first.returncode == 0, first.stdout + first.stderr
    return SimpleNamespace(data_dir=data_dir, first=first)


@pytest.fixture
def published_copy(published, tmp_path) -> Path:
    """A copy of `published`'s data dir, this test's own."""
    data_dir = tmp_path / "data"
    shutil.copytree(published.data_dir, data_dir)
    return data_dir


@pytest.fixture
def run_env():
    """`run_env(data_dir, portal_url, **MMDS_settings)`: an `mmds run` subprocess's environment."""
    return _run_env


@pytest.fixture
def portal_options() -> dict:
    """How `published`'s portal was made: the same options serve the same records."""
    return dict(PORTAL)

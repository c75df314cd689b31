"""A dbt build whose event stream breaks is stopped at once and releases the warehouse."""

import time
from pathlib import Path

import duckdb
import pytest
from mmds_orchestrator.defs.transform.project import dbt_executable
from mmds_orchestrator.defs.transform.resources import DbtCli
from mmds_orchestrator.defs.transform.stream import stream_events

# A quick model, then one that holds dbt's DuckDB connection (the warehouse lock) for a minute.
PROJECT_FILES = {
    "dbt_project.yml": "name: stream_probe\nversion: '1.0'\nprofile: stream_probe\n",
    "profiles.yml": (
        "stream_probe:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        "      path: \"{{ env_var('PROBE_WAREHOUSE') }}\"\n      threads: 1\n"
    ),
    "models/quick.sql": "select 1 as id\n",
    "models/slow.py": (
        "import time\n\n\ndef model(dbt, session):\n"
        "    quick = dbt.ref('quick')\n    time.sleep(60)\n    return quick\n"
    ),
}


class StreamBroke(RuntimeError):
    """Stands for any failure while dagster-dbt turns dbt's output into Dagster events."""


@pytest.fixture
def probe_project(tmp_path, monkeypatch) -> tuple[DbtCli, Path]:
    """A tiny dbt project on its own DuckDB file, parsed, and a resource to run it."""
    project = tmp_path / "project"
    for name, text in PROJECT_FILES.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text, encoding="utf-8")
    warehouse = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("PROBE_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    dbt = DbtCli(project_dir=str(project), dbt_executable=str(dbt_executable()))
    dbt.cli(["parse"], target_path=tmp_path / "parsed").wait()
    return dbt, tmp_path


# dagster-dbt's own reader of dbt's output, left half-read here, complains when collected.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_dbt_is_stopped_and_the_warehouse_unlocked_when_the_event_stream_breaks(probe_project):
    dbt, root = probe_project
    invocation = dbt.cli(
        ["build"], target_path=root / "build", manifest=root / "parsed" / "manifest.json"
    )
    events = invocation.stream()

    def breaking_after_the_first_event():
        yield next(iter(events))  # `quick` is built; dbt now holds the warehouse in `slow`
        raise StreamBroke("the event stream broke")

    invocation.stream = breaking_after_the_first_event
    started = time.monotonic()
    with pytest.raises(StreamBroke):
        for _ in stream_events(invocation):
            pass

    assert invocation.process.poll() is not None, "dbt is still running"
    assert time.monotonic() - started < 30, "dbt was waited for instead of stopped"
    with duckdb.connect(str(root / "warehouse.duckdb")) as con:  # raises if dbt still holds it
        assert con.execute("select id from main.quick").fetchall() == [(1,)]

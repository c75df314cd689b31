"""Dagster's own storage on PostgreSQL (`MMDS_DAGSTER_STORAGE_URL`): runs and their events land
in the server's database, and a home that cannot honour the setting says how to fix it."""

import os
import subprocess
import sys

import psycopg
import pytest
from dagster import asset, materialize
from mmds_orchestrator.instance import STORAGE_LOCK_KEY, DagsterHomeError, open_instance


def test_runs_and_events_are_stored_on_the_server(tmp_path, postgres_url, monkeypatch):
    url = postgres_url.replace("postgresql://", "postgresql+psycopg2://")
    monkeypatch.setenv("MMDS_DAGSTER_STORAGE_URL", url)

    @asset
    def one() -> int:
        return 1

    with open_instance(tmp_path / "home", storage_url=url) as instance:
        result = materialize([one], instance=instance)
        assert result.success
    with psycopg.connect(postgres_url) as con:
        runs = con.execute("SELECT run_id, status FROM runs").fetchall()
        events = con.execute("SELECT count(*) FROM event_logs WHERE run_id = %s", [result.run_id])
        assert (result.run_id, "SUCCESS") in runs
        assert events.fetchone()[0] > 0
    assert not list((tmp_path / "home").glob("**/*.db"))  # no SQLite storage beside it
    assert url not in (tmp_path / "home" / "dagster.yaml").read_text()


# One machine's first `mmds run`: it opens the instance, which creates the storage's tables.
OPEN_INSTANCE = """
import sys
from pathlib import Path
from mmds_orchestrator.instance import open_instance
open_instance(Path(sys.argv[1]), storage_url=sys.argv[2]).dispose()
"""


def test_a_machine_waits_while_another_creates_the_shared_storage(tmp_path, postgres_url):
    """Dagster creates its tables on first use, and two machines doing so at once can fail on
    each other's tables (it happened in CI): an opening waits for the one in progress."""
    url = postgres_url.replace("postgresql://", "postgresql+psycopg2://")
    env = os.environ | {"MMDS_DAGSTER_STORAGE_URL": url}
    with psycopg.connect(postgres_url, autocommit=True) as other_machine:
        other_machine.execute("SELECT pg_advisory_lock(%s)", [STORAGE_LOCK_KEY])
        opening = subprocess.Popen(
            [sys.executable, "-c", OPEN_INSTANCE, str(tmp_path / "home"), url], env=env
        )
        with pytest.raises(subprocess.TimeoutExpired):
            opening.wait(timeout=20)  # Dagster imported by then; waiting for the other machine
        assert other_machine.execute("SELECT to_regclass('runs')").fetchone() == (None,)
    # the other machine's session ended: its lock with it
    assert opening.wait(timeout=120) == 0
    with psycopg.connect(postgres_url) as con:
        assert con.execute("SELECT count(*) FROM runs").fetchone() == (0,)


def test_an_existing_home_without_storage_says_what_to_do(tmp_path):
    home = tmp_path / "home"
    open_instance(home).dispose()  # a home of SQLite storages
    with pytest.raises(DagsterHomeError, match="configures no storage: add the storage section"):
        open_instance(home, storage_url="postgresql+psycopg2://mmds@127.0.0.1:9/absent")


def test_the_storage_url_names_its_driver(monkeypatch):
    from mmds_orchestrator.settings import PipelineSettings, SettingsError

    monkeypatch.setenv("MMDS_DAGSTER_STORAGE_URL", "postgresql://u:secret@host/db")
    with pytest.raises(SettingsError, match="postgresql\\+psycopg2://") as raised:
        PipelineSettings.from_environment()
    assert "secret" not in str(raised.value)

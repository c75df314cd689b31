"""Dagster's own storage on PostgreSQL (`MMDS_DAGSTER_STORAGE_URL`): runs and their events land
in the server's database, and a home that cannot honour the setting says how to fix it."""

import psycopg
import pytest
from dagster import asset, materialize
from mmds_orchestrator.instance import DagsterHomeError, open_instance


def test_runs_and_events_are_stored_on_the_server(tmp_path, postgres_url, monkeypatch):
    url = postgres_url.replace("postgresql://", "postgresql+psycopg2://")
    monkeypatch.setenv("MMDS_DAGSTER_STORAGE_URL", url)

    @asset
    def one() -> int:
        return 1

    with open_instance(tmp_path / "home", postgres_storage=True) as instance:
        result = materialize([one], instance=instance)
        assert result.success
    with psycopg.connect(postgres_url) as con:
        runs = con.execute("SELECT run_id, status FROM runs").fetchall()
        events = con.execute("SELECT count(*) FROM event_logs WHERE run_id = %s", [result.run_id])
        assert (result.run_id, "SUCCESS") in runs
        assert events.fetchone()[0] > 0
    assert not list((tmp_path / "home").glob("**/*.db"))  # no SQLite storage beside it
    assert url not in (tmp_path / "home" / "dagster.yaml").read_text()


def test_an_existing_home_without_storage_says_what_to_do(tmp_path):
    home = tmp_path / "home"
    open_instance(home).dispose()  # a home of SQLite storages
    with pytest.raises(DagsterHomeError, match="configures no storage: add the storage section"):
        open_instance(home, postgres_storage=True)


def test_the_storage_url_names_its_driver(monkeypatch):
    from mmds_orchestrator.settings import PipelineSettings, SettingsError

    monkeypatch.setenv("MMDS_DAGSTER_STORAGE_URL", "postgresql://u:secret@host/db")
    with pytest.raises(SettingsError, match="postgresql\\+psycopg2://") as raised:
        PipelineSettings.from_environment()
    assert "secret" not in str(raised.value)

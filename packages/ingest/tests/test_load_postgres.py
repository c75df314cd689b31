"""Loading bronze into a real PostgreSQL server (`MMDS_WAREHOUSE_URL`): the same rows, audit and
cursor as the DuckDB file for the same portal, one transaction per load whatever stops it, one
writer at a time, and a clear, fast error for a server that cannot be used.

The server is the session's (tests/postgres_server.py); each test has its own database.
"""

import os
import signal
import subprocess
import sys
import time
from contextlib import closing
from functools import partial
from pathlib import Path

import duckdb
import psycopg
import pytest
from mmds_ingest import IngestSettings, run_load
from mmds_ingest.datasets import LOCAL_AREA_BOUNDARIES, SERVICE_REQUESTS
from mmds_ingest.errors import SettingsError, WarehouseLockedError, WarehouseUnreachableError
from mmds_ingest.fake_portal import FakePortal
from mmds_ingest.warehouses.postgres import LOCK_KEY

from tests.postgres_server import PostgresUnavailable, postgres_server

sys.path.insert(0, str(Path(__file__).parent))
from load_kills import LOADER, assert_consistent, kill_loads_midway, run_loader, snapshot


def _comparable(dataset) -> str:
    """Every column of a bronze row but the load's own stamps (`_load_id`, `_loaded_at`: each
    engine's load has its own), JSON as its text: SQL both engines run."""
    fields = [
        f"CAST({field.name} AS VARCHAR)" if field.kind.startswith("geo") else field.name
        for field in dataset.fields
    ]
    return (
        f"SELECT {', '.join(fields)}, _record_key, _row_hash, _quality_issues, "  # noqa: S608
        f"CAST(_raw AS VARCHAR) FROM {dataset.table} ORDER BY _record_key"
    )


STATE = "SELECT dataset, cursor, change_token, load_id FROM bronze._state ORDER BY dataset"
AUDIT = (
    "SELECT load_id, dataset, mode, status, rows_received, rows_inserted, rows_updated, "
    "rows_unchanged, rows_flagged, rows_deleted, portal_total_count, cursor_before, "
    "cursor_after, change_token, bronze_count FROM bronze._loads ORDER BY started_at"
)


def _settings(tmp_path, portal, url=None, name="data", **values) -> IngestSettings:
    return IngestSettings(
        data_dir=tmp_path / name,
        portal_url=portal.url,
        warehouse_url=url,
        retry_budget_seconds=10,
        retry_initial_wait_seconds=0.01,
        **values,
    )


def _bronze_duckdb(settings: IngestSettings, dataset) -> list:
    return _fetch_duckdb(settings, _comparable(dataset))


def _bronze_postgres(url: str, dataset) -> list:
    return _fetch_postgres(url, _comparable(dataset))


def _fetch_duckdb(settings, sql):
    with closing(duckdb.connect(str(settings.warehouse_path), read_only=True)) as con:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(sql).fetchall()


def _fetch_postgres(url, sql):
    with psycopg.connect(url) as con:
        return con.execute(sql).fetchall()


def _same_bronze(duck: IngestSettings, url: str) -> None:
    for dataset in (SERVICE_REQUESTS, LOCAL_AREA_BOUNDARIES):
        on_duckdb = _bronze_duckdb(duck, dataset)
        assert on_duckdb
        assert on_duckdb == _bronze_postgres(url, dataset)
    assert [row[:3] for row in _fetch_duckdb(duck, STATE)] == [
        row[:3] for row in _fetch_postgres(url, STATE)
    ]


def _load_all(settings: IngestSettings, **options) -> list:
    return [
        run_load(settings, dataset=dataset, **options)
        for dataset in (SERVICE_REQUESTS, LOCAL_AREA_BOUNDARIES)
    ]


@pytest.mark.slow
def test_the_same_bronze_as_duckdb_after_full_and_incremental_loads(tmp_path, postgres_url):
    with FakePortal(rows=3_000, seed=11) as portal:
        on_duckdb = _settings(tmp_path, portal, name="duckdb")
        on_postgres = _settings(tmp_path, portal, postgres_url, name="postgres")
        for settings in (on_duckdb, on_postgres):
            _load_all(settings)
        _same_bronze(on_duckdb, postgres_url)
        changes = []
        for _ in range(3):
            changes.append(portal.advance(days=4))
            portal.delete_records(3)
            results = [_load_all(settings) for settings in (on_duckdb, on_postgres)]
            assert [(r.rows_inserted, r.rows_updated, r.rows_deleted) for r in results[0]] == [
                (r.rows_inserted, r.rows_updated, r.rows_deleted) for r in results[1]
            ]
            _same_bronze(on_duckdb, postgres_url)
        assert all(c.added and c.closed and c.edited for c in changes)
        # The audit says the same on both engines (the load ids aside).
        duck_audit = [row[1:] for row in _fetch_duckdb(on_duckdb, AUDIT)]
        assert duck_audit == [row[1:] for row in _fetch_postgres(postgres_url, AUDIT)]
        # After every load, bronze holds exactly what the portal counts.
        bronze = _fetch_postgres(postgres_url, "SELECT count(*) FROM bronze.service_requests")
        assert bronze[0][0] == portal.total_count()
        # A full refresh changes nothing that is already right.
        refreshed = run_load(on_postgres, full_refresh=True)
        assert (refreshed.rows_inserted, refreshed.rows_deleted) == (0, 0)
        _same_bronze(on_duckdb, postgres_url)


def test_a_rerun_adds_nothing(tmp_path, postgres_url):
    with FakePortal(rows=500, seed=3) as portal:
        settings = _settings(tmp_path, portal, postgres_url)
        first = run_load(settings)
        before = _bronze_postgres(postgres_url, SERVICE_REQUESTS)
        again = run_load(settings)
    assert (first.status, again.status) == ("succeeded", "skipped")
    assert _bronze_postgres(postgres_url, SERVICE_REQUESTS) == before
    assert len(before) == first.bronze_count == 500
    assert [row[3] for row in _fetch_postgres(postgres_url, AUDIT)] == ["succeeded", "skipped"]
    assert not settings.tmp_dir.exists()  # the scratch copy is gone


def test_a_failed_load_leaves_the_server_as_it_was(tmp_path, postgres_url):
    with FakePortal(rows=500, seed=3) as portal:
        settings = _settings(tmp_path, portal, postgres_url, retry_attempts=2)
        run_load(settings)
        before = (
            _bronze_postgres(postgres_url, SERVICE_REQUESTS),
            _fetch_postgres(postgres_url, AUDIT),
        )
        portal.advance(days=3)
        portal.inject("server_error", times=10, endpoint="exports")
        with pytest.raises(Exception, match="portal"):
            run_load(settings)
    after = (_bronze_postgres(postgres_url, SERVICE_REQUESTS), _fetch_postgres(postgres_url, AUDIT))
    assert after == before


def test_a_second_writer_is_refused_or_waits(tmp_path, postgres_url):
    with FakePortal(rows=300, seed=3) as portal:
        settings = _settings(tmp_path, portal, postgres_url)
        holder = psycopg.connect(postgres_url)
        holder.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])  # what a load holds
        started = time.monotonic()
        with pytest.raises(WarehouseLockedError, match="being loaded by another process"):
            run_load(settings)
        assert time.monotonic() - started < 10
        waiting = _settings(tmp_path, portal, postgres_url, name="other", lock_wait_seconds=30)
        release = time.monotonic()
        holder.rollback()  # the other load ends: the waiting one goes ahead
        holder.close()
        assert run_load(waiting).bronze_count == 300
        assert time.monotonic() - release < 30


@pytest.mark.slow
def test_two_loads_at_once_against_one_server(tmp_path, postgres_url):
    """Two processes load the same database at the same moment: one at a time, and bronze ends
    as one load would leave it."""
    with FakePortal(rows=4_000, seed=9) as portal:
        env = os.environ | {
            "MMDS_PORTAL_URL": portal.url,
            "MMDS_WAREHOUSE_URL": postgres_url,
            "MMDS_LOCK_WAIT_SECONDS": "120",
        }
        loaders = [
            subprocess.Popen(
                [sys.executable, "-c", LOADER, "incremental"],
                env=env | {"MMDS_DATA_DIR": str(tmp_path / f"data-{n}")},
                stderr=subprocess.PIPE,
                text=True,
            )
            for n in range(2)
        ]
        for loader in loaders:
            assert loader.wait(timeout=300) == 0, loader.stderr.read()[-2000:]
    statuses = sorted(row[3] for row in _fetch_postgres(postgres_url, AUDIT))
    assert statuses == ["skipped", "succeeded"]  # the second found nothing left to do
    rows, keys = _fetch_postgres(
        postgres_url, "SELECT count(*), count(DISTINCT _record_key) FROM bronze.service_requests"
    )[0]
    assert rows == keys == 4_000


@pytest.mark.slow
def test_kill_9_in_the_middle_of_a_load(tmp_path, postgres_url):
    """kill -9 at random moments of loads into the server: bronze, audit and cursor are as
    before or wholly committed, and the next load completes the work."""
    fetch = partial(_fetch_postgres, postgres_url)
    with FakePortal(rows=8_000, seed=5) as portal:
        env = os.environ | {
            "MMDS_DATA_DIR": str(tmp_path / "data"),
            "MMDS_PORTAL_URL": portal.url,
            "MMDS_WAREHOUSE_URL": postgres_url,
            "MMDS_LOCK_WAIT_SECONDS": "60",  # the server notices a killed client's end at once
        }
        outcomes = kill_loads_midway(
            portal,
            env,
            fetch,
            trials=6,
            seed=20261204,
            earliest=0.2,
            settle=0.5,  # the server's backend ends its transaction
        )
        assert outcomes.unchanged, outcomes  # some kills did land mid-load
        run_loader(env, "incremental")
        assert_consistent(fetch)
        counted = _fetch_postgres(postgres_url, "SELECT count(*) FROM bronze.service_requests")
        assert counted[0][0] == portal.total_count()


def test_an_unreachable_server_fails_fast_in_one_line(tmp_path):
    with FakePortal(rows=10, seed=3) as portal:
        settings = _settings(tmp_path, portal, "postgresql://mmds:s3cret@127.0.0.1:9/warehouse")
        started = time.monotonic()
        with pytest.raises(WarehouseUnreachableError) as raised:
            run_load(settings)
    assert time.monotonic() - started < 10
    message = str(raised.value)
    assert "\n" not in message and "s3cret" not in message
    assert "postgresql://127.0.0.1:9/warehouse" in message and "MMDS_WAREHOUSE_URL" in message
    assert not settings.data_dir.exists()  # nothing left behind


@pytest.fixture(scope="module")
def password_server():
    try:
        with postgres_server(password="right-one") as url:  # noqa: S106 -- a test server
            yield url
    except PostgresUnavailable as error:
        pytest.skip(f"no PostgreSQL server can be started here: {error}")


def test_a_wrong_password_fails_fast_in_one_line(tmp_path, password_server):
    wrong = password_server.replace("right-one", "wrong-one")
    with FakePortal(rows=10, seed=3) as portal:
        result = subprocess.run(
            [str(Path(sys.executable).with_name("mmds-ingest")), "load"],
            env=os.environ
            | {
                "MMDS_DATA_DIR": str(tmp_path / "data"),
                "MMDS_PORTAL_URL": portal.url,
                "MMDS_WAREHOUSE_URL": wrong,
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run_load(_settings(tmp_path, portal, password_server)).bronze_count == 10
    assert result.returncode == 1
    error = [line for line in result.stderr.splitlines() if line.startswith("error")]
    assert len(error) == 1, result.stderr
    assert "password authentication failed" in error[0]
    assert "MMDS_WAREHOUSE_URL" in error[0] and "wrong-one" not in result.stderr


@pytest.mark.parametrize(
    "url",
    ["mysql://u:p@host/db", "postgresql://host/db", "postgresql://u:secret@/db", "oops"],
)
def test_a_url_that_is_not_a_server_is_a_settings_error(url, tmp_path):
    with pytest.raises(SettingsError, match="MMDS_WAREHOUSE_URL") as raised:
        IngestSettings(data_dir=tmp_path, warehouse_url=url)
    assert "secret" not in str(raised.value)


def test_unset_or_empty_means_the_duckdb_file(tmp_path):
    for value in (None, "", "  "):
        settings = IngestSettings(data_dir=tmp_path, warehouse_url=value)
        assert settings.postgres_url is None
        assert settings.warehouse_name == str(tmp_path.resolve() / "warehouse.duckdb")


def test_status_and_history_read_the_server(tmp_path, postgres_url):
    with FakePortal(rows=200, seed=3) as portal:
        env = os.environ | {
            "MMDS_DATA_DIR": str(tmp_path / "data"),
            "MMDS_PORTAL_URL": portal.url,
            "MMDS_WAREHOUSE_URL": postgres_url,
        }
        command = str(Path(sys.executable).with_name("mmds-ingest"))
        subprocess.run([command, "load"], env=env, check=True, capture_output=True, timeout=120)
        status = subprocess.run(
            [command, "status"], env=env, capture_output=True, text=True, timeout=60, check=True
        )
    assert postgres_url.replace("mmds@", "") in status.stdout  # named, without the user
    assert "rows        200 (0 flagged)" in status.stdout
    assert "3-1-1-service-requests" in status.stdout and "full" in status.stdout


@pytest.mark.slow
@pytest.mark.parametrize("phase", ["download", "commit"])
def test_ctrl_c_stops_a_load_into_the_server_and_commits_nothing(
    phase, tmp_path, postgres_url, monkeypatch
):
    from test_load_interrupt import STOPS_WITHIN, Loader, _interrupted

    fetch = partial(_fetch_postgres, postgres_url)
    monkeypatch.setenv("MMDS_WAREHOUSE_URL", postgres_url)
    with FakePortal(rows=100_000, seed=4) as portal:
        loader = Loader(tmp_path / "data", portal.url)
        loader.wait_for(f"3-1-1-service-requests: {phase}")
        code, seconds = loader.stop(signal.SIGINT)
        last = loader.last_line()
        assert code == 130
        assert seconds < STOPS_WITHIN * 2  # the server's rollback included
        if last == _interrupted(phase):
            assert snapshot(fetch) == ((), (), ())  # not even the tables (DDL too)
        else:  # the signal came as the commit returned: the load is whole
            assert "committed: it is complete" in last
            assert_consistent(fetch)
        # The next load completes the work.
        monkeypatch.setenv("MMDS_LOCK_WAIT_SECONDS", "30")
        assert run_load(_settings(tmp_path, portal, postgres_url)).bronze_count == 100_000

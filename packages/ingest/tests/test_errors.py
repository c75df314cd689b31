"""Permanent errors fail within seconds with one line naming the cause and the fix, transient
ones are retried within one budget per load, and none of them changes the warehouse.

Real servers and files throughout: a port nobody listens on, a host name that cannot resolve,
loopback servers answering HTML or JSON that is not the API, a warehouse of random bytes, a data
folder that cannot be made, a portal URL that is not one.
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from mmds_ingest import IngestSettings, run_load
from mmds_ingest.errors import (
    DataDirError,
    IngestError,
    NotAPortalError,
    PortalUnavailableError,
    PortalUnreachableError,
    SchemaDriftError,
    SettingsError,
    WarehouseCorruptError,
)

PERMANENT_WITHIN = 10.0  # seconds: the bound issue 15 sets on permanent errors
MMDS_INGEST = str(Path(sys.executable).with_name("mmds-ingest"))


@pytest.fixture
def loaded(fake_portal, ingest_settings, snapshot_warehouse):
    """A warehouse after one full load, and its snapshot."""
    run_load(ingest_settings)
    return snapshot_warehouse()


def _timed_failure(settings: IngestSettings, error: type[IngestError]) -> tuple[IngestError, float]:
    started = time.monotonic()
    with pytest.raises(error) as failure:
        run_load(settings)
    return failure.value, time.monotonic() - started


def _one_line(error: IngestError) -> str:
    message = str(error)
    assert "\n" not in message
    assert message == f"{error.cause}: {error.hint}"
    return message


def _closed_port() -> int:
    with socket.socket() as probe:  # bound, never listening, closed on exit
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def _serving(status: int, content_type: str, body: bytes) -> Iterator[str]:
    """A loopback HTTP server answering every GET with the same response; yields its root."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_nothing_listening_fails_after_a_short_budget(ingest_settings, loaded, snapshot_warehouse):
    port = _closed_port()
    settings = ingest_settings.model_copy(
        update={
            "portal_url": f"http://127.0.0.1:{port}",
            "retry_attempts": 100,  # the short budget of refused connections stops it, not these
            "retry_initial_wait_seconds": 1.0,
        }
    )

    error, seconds = _timed_failure(settings, PortalUnreachableError)

    assert _one_line(error).startswith(f"nothing answers at 127.0.0.1:{port} (connection refused")
    assert error.hint == "check MMDS_PORTAL_URL, and that the portal is up"
    assert not error.transient
    assert 2.0 <= seconds < PERMANENT_WITHIN  # retried a little (a portal restarting), no more
    assert snapshot_warehouse() == loaded


def test_a_name_that_does_not_resolve_fails_at_once(ingest_settings, loaded, snapshot_warehouse):
    settings = ingest_settings.model_copy(update={"portal_url": "http://mmds-test.invalid"})

    error, seconds = _timed_failure(settings, PortalUnreachableError)

    assert _one_line(error) == (
        "cannot resolve mmds-test.invalid: are you offline? "
        "`mmds run --sample` works without a network"
    )
    assert seconds < PERMANENT_WITHIN
    assert snapshot_warehouse() == loaded


@pytest.mark.parametrize(
    "content_type, body, says",
    [
        (
            "text/html",
            b"<!DOCTYPE html><html><head><title>Welcome</title><style>p {color: red}</style>"
            b"</head><body><h1>My blog</h1><p>Hello &amp; welcome</p></body></html>",
            'answered with an HTML page ("Welcome My blog Hello & welcome")',
        ),
        ("application/json", b'{"hello": "world"}', "the dataset metadata has no fields[] list"),
        ("application/json", b"[1, 2, 3]", "answered with JSON that is not dataset metadata"),
    ],
    ids=["html", "json-object", "json-array"],
)
def test_a_server_that_is_not_the_api_is_named_as_such(
    ingest_settings, loaded, snapshot_warehouse, content_type, body, says
):
    with _serving(200, content_type, body) as url:
        settings = ingest_settings.model_copy(update={"portal_url": url})
        error, seconds = _timed_failure(settings, NotAPortalError)

    message = _one_line(error)
    assert says in message
    assert "<" not in message  # never the page's markup
    assert message.endswith(
        "it must be an Opendatasoft portal's site root, e.g. https://opendata.vancouver.ca"
    )
    assert seconds < PERMANENT_WITHIN
    assert snapshot_warehouse() == loaded


def test_a_client_error_is_not_retried(ingest_settings, loaded, snapshot_warehouse):
    page = json.dumps({"error_code": "Forbidden", "message": "Access denied."}).encode()
    with _serving(403, "application/json", page) as url:
        settings = ingest_settings.model_copy(update={"portal_url": url})
        error, seconds = _timed_failure(settings, IngestError)

    assert "refused" in _one_line(error) and "HTTP 403 (Forbidden: Access denied.)" in str(error)
    assert error.hint == "check MMDS_PORTAL_URL and MMDS_PORTAL_API_KEY"
    assert seconds < PERMANENT_WITHIN
    assert snapshot_warehouse() == loaded


def test_request_timeout_408_is_transient(fake_portal, ingest_settings):
    fake_portal.inject("server_error", times=2, statuses=(408,), endpoint="records")

    assert run_load(ingest_settings).status == "succeeded"
    assert fake_portal.faults_fired["server_error"] == 2


def test_schema_drift_fails_at_once(fake_portal, ingest_settings, loaded, snapshot_warehouse):
    fake_portal.inject("schema_change", change="removed", field="status")

    error, seconds = _timed_failure(ingest_settings, SchemaDriftError)

    assert _one_line(error).startswith("the dataset no longer has field(s) status")
    assert seconds < PERMANENT_WITHIN
    assert snapshot_warehouse() == loaded


def test_one_retry_budget_serves_the_whole_load(fake_portal, ingest_settings, loaded):
    settings = ingest_settings.model_copy(
        update={
            "retry_attempts": 1_000,
            "retry_budget_seconds": 2.0,
            "retry_initial_wait_seconds": 0.4,
            "retry_max_wait_seconds": 0.4,
        }
    )
    fake_portal.advance(days=1)
    # About 1.2 s of the budget goes to the metadata, the rest to the export, which never works.
    fake_portal.inject("server_error", times=3, statuses=(503,), endpoint="metadata")
    fake_portal.inject("server_error", times=None, statuses=(502,), endpoint="exports")

    error, seconds = _timed_failure(settings, PortalUnavailableError)

    assert error.transient
    assert "of the load's retry budget of 2 s spent" in _one_line(error)
    assert error.hint == "the portal may be down or overloaded; try again later"
    assert seconds < 3.5  # a budget per request would have given the export 2 s of its own


def test_a_warehouse_of_random_bytes_is_named_and_kept(ingest_settings, tmp_path):
    ingest_settings.data_dir.mkdir()
    garbage = os.urandom(64 * 1024)
    ingest_settings.warehouse_path.write_bytes(garbage)

    error, seconds = _timed_failure(ingest_settings, WarehouseCorruptError)

    assert _one_line(error).startswith(
        f"{ingest_settings.warehouse_path} is not a DuckDB file: "
        "run `mmds run --full-refresh` to rebuild it"
    )
    assert seconds < PERMANENT_WITHIN
    assert ingest_settings.warehouse_path.read_bytes() == garbage
    assert sorted(p.name for p in ingest_settings.data_dir.iterdir()) == ["warehouse.duckdb"]


def test_full_refresh_moves_a_corrupt_warehouse_aside_and_rebuilds(ingest_settings, query):
    ingest_settings.data_dir.mkdir()
    garbage = os.urandom(64 * 1024)
    ingest_settings.warehouse_path.write_bytes(garbage)

    result = run_load(ingest_settings, full_refresh=True)

    (aside,) = ingest_settings.data_dir.glob("warehouse.duckdb.corrupt-*")
    assert aside.read_bytes() == garbage  # never deleted
    assert result.message.startswith(
        f"warehouse.duckdb was not a DuckDB file: moved aside to {aside.name}"
    )
    assert query("SELECT count(*), max(message) FROM bronze._loads") == [(1, result.message)]
    assert query("SELECT count(*) FROM bronze.service_requests") == [(2_000,)]


def test_full_refresh_that_fails_puts_the_corrupt_warehouse_back(fake_portal, ingest_settings):
    ingest_settings.data_dir.mkdir()
    garbage = os.urandom(64 * 1024)
    ingest_settings.warehouse_path.write_bytes(garbage)
    fake_portal.inject("schema_change", change="removed", field="status")

    with pytest.raises(SchemaDriftError):
        run_load(ingest_settings, full_refresh=True)

    assert sorted(p.name for p in ingest_settings.data_dir.iterdir()) == ["warehouse.duckdb"]
    assert ingest_settings.warehouse_path.read_bytes() == garbage


@pytest.mark.parametrize("command", [["status"], ["history"]])
def test_status_and_history_of_a_corrupt_warehouse_say_so_in_one_line(tmp_path, command):
    (tmp_path / "warehouse.duckdb").write_bytes(os.urandom(4096))

    started = time.monotonic()
    done = subprocess.run(
        [MMDS_INGEST, *command, "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"error: {tmp_path / 'warehouse.duckdb'} is not a DuckDB file: run `mmds run "
        "--full-refresh` to rebuild it (or `mmds-ingest load --full-refresh` for bronze alone)"
    ]
    assert time.monotonic() - started < PERMANENT_WITHIN


def test_a_data_folder_that_cannot_be_made_fails_at_once(fake_portal, ingest_settings, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    settings = ingest_settings.model_copy(update={"data_dir": blocker / "data"})

    error, seconds = _timed_failure(settings, DataDirError)

    assert _one_line(error) == (
        f"cannot create the folder {blocker / 'data'} (Not a directory): "
        "set MMDS_DATA_DIR to a folder this user can write"
    )
    assert seconds < PERMANENT_WITHIN
    assert blocker.read_text() == "not a folder"
    assert fake_portal.requests_seen == []  # nothing was asked of the portal


def test_a_data_folder_that_is_a_file_is_named(ingest_settings, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")

    error, _ = _timed_failure(
        ingest_settings.model_copy(update={"data_dir": blocker}), DataDirError
    )

    assert error.cause == f"{blocker} is a file, not a folder"


def test_settings_are_validated_when_made(monkeypatch):
    monkeypatch.setenv("MMDS_PORTAL_URL", "not-a-url")

    with pytest.raises(SettingsError) as failure:
        IngestSettings()

    assert _one_line(failure.value) == (
        "MMDS_PORTAL_URL='not-a-url' is invalid (not a web address like "
        "https://opendata.vancouver.ca): fix that variable (or its flag) and run again"
    )


def test_a_secret_setting_is_never_shown(monkeypatch):
    with pytest.raises(SettingsError) as failure:
        IngestSettings(portal_api_key=["s3cr3t"])

    assert "s3cr3t" not in str(failure.value)
    assert failure.value.cause.startswith("MMDS_PORTAL_API_KEY is invalid")


def test_the_command_names_a_bad_setting_in_one_line(tmp_path):
    started = time.monotonic()
    done = subprocess.run(
        [MMDS_INGEST, "load"],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ | {"MMDS_PORTAL_URL": "not-a-url", "MMDS_DATA_DIR": str(tmp_path / "d")},
    )

    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "error: MMDS_PORTAL_URL='not-a-url' is invalid (not a web address like "
        "https://opendata.vancouver.ca): fix that variable (or its flag) and run again"
    ]
    assert time.monotonic() - started < PERMANENT_WITHIN
    assert not (tmp_path / "d").exists()


def test_errors_survive_pickling_unchanged():
    import pickle

    error = PortalUnreachableError("cannot resolve x", "are you offline?")

    again = pickle.loads(pickle.dumps(error))  # noqa: S301 -- our own object

    assert (str(again), again.hint, again.cause) == (str(error), error.hint, error.cause)


def test_the_command_rebuilds_a_corrupt_warehouse_with_full_refresh(fake_portal, tmp_path):
    garbage = os.urandom(64 * 1024)
    (tmp_path / "warehouse.duckdb").write_bytes(garbage)
    flags = ["--data-dir", str(tmp_path), "--portal-url", fake_portal.url]

    refused = subprocess.run([MMDS_INGEST, "load", *flags], capture_output=True, text=True)
    rebuilt = subprocess.run(
        [MMDS_INGEST, "load", "--full-refresh", *flags], capture_output=True, text=True
    )

    assert refused.returncode == 1
    assert refused.stderr.splitlines()[-1].startswith(
        f"error: 3-1-1-service-requests: {tmp_path / 'warehouse.duckdb'} is not a DuckDB file"
    )
    assert rebuilt.returncode == 0, rebuilt.stderr
    (aside,) = tmp_path.glob("warehouse.duckdb.corrupt-*")
    assert aside.read_bytes() == garbage
    assert f"note: warehouse.duckdb was not a DuckDB file: moved aside to {aside.name}" in (
        rebuilt.stdout
    )
    assert "local-area-boundary: load " in rebuilt.stdout  # the next dataset, into the new file

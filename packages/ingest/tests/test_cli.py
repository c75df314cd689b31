"""The `mmds-ingest` command: load, status, history, and its errors."""

import socket

import duckdb
from mmds_ingest.cli import app
from typer.testing import CliRunner

runner = CliRunner()
FAST = {"MMDS_RETRY_ATTEMPTS": "2", "MMDS_RETRY_INITIAL_WAIT_SECONDS": "0.01"}


def test_load_then_status_and_history(fake_portal, tmp_path):
    flags = ["--data-dir", str(tmp_path)]

    loaded = runner.invoke(app, ["load", "--portal-url", fake_portal.url, *flags])
    status = runner.invoke(app, ["status", *flags])
    history = runner.invoke(app, ["history", *flags])

    assert loaded.exit_code == 0, loaded.output
    assert "full, succeeded" in loaded.output
    assert "received 2,000  inserted 2,000" in loaded.output
    assert "2,000" in loaded.output
    assert status.exit_code == 0
    assert "rows        2,000 (0 flagged)" in status.output
    assert "cursor      2026-" in status.output
    assert "reconciled  bronze and the portal agree: 2,000 rows" in status.output
    assert "portal total 2,000  bronze 2,000" in loaded.output
    assert "local-area-boundary: load " in loaded.output
    assert "portal total 22  bronze 22" in loaded.output
    assert "rows        22 (0 flagged)" in status.output
    assert history.exit_code == 0
    assert "succeeded" in history.output


def test_settings_come_from_the_environment(fake_portal, tmp_path):
    env = {"MMDS_DATA_DIR": str(tmp_path), "MMDS_PORTAL_URL": fake_portal.url}

    result = runner.invoke(app, ["load", "--full-refresh"], env=env)

    assert result.exit_code == 0, result.output
    assert (tmp_path / "warehouse.duckdb").exists()


def test_unreachable_portal_fails_with_advice_and_exit_1(tmp_path):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]

    result = runner.invoke(
        app,
        ["load", "--data-dir", str(tmp_path), "--portal-url", f"http://127.0.0.1:{closed_port}"],
        env=FAST,
    )

    assert result.exit_code == 1
    assert (
        f"error: 3-1-1-service-requests: nothing answers at 127.0.0.1:{closed_port} "
        "(connection refused"
    ) in result.output
    assert result.output.rstrip().endswith("check MMDS_PORTAL_URL, and that the portal is up")


def test_status_before_any_load_says_what_to_do(tmp_path):
    result = runner.invoke(app, ["status", "--data-dir", str(tmp_path)])

    assert result.exit_code == 1
    assert "run `mmds-ingest load` first" in result.output


def test_bad_portal_url_is_rejected(tmp_path):
    result = runner.invoke(app, ["load", "--data-dir", str(tmp_path), "--portal-url", "ftp://x"])

    assert result.exit_code == 1
    assert "MMDS_PORTAL_URL='ftp://x' is invalid (not a web address" in result.output


def test_history_shows_a_load_from_its_start_to_its_commit(fake_portal, tmp_path):
    flags = ["--data-dir", str(tmp_path)]
    fake_portal.inject("slow_first_byte", seconds=1.5, endpoint="exports")

    loaded = runner.invoke(app, ["load", "--portal-url", fake_portal.url, *flags])
    history = runner.invoke(app, ["history", *flags])

    assert loaded.exit_code == 0, loaded.output
    header, *lines = history.output.splitlines()
    (line,) = [line for line in lines if " 3-1-1-service-requests " in line]
    assert header.split()[9] == "seconds"
    assert float(line.split()[9]) >= 1.5  # the download waited 1.5 s before its first byte
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        started, finished, loaded_at = con.execute(
            "SELECT started_at, finished_at, (SELECT max(_loaded_at) FROM bronze.service_requests)"
            " FROM bronze._loads"
        ).fetchone()
    assert (finished - started).total_seconds() >= 1.5
    assert started <= loaded_at <= finished


def test_version():
    from mmds_ingest import __version__

    result = runner.invoke(app, ["--version"])

    assert (result.exit_code, result.output) == (0, f"mmds-ingest {__version__}\n")


def test_help_shows_variables_and_examples_and_no_type_placeholders_on_flags():
    pages = {
        tuple(command): runner.invoke(app, [*command, "--help"], env={"COLUMNS": "100"})
        for command in ([], ["load"], ["status"], ["history"], ["fake-portal"])
    }

    assert all(page.exit_code == 0 for page in pages.values())
    assert all("Examples:" in page.output for page in pages.values())
    assert all("<bool>" not in page.output for page in pages.values())
    load_help = " ".join(pages[("load",)].output.split())
    assert "[env var: MMDS_DATA_DIR]" in load_help
    assert "[env var: MMDS_PORTAL_URL]" in load_help
    assert "--full-refresh Reload the whole dataset" in load_help

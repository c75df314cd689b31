"""The cursor never runs ahead of the portal's clock: a record stamped in the future is loaded
and flagged and moves nothing, and a cursor an earlier version pushed into the future is
repaired by the next load, whichever command runs it."""

from datetime import UTC, datetime, timedelta

import duckdb
from mmds_ingest import run_load
from mmds_ingest.cli import app
from typer.testing import CliRunner

FUTURE = "2999-01-01T00:00:00+00:00"


def _record(stamp: datetime, number: int) -> dict:
    stamp = stamp.astimezone(UTC).replace(microsecond=0)
    return {
        "department": "ENG - Sanitation Services",
        "service_request_type": "Missed Garbage Pickup Case",
        "status": "Open",
        "closure_reason": "N/A",
        "service_request_open_timestamp": "2026-11-29T10:00:00+00:00",
        "service_request_close_date": None,
        "last_modified_timestamp": stamp.isoformat(),
        "address": f"{100 + number} MAIN ST",
        "local_area": "Mount Pleasant",
        "channel": "WEB",
        "latitude": 49.26,
        "longitude": -123.1,
        "geom": {"lon": -123.1, "lat": 49.26},
    }


def _thirty_new(portal) -> list[dict]:
    return [_record(portal.now + timedelta(minutes=minute), minute) for minute in range(1, 31)]


def _poison(settings) -> None:
    """What an earlier version left after loading a record stamped in 2999."""
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("UPDATE bronze._state SET cursor = ?", [datetime.fromisoformat(FUTURE)])


def test_a_record_from_the_future_moves_nothing_and_the_next_30_all_arrive(
    fake_portal, ingest_settings, query
):
    first = run_load(ingest_settings)
    fake_portal.add_records([_record(datetime.fromisoformat(FUTURE), 0)])

    flagged = run_load(ingest_settings)
    thirty = _thirty_new(fake_portal)
    fake_portal.add_records(thirty)
    after = run_load(ingest_settings)

    assert flagged.cursor_after == first.cursor_after
    assert query(
        "SELECT _quality_issues FROM bronze.service_requests WHERE last_modified_timestamp > ?",
        [datetime(2998, 1, 1, tzinfo=UTC)],
    ) == [("last_modified_timestamp_in_future",)]
    assert after.rows_inserted == 30
    assert after.rows_received >= 31  # the future record is re-read by every load
    assert after.reconciliation.startswith("bronze and the portal agree")  # no repair needed
    newest = max(datetime.fromisoformat(record["last_modified_timestamp"]) for record in thirty)
    assert after.cursor_after == newest
    assert after.bronze_count == fake_portal.total_count() == 2_031


def test_a_cursor_poisoned_by_an_earlier_version_is_repaired(fake_portal, ingest_settings, query):
    first = run_load(ingest_settings)
    _poison(ingest_settings)
    fake_portal.add_records(_thirty_new(fake_portal))

    result = run_load(ingest_settings)

    assert result.mode == "incremental"
    assert "lay beyond the portal's clock" in result.message
    assert f"repaired to {first.cursor_after.isoformat()}" in result.message
    assert result.rows_inserted == 30
    assert result.reconciliation.startswith("bronze and the portal agree")
    assert query("SELECT cursor FROM bronze._state")[0][0] < datetime.now(UTC) + timedelta(days=1)
    assert query("SELECT message FROM bronze._loads WHERE load_id = ?", [result.load_id]) == [
        (result.message,)
    ]


def test_the_repair_needs_no_change_at_the_portal_and_runs_from_the_command(
    fake_portal, ingest_settings, query
):
    run_load(ingest_settings)
    _poison(ingest_settings)

    command = CliRunner().invoke(
        app,
        ["load", "--data-dir", str(ingest_settings.data_dir), "--portal-url", fake_portal.url],
    )

    assert command.exit_code == 0, command.output
    assert "download skipped" in command.output
    assert "lay beyond the portal's clock" in command.output
    newest = query("SELECT max(last_modified_timestamp) FROM bronze.service_requests")[0][0]
    assert query("SELECT dataset, cursor FROM bronze._state ORDER BY 1") == [
        ("3-1-1-service-requests", newest),
        ("local-area-boundary", None),  # loaded by the command too; it has no cursor
    ]
    assert query(
        "SELECT status FROM bronze._loads WHERE dataset = '3-1-1-service-requests' "
        "ORDER BY started_at DESC LIMIT 1"
    ) == [("succeeded",)]


def test_a_stamp_within_the_skew_allowance_is_not_in_the_future(
    fake_portal, ingest_settings, query
):
    run_load(ingest_settings)
    soon = _record(datetime.now(UTC) + timedelta(minutes=20), 1)
    fake_portal.add_records([soon])

    result = run_load(ingest_settings)

    assert result.cursor_after == datetime.fromisoformat(soon["last_modified_timestamp"])
    assert result.rows_flagged == 0


def test_a_flag_is_lifted_once_the_portal_clock_passes_the_record(
    fake_portal, ingest_settings, query
):
    strict = ingest_settings.model_copy(update={"clock_skew_minutes": 0})
    run_load(strict)
    soon = _record(datetime.now(UTC) + timedelta(minutes=20), 1)
    fake_portal.add_records([soon])

    flagged = run_load(strict)
    lifted = run_load(ingest_settings)  # an hour of allowance: the record is no longer ahead

    stamp = datetime.fromisoformat(soon["last_modified_timestamp"])
    assert flagged.rows_flagged == 1
    assert flagged.cursor_after < stamp
    assert (lifted.rows_updated, lifted.rows_flagged, lifted.cursor_after) == (1, 0, stamp)
    assert query("SELECT count(_quality_issues) FROM bronze.service_requests") == [(0,)]

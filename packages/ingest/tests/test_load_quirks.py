"""The source's quirks, served over HTTP by fake portals started from small CSV extracts:
late updates, boundary timestamps, rows that agree on every descriptive field."""

import csv
from pathlib import Path

import pytest
from mmds_ingest import IngestSettings, run_load
from mmds_ingest.fake_portal import FakePortal

COLUMNS = [
    "department", "service_request_type", "status", "closure_reason",
    "service_request_open_timestamp", "service_request_close_date", "last_modified_timestamp",
    "address", "local_area", "channel", "latitude", "longitude",
]  # fmt: skip
CURSOR = "2026-11-20T18:00:00+00:00"


def _row(opened: str, modified: str, **changes: str) -> dict[str, str]:
    row = {
        "department": "ENG - Sanitation Services",
        "service_request_type": "Missed Garbage Pickup Case",
        "status": "Open",
        "closure_reason": "N/A",
        "service_request_open_timestamp": opened,
        "service_request_close_date": "",
        "last_modified_timestamp": modified,
        "address": "4375 ROSS ST",
        "local_area": "Kensington-Cedar Cottage",
        "channel": "WEB",
        "latitude": "49.24588847779",
        "longitude": "-123.08183124972",
    }
    return row | changes


BASELINE = [
    _row("2026-11-01T17:00:00+00:00", "2026-11-01T17:00:00+00:00"),
    _row("2026-11-10T17:00:00+00:00", "2026-11-12T17:00:00+00:00", address="1 MAIN ST"),
    _row("2026-11-20T16:00:00+00:00", CURSOR, channel="Phone"),
]


def _extract(tmp_path: Path, name: str, rows: list[dict[str, str]]) -> Path:
    path = tmp_path / f"{name}.csv"
    with path.open("w", newline="", encoding="utf-8") as sink:
        writer = csv.DictWriter(sink, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _load(tmp_path: Path, rows: list[dict[str, str]], name: str, full=False, **settings):
    """Serve `rows` from a fake portal and load them into the warehouse under tmp_path."""
    with FakePortal(from_csv=_extract(tmp_path, name, rows)) as portal:
        return run_load(
            IngestSettings(data_dir=tmp_path / "data", portal_url=portal.url, **settings),
            full_refresh=full,
        )


def _bronze(tmp_path: Path, sql: str) -> list[tuple]:
    import duckdb

    with duckdb.connect(str(tmp_path / "data" / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_late_update_inside_the_lookback_is_loaded(tmp_path):
    _load(tmp_path, BASELINE, "before")
    # Published after the first load, but stamped two days before its cursor.
    late = _row("2026-11-15T17:00:00+00:00", "2026-11-18T18:00:00+00:00", address="9 LATE AVE")
    closed = BASELINE[1] | {
        "status": "Close",
        "closure_reason": "Service provided",
        "service_request_close_date": "2026-11-18",
        "last_modified_timestamp": "2026-11-18T19:00:00+00:00",
    }

    result = _load(tmp_path, [BASELINE[0], closed, BASELINE[2], late], "after", lookback_days=3)

    assert (result.mode, result.rows_inserted, result.rows_updated) == ("incremental", 1, 1)
    assert _bronze(tmp_path, "SELECT address, status FROM bronze.service_requests ORDER BY 1") == [
        ("1 MAIN ST", "Close"),
        ("4375 ROSS ST", "Open"),
        ("4375 ROSS ST", "Open"),
        ("9 LATE AVE", "Open"),
    ]


def test_a_record_modified_exactly_at_the_cursor_is_not_missed(tmp_path):
    first = _load(tmp_path, BASELINE, "before")
    assert first.cursor_after.isoformat() == CURSOR
    same_instant = _row("2026-11-20T17:30:00+00:00", CURSOR, address="2 BOUNDARY RD")

    # No lookback at all: only `>=` on the cursor can catch it.
    result = _load(tmp_path, [*BASELINE, same_instant], "after", lookback_days=0)

    assert (result.rows_received, result.rows_inserted, result.rows_unchanged) == (2, 1, 1)
    assert _bronze(tmp_path, "SELECT count(*) FROM bronze.service_requests") == [(4,)]


def test_rows_agreeing_on_every_descriptive_field_are_all_kept(tmp_path):
    twin = _row("2026-11-05T17:00:00+00:00", "2026-11-06T17:00:00+00:00")
    rows = [*BASELINE, twin, twin, twin | {"status": "Close", "closure_reason": "Unknown"}]

    loaded = _load(tmp_path, rows, "twins")
    again = _load(tmp_path, rows, "twins-again", full=True)

    assert loaded.rows_inserted == 6
    assert (again.rows_inserted, again.rows_updated, again.rows_unchanged) == (0, 0, 6)
    keys = _bronze(
        tmp_path,
        "SELECT _record_key FROM bronze.service_requests "
        "WHERE service_request_open_timestamp = '2026-11-05T17:00:00Z' ORDER BY 1",
    )
    assert len({key for (key,) in keys}) == 3
    assert [key.rsplit("-", 1)[1] for (key,) in keys] == ["1", "2", "3"]


def test_one_of_two_identical_rows_closing_is_one_update(tmp_path):
    twin = _row("2026-11-05T17:00:00+00:00", "2026-11-06T17:00:00+00:00")
    _load(tmp_path, [*BASELINE, twin, twin], "twins")
    closed = twin | {"status": "Close", "last_modified_timestamp": "2026-11-21T17:00:00+00:00"}

    result = _load(tmp_path, [*BASELINE, twin, closed], "one-closed")

    assert (result.rows_inserted, result.rows_updated) == (0, 1)
    assert _bronze(
        tmp_path, "SELECT status, count(*) FROM bronze.service_requests GROUP BY 1 ORDER BY 1"
    ) == [("Close", 1), ("Open", 4)]


@pytest.mark.parametrize(
    "latitude, longitude", [("999", "-123.1"), ("49.2", "-500")], ids=["lat", "lon"]
)
def test_out_of_range_coordinates_are_kept_and_flagged(tmp_path, latitude, longitude):
    odd = _row("2026-11-03T17:00:00+00:00", "2026-11-03T17:00:00+00:00", latitude=latitude,
               longitude=longitude)  # fmt: skip

    result = _load(tmp_path, [*BASELINE, odd], "odd")

    assert (result.rows_inserted, result.rows_flagged) == (4, 1)
    flagged = _bronze(
        tmp_path,
        "SELECT _quality_issues, latitude, longitude, _raw ->> 'latitude' "
        "FROM bronze.service_requests WHERE _quality_issues IS NOT NULL",
    )
    assert flagged == [("coordinates_out_of_range,geom_invalid", None, None, str(float(latitude)))]
    assert _bronze(tmp_path, "SELECT rows_flagged FROM bronze._loads") == [(1,)]

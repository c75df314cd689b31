"""Records sharing every identity field ("twins") after incremental loads, over real HTTP.

Each portal state is served by a fake portal started from a small CSV extract. The proof is
always the same: bronze after the incremental load equals bronze after one fresh full load of
the same final state, keys included (only the load id and instant differ).
"""

import csv
from pathlib import Path

import duckdb
import pytest
from mmds_ingest import IngestSettings, LoadResult, run_load
from mmds_ingest.datasets import SERVICE_REQUESTS
from mmds_ingest.errors import PortalUnavailableError
from mmds_ingest.fake_portal import FakePortal
from mmds_ingest.odsql import batch_filters
from mmds_ingest.twin_groups import group_filter

CURSOR = "2026-11-20T18:00:00+00:00"
LOOKBACK_DAYS = 3  # the window starts 2026-11-17T18:00Z
BEFORE_WINDOW = ("2026-10-02T17:00:00+00:00", "2026-10-05T17:00:00+00:00")
INSIDE_WINDOW = ("2026-11-18T17:00:00+00:00", "2026-11-19T17:00:00+00:00")
EDITED_AT = "2026-11-21T17:00:00+00:00"


def _row(opened: str, modified: str, **changes: str) -> dict[str, str]:
    row = {
        "department": "ENG - Sanitation Services",
        "service_request_type": "Missed Garbage Pickup Case",
        "status": "Close",
        "closure_reason": "Service provided",
        "service_request_open_timestamp": opened,
        "service_request_close_date": opened[:10],
        "last_modified_timestamp": modified,
        "address": "12 O'HARA ST",
        "local_area": "Kensington-Cedar Cottage",
        "channel": "WEB",
        "latitude": "49.24588847779",
        "longitude": "-123.08183124972",
    }
    return row | changes


OTHERS = [
    _row("2026-09-01T16:00:00+00:00", "2026-09-03T16:00:00+00:00", address="1 MAIN ST"),
    _row("2026-11-20T16:00:00+00:00", CURSOR, address="2 MAIN ST", status="Open"),
]
"""Unrelated records; the second sets the cursor of the first load."""

TWIN_OPENED = "2026-10-01T17:00:00+00:00"


def _twin(modified: str, **changes: str) -> dict[str, str]:
    return _row(TWIN_OPENED, modified, **changes)


def _serve_and_load(tmp_path: Path, data_dir: Path, rows: list[dict], full=False, **portal):
    extract = tmp_path / f"extract-{len(list(tmp_path.glob('extract-*')))}.csv"
    with extract.open("w", newline="", encoding="utf-8") as sink:
        writer = csv.DictWriter(sink, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with FakePortal(from_csv=extract, **portal) as fake:
        settings = IngestSettings(
            data_dir=data_dir,
            portal_url=fake.url,
            lookback_days=LOOKBACK_DAYS,
            retry_attempts=2,
            retry_initial_wait_seconds=0.01,
            retry_max_wait_seconds=0.1,
        )
        return run_load(settings, full_refresh=full), fake.requests_seen


def _bronze(data_dir: Path) -> list[tuple]:
    """Every bronze row but the columns saying which load wrote it, in key order."""
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(
            "SELECT * EXCLUDE (_load_id, _loaded_at, _raw), CAST(_raw AS VARCHAR) "
            "FROM bronze.service_requests ORDER BY _record_key"
        ).fetchall()


def _incremental_after(tmp_path: Path, first: list[dict], final: list[dict]) -> LoadResult:
    """Load `first` in full, then `final` incrementally; assert bronze equals a fresh full
    load of `final` and return the incremental load's result."""
    data_dir = tmp_path / "data"
    _serve_and_load(tmp_path, data_dir, first)
    result, _ = _serve_and_load(tmp_path, data_dir, final)
    assert result.mode == "incremental"
    fresh = tmp_path / "fresh"
    _serve_and_load(tmp_path, fresh, final, full=True)
    assert _bronze(data_dir) == _bronze(fresh)
    return result


@pytest.mark.parametrize("edited", [0, 1], ids=["older-twin-edited", "newer-twin-edited"])
def test_a_late_edit_of_one_twin_before_the_window_equals_a_fresh_load(tmp_path, edited):
    twins = [_twin(BEFORE_WINDOW[0]), _twin(BEFORE_WINDOW[1], closure_reason="Unknown")]
    final = list(twins)
    final[edited] = twins[edited] | {
        "closure_reason": "Further action has been planned",
        "last_modified_timestamp": EDITED_AT,
    }

    result = _incremental_after(tmp_path, [*OTHERS, *twins], [*OTHERS, *final])

    assert (result.rows_inserted, result.rows_deleted) == (0, 0)
    assert "re-read 1 group(s)" in result.message
    assert "(2 rows)" in result.message


def test_an_edit_of_one_of_two_identical_twins_before_the_window(tmp_path):
    twin = _twin(BEFORE_WINDOW[0])
    closed = twin | {"closure_reason": "Unknown", "last_modified_timestamp": EDITED_AT}

    result = _incremental_after(tmp_path, [*OTHERS, twin, twin], [*OTHERS, twin, closed])

    assert (result.rows_inserted, result.rows_updated, result.rows_deleted) == (0, 1, 0)


def test_an_edit_of_a_twin_inside_the_window_needs_no_reread(tmp_path):
    twins = [_twin(INSIDE_WINDOW[0]), _twin(INSIDE_WINDOW[1], closure_reason="Unknown")]
    edited = twins[0] | {"closure_reason": "Insufficient info"}
    edited["last_modified_timestamp"] = EDITED_AT

    result = _incremental_after(tmp_path, [*OTHERS, *twins], [*OTHERS, edited, twins[1]])

    assert result.message is None
    # The edited twin is now the newer one: both change occurrence, as in a fresh load.
    assert (result.rows_inserted, result.rows_updated, result.rows_deleted) == (0, 2, 0)


def test_a_new_twin_of_records_before_the_window_is_added(tmp_path):
    twins = [_twin(BEFORE_WINDOW[0]), _twin(BEFORE_WINDOW[1], closure_reason="Unknown")]
    newcomer = _twin(EDITED_AT, status="Open", closure_reason="N/A", service_request_close_date="")

    result = _incremental_after(tmp_path, [*OTHERS, *twins], [*OTHERS, *twins, newcomer])

    assert (result.rows_inserted, result.rows_updated, result.rows_deleted) == (1, 0, 0)


def test_a_twin_deleted_at_the_source_leaves_with_its_reread_group(tmp_path):
    twins = [
        _twin(BEFORE_WINDOW[0]),
        _twin(BEFORE_WINDOW[1], closure_reason="Unknown"),
        _twin(BEFORE_WINDOW[1], closure_reason="Insufficient info"),
    ]
    edited = twins[1] | {"last_modified_timestamp": EDITED_AT}

    result = _incremental_after(tmp_path, [*OTHERS, *twins], [*OTHERS, twins[0], edited])

    assert result.rows_deleted == 1


def test_a_twin_deleted_at_the_source_before_the_window_is_removed_and_renumbered(tmp_path):
    twins = [_twin(BEFORE_WINDOW[0]), _twin(BEFORE_WINDOW[1], closure_reason="Unknown")]

    result = _incremental_after(tmp_path, [*OTHERS, *twins], [*OTHERS, twins[1]])

    # The export saw neither twin; the counts per day did. The survivor becomes occurrence 1.
    assert (result.rows_inserted, result.rows_updated, result.rows_deleted) == (0, 1, 1)
    assert "deleted 1 and inserted 0" in result.reconciliation


def test_a_new_record_whose_only_twin_lies_before_the_window_keeps_both(tmp_path):
    older = _twin(BEFORE_WINDOW[0])
    newcomer = _twin(EDITED_AT, status="Open", closure_reason="N/A", service_request_close_date="")

    result = _incremental_after(tmp_path, [*OTHERS, older], [*OTHERS, older, newcomer])

    # The merge alone takes the newcomer for an update of its twin; the counts per day show
    # the older one missing, and it comes back.
    assert (result.rows_inserted, result.rows_deleted) == (1, 0)
    assert "re-read" in result.reconciliation


def test_many_groups_are_reread_in_batches_and_only_their_rows_are_kept(tmp_path, monkeypatch):
    monkeypatch.setattr("mmds_ingest.odsql.MAX_WHERE_CHARS", 300)
    addresses = ["12 O'HARA ST", '7 "THE MEWS" LANE', "", '1 O\'NEIL "B" RD']
    first, final = list(OTHERS), list(OTHERS)
    for address in addresses:
        older = _twin(BEFORE_WINDOW[0], address=address)
        newer = _twin(BEFORE_WINDOW[1], address=address, closure_reason="Unknown")
        first += [older, newer]
        final += [older, newer | {"last_modified_timestamp": EDITED_AT}]
    # Outside every group, but inside the filters that leave coordinates or quotes out.
    decoys = [
        _twin(BEFORE_WINDOW[0], latitude="49.25"),
        _twin(BEFORE_WINDOW[0], address="1 O'NEIL 'B' RD"),
    ]
    first += decoys
    final += decoys
    data_dir = tmp_path / "data"
    _serve_and_load(tmp_path, data_dir, first)

    result, seen = _serve_and_load(tmp_path, data_dir, final)

    assert f"re-read {len(addresses)} group(s)" in result.message
    assert f"({2 * len(addresses)} rows)" in result.message
    group_exports = [
        seen_request
        for seen_request in seen
        if seen_request.endpoint == "exports" and "= date" in seen_request.params.get("where", "")
    ]
    assert len(group_exports) > 1  # several batches
    fresh = tmp_path / "fresh"
    _serve_and_load(tmp_path, fresh, final, full=True)
    assert _bronze(data_dir) == _bronze(fresh)


def test_a_failed_reread_leaves_the_warehouse_as_it_was(tmp_path):
    twins = [_twin(BEFORE_WINDOW[0]), _twin(BEFORE_WINDOW[1], closure_reason="Unknown")]
    edited = twins[1] | {"last_modified_timestamp": EDITED_AT}
    data_dir = tmp_path / "data"
    _serve_and_load(tmp_path, data_dir, [*OTHERS, *twins])
    before = _warehouse(data_dir)

    # Metadata, two counts and the window export pass; the re-read hits the spent quota.
    with pytest.raises(PortalUnavailableError, match="rate limit"):
        _serve_and_load(tmp_path, data_dir, [*OTHERS, twins[0], edited], quota=4)

    assert _warehouse(data_dir) == before


def _warehouse(data_dir: Path) -> tuple:
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        return tuple(
            con.execute(f"SELECT * EXCLUDE (_raw) FROM bronze.{table} ORDER BY ALL").fetchall()  # noqa: S608 -- constants
            if table == "service_requests"
            else con.execute(f"SELECT * FROM bronze.{table} ORDER BY ALL").fetchall()  # noqa: S608 -- constants
            for table in ("service_requests", "_loads", "_state")
        )


@pytest.mark.parametrize(
    "address, condition",
    [
        ("12 O'HARA ST", 'address = "12 O\'HARA ST"'),
        ('7 "THE MEWS" LANE', "address = '7 \"THE MEWS\" LANE'"),
        (None, "address is null"),
    ],
)
def test_group_filter_quotes_text_without_escapes(address, condition):
    where = group_filter(SERVICE_REQUESTS, _twin(BEFORE_WINDOW[0], address=address))

    assert condition in where
    assert f"service_request_open_timestamp = date'{TWIN_OPENED}'" in where


def test_group_filter_leaves_out_text_it_cannot_quote():
    where = group_filter(SERVICE_REQUESTS, _twin(BEFORE_WINDOW[0], address='1 O\'NEIL "B" RD\\'))

    assert "address" not in where
    assert "department = " in where


def test_batches_stay_under_the_length_limit_and_ask_for_each_identity_once():
    filters = {"a": "x = 1", "b": "x = 2", "c": "x = 1", "d": "y = 3"}

    batches = batch_filters(filters, max_chars=20)

    assert batches == [("(x = 1) OR (x = 2)", ["a", "c", "b"]), ("(y = 3)", ["d"])]
    assert batch_filters({"a": "x = 1", "b": None}) == [(None, ["a", "b"])]

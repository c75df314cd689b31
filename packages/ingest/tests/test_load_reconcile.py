"""After every load bronze holds exactly what the portal holds, in both directions, whichever
command ran the load; when the portal keeps changing and they cannot agree, the load fails
and nothing is committed. Over real HTTP, into real DuckDB files."""

from datetime import timedelta

import duckdb
import httpx
import pytest
from mmds_ingest import IngestSettings, run_load
from mmds_ingest.cli import app
from mmds_ingest.errors import ReconciliationError
from mmds_ingest.fake_portal import FakePortal
from typer.testing import CliRunner

COLUMNS = "_record_key, _row_hash, _quality_issues, CAST(_raw AS VARCHAR)"


def _rows(settings: IngestSettings) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        query = f"SELECT {COLUMNS} FROM bronze.service_requests ORDER BY ALL"  # noqa: S608 -- constants
        return con.execute(query).fetchall()


def _assert_equals_a_fresh_load(settings: IngestSettings, portal: FakePortal, tmp_path) -> None:
    """Bronze, keys included, is what one full load of the portal as it is now gives."""
    fresh = settings.model_copy(update={"data_dir": tmp_path / "fresh"})
    run_load(fresh)
    assert _rows(settings) == _rows(fresh)
    assert len(_rows(settings)) == portal.total_count()


def _execute(settings: IngestSettings, sql: str, params: list | None = None) -> None:
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute(sql, params)


def test_the_command_alone_removes_what_the_portal_deleted(
    fake_portal, ingest_settings, query, tmp_path
):
    run_load(ingest_settings)
    deleted = fake_portal.delete_records(101)

    command = CliRunner().invoke(
        app,
        ["load", "--data-dir", str(ingest_settings.data_dir), "--portal-url", fake_portal.url],
    )

    assert command.exit_code == 0, command.output
    assert "deleted 101" in command.output
    audit = query(
        "SELECT rows_deleted, bronze_count, portal_total_count, reconciliation "
        "FROM bronze._loads WHERE dataset = '3-1-1-service-requests' "
        "ORDER BY started_at DESC LIMIT 1"
    )
    assert audit[0][:3] == (101, 1_899, 1_899)
    assert "deleted 101 and inserted 0" in audit[0][3]
    assert "then bronze and the portal agree: 1,899 rows" in audit[0][3]
    kept = {raw for (*_, raw) in _rows(ingest_settings)}
    assert not [record for record in deleted if str(record) in kept]
    _assert_equals_a_fresh_load(ingest_settings, fake_portal, tmp_path)


def test_a_record_back_dated_before_the_lookback_window_is_fetched(
    fake_portal, ingest_settings, tmp_path
):
    first = run_load(ingest_settings)
    record = {
        "department": "ENG - Streets Operations",
        "service_request_type": "Pothole Case",
        "status": "Close",
        "closure_reason": "Service provided",
        "service_request_open_timestamp": "2026-10-01T17:00:00+00:00",
        "service_request_close_date": "2026-10-02",
        "last_modified_timestamp": (first.cursor_after - timedelta(days=30))
        .replace(microsecond=0)
        .isoformat(),
        "address": None,
        "local_area": None,
        "channel": "Phone",
        "latitude": None,
        "longitude": None,
        "geom": None,
    }
    fake_portal.add_records([record])

    result = run_load(ingest_settings)

    assert result.rows_inserted == 1
    assert "re-read" in result.reconciliation
    _assert_equals_a_fresh_load(ingest_settings, fake_portal, tmp_path)


def test_rows_deleted_from_bronze_by_hand_come_back_with_their_keys(
    fake_portal, ingest_settings, query, tmp_path
):
    run_load(ingest_settings)
    twins = query(
        "SELECT _record_key FROM bronze.service_requests WHERE _record_key LIKE '%-2' LIMIT 1"
    )
    assert twins, "seed 7 has twins: their numbering is part of what is checked"
    lost = [twins[0][0].removesuffix("-2") + "-1"]
    lost += [key for (key,) in query("SELECT _record_key FROM bronze.service_requests LIMIT 20")]
    _execute(
        ingest_settings,
        "DELETE FROM bronze.service_requests WHERE list_contains(?, _record_key)",
        [lost],
    )

    result = run_load(ingest_settings)  # the portal has not changed: no download

    assert (result.status, result.rows_received) == ("succeeded", 0)
    assert (result.rows_inserted, result.rows_deleted) == (len(set(lost)), 0)
    assert "download skipped" in result.message
    _assert_equals_a_fresh_load(ingest_settings, fake_portal, tmp_path)


def test_rows_bronze_has_and_the_portal_never_had_are_removed(
    fake_portal, ingest_settings, query, tmp_path
):
    run_load(ingest_settings)
    _execute(
        ingest_settings,
        "INSERT INTO bronze.service_requests "
        "SELECT * REPLACE (_record_key || '-x' AS _record_key) "
        "FROM bronze.service_requests LIMIT 3",
    )

    result = run_load(ingest_settings)

    assert result.rows_deleted == 3
    _assert_equals_a_fresh_load(ingest_settings, fake_portal, tmp_path)


@pytest.mark.parametrize("full_refresh", [False, True], ids=["incremental", "full"])
def test_a_portal_that_keeps_changing_fails_the_load_and_changes_nothing(
    fake_portal, ingest_settings, snapshot_warehouse, full_refresh
):
    run_load(ingest_settings)
    fake_portal.advance(days=1)
    before = snapshot_warehouse()
    fake_portal.inject("churn", times=None)  # a record vanishes before every count per day

    with pytest.raises(ReconciliationError) as failure:
        run_load(ingest_settings, full_refresh=full_refresh)

    message = str(failure.value)
    assert message.startswith("bronze could not be brought into agreement with the portal")
    assert "still differ" in message and "run the load again" in message
    assert "\n" not in message
    assert snapshot_warehouse() == before
    assert fake_portal.faults_fired["churn"] == 4  # three repairs, each followed by a count


def test_equal_counts_ask_the_portal_once_and_repair_nothing(fake_portal, ingest_settings):
    run_load(ingest_settings)
    fake_portal.add_records([])  # the metadata moves; nothing else
    seen = len(fake_portal.requests_seen)

    result = run_load(ingest_settings)

    asked = [request.endpoint for request in fake_portal.requests_seen[seen:]]
    assert asked.count("aggregates") == 1
    assert result.reconciliation == (
        "bronze and the portal agree: 2,000 rows, counted per UTC day of "
        f"last_modified_timestamp on {len(set(_days(fake_portal))):,} days"
    )
    assert (result.rows_inserted, result.rows_deleted) == (0, 0)


def _days(portal: FakePortal) -> list[str]:
    lines = httpx.get(f"{portal.dataset_url}/exports/json", timeout=30).json()
    return [record["last_modified_timestamp"][:10] for record in lines]

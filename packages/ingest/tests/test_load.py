"""Loads from the fake portal over real HTTP into a real DuckDB file."""

import json
from datetime import timedelta

import duckdb
import httpx
from mmds_ingest import run_load
from mmds_ingest.cli import app
from mmds_ingest.fake_portal import FakePortal
from typer.testing import CliRunner


def _portal_rows(portal: FakePortal) -> list[dict]:
    response = httpx.get(f"{portal.dataset_url}/exports/jsonl", params={"timezone": "UTC"})
    return [json.loads(line) for line in response.text.splitlines()]


def test_first_load_is_full_and_matches_the_portal(fake_portal, ingest_settings, query):
    result = run_load(ingest_settings)

    assert (result.mode, result.status) == ("full", "succeeded")
    assert result.rows_received == result.rows_inserted == result.portal_total == 2_000
    assert query("SELECT count(*), count(DISTINCT _record_key) FROM bronze.service_requests") == [
        (2_000, 2_000)
    ]
    newest = query("SELECT max(last_modified_timestamp) FROM bronze.service_requests")[0][0]
    assert result.cursor_after == newest
    assert query("SELECT cursor, load_id FROM bronze._state") == [(newest, result.load_id)]
    audit = query("SELECT mode, status, rows_received, portal_total_count FROM bronze._loads")
    assert audit == [("full", "succeeded", 2_000, 2_000)]


def test_raw_json_is_kept_exactly_and_typed_columns_agree(fake_portal, ingest_settings, query):
    run_load(ingest_settings)
    sent = {json.dumps(row, sort_keys=True) for row in _portal_rows(fake_portal)}
    kept = query("SELECT _raw FROM bronze.service_requests")
    assert {json.dumps(json.loads(raw), sort_keys=True) for (raw,) in kept} == sent
    mismatched = query(
        """SELECT count(*) FROM bronze.service_requests
           WHERE last_modified_timestamp <> CAST(_raw ->> 'last_modified_timestamp' AS TIMESTAMPTZ)
              OR latitude IS DISTINCT FROM CAST(_raw ->> 'latitude' AS DOUBLE)
              OR status IS DISTINCT FROM _raw ->> 'status'"""
    )
    assert mismatched == [(0,)]


def test_rerun_adds_nothing(fake_portal, ingest_settings, query):
    run_load(ingest_settings)
    before = query("SELECT _record_key, _row_hash, _load_id FROM bronze.service_requests")

    again = run_load(ingest_settings, full_refresh=True)
    skipped = run_load(ingest_settings)

    assert (again.rows_inserted, again.rows_updated, again.rows_unchanged) == (0, 0, 2_000)
    assert (skipped.mode, skipped.status, skipped.rows_received) == ("incremental", "skipped", 0)
    after = query("SELECT _record_key, _row_hash, _load_id FROM bronze.service_requests")
    assert sorted(after) == sorted(before)
    assert query("SELECT status, count(*) FROM bronze._loads GROUP BY 1 ORDER BY 1") == [
        ("skipped", 1),
        ("succeeded", 2),
    ]


def test_incremental_after_time_moves_equals_a_full_reload(fake_portal, ingest_settings):
    run_load(ingest_settings)
    moved = fake_portal.advance(days=3)

    incremental = run_load(ingest_settings)

    assert incremental.mode == "incremental"
    assert incremental.rows_inserted == moved.added
    assert incremental.rows_updated == moved.closed + moved.edited
    assert incremental.rows_deleted == moved.deleted  # seen by the reconciliation
    assert incremental.cursor_after > incremental.cursor_before
    assert incremental.bronze_count == incremental.portal_total == fake_portal.total_count()
    # A full reload now finds bronze already equal to the portal.
    full = run_load(ingest_settings, full_refresh=True)
    assert (full.rows_inserted, full.rows_updated, full.rows_deleted) == (0, 0, 0)
    assert full.rows_unchanged == fake_portal.total_count()


def test_incremental_reads_only_the_lookback_window(fake_portal, ingest_settings, query):
    first = run_load(ingest_settings)
    fake_portal.advance(days=1)

    second = run_load(ingest_settings)

    window = query("SELECT window_start FROM bronze._loads WHERE load_id = ?", [second.load_id])
    assert window == [(first.cursor_after - timedelta(days=ingest_settings.lookback_days),)]
    in_window = query(
        "SELECT count(*) FROM bronze.service_requests WHERE last_modified_timestamp >= ?",
        [window[0][0]],
    )[0][0]
    assert second.rows_received == in_window
    assert second.rows_received < second.portal_total


def test_a_warehouse_of_an_earlier_version_gains_the_new_audit_columns(
    fake_portal, ingest_settings, query
):
    run_load(ingest_settings)
    with duckdb.connect(str(ingest_settings.warehouse_path)) as con:
        for column in ("bronze_count", "reconciliation"):  # as 0.3.0 made it
            con.execute(f"ALTER TABLE bronze._loads DROP COLUMN {column}")
    status = CliRunner().invoke(app, ["status", "--data-dir", str(ingest_settings.data_dir)])
    assert status.exit_code == 0, status.output
    assert "reconciled  (not yet)" in status.output

    fake_portal.advance(days=1)
    result = run_load(ingest_settings)

    assert query(
        "SELECT bronze_count, reconciliation IS NOT NULL FROM bronze._loads ORDER BY started_at"
    ) == [(None, False), (result.bronze_count, True)]

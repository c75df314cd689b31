"""A first load inserts the export part by part while the rest downloads: the result is the
same as in one part, a download cut after some parts were loaded starts again cleanly, and a
failing insert stops the download."""

import json
import logging
import threading
from datetime import UTC, datetime

import duckdb
import pytest
from mmds_ingest import bronze, run_load
from mmds_ingest.client import PortalClient
from mmds_ingest.datasets import SERVICE_REQUESTS
from mmds_ingest.errors import PortalUnavailableError
from mmds_ingest.fake_portal import generate_records
from mmds_ingest.fresh_load import RESTART, insert_into_empty, load_into_empty
from mmds_ingest.interruptible import Connection
from mmds_ingest.staging import Staging

BRONZE = """SELECT _record_key, * EXCLUDE (_record_key, _load_id, _loaded_at)
FROM bronze.service_requests ORDER BY _record_key"""


def _bronze(settings) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(BRONZE).fetchall()


@pytest.fixture
def in_one_part(fake_portal, ingest_settings, tmp_path):
    """Bronze after a first load of the whole export as one part."""
    settings = ingest_settings.model_copy(update={"data_dir": tmp_path / "one-part"})
    run_load(settings)
    return _bronze(settings)


def test_a_load_in_many_parts_equals_one_in_a_single_part(
    fake_portal, ingest_settings, in_one_part
):
    settings = ingest_settings.model_copy(update={"export_part_bytes": 20_000})

    result = run_load(settings)

    assert result.rows_inserted == 2_000
    assert _bronze(settings) == in_one_part
    assert any(not key.endswith("-1") for key, *_ in in_one_part), "the sample holds twins"


def test_a_download_cut_after_parts_were_loaded_starts_again_and_loads_each_row_once(
    fake_portal, ingest_settings, in_one_part, caplog
):
    settings = ingest_settings.model_copy(update={"export_part_bytes": 50_000})
    fake_portal.inject("truncated_body", times=1, endpoint="exports", after_bytes=400_000)
    caplog.set_level(logging.INFO, logger="mmds_ingest")

    result = run_load(settings)

    assert "parts loaded so far are void" in caplog.text  # parts were in before the cut
    assert (result.rows_received, result.rows_inserted) == (2_000, 2_000)
    assert _bronze(settings) == in_one_part


def test_a_download_failing_for_good_after_parts_were_loaded_leaves_nothing(
    fake_portal, ingest_settings
):
    settings = ingest_settings.model_copy(update={"export_part_bytes": 50_000})
    fake_portal.inject("truncated_body", times=None, endpoint="exports", after_bytes=400_000)

    with pytest.raises(PortalUnavailableError, match="truncated"):
        run_load(settings)

    assert not settings.data_dir.exists()  # the first load made it; failing, it takes it back


def test_a_failing_insert_stops_the_download_and_raises(fake_portal, ingest_settings, tmp_path):
    threads_before = set(threading.enumerate())
    # no bronze tables: the insert fails
    con = Connection(bronze.connect(tmp_path / "no-bronze.duckdb"))
    try:
        with (
            PortalClient(ingest_settings, SERVICE_REQUESTS) as client,
            pytest.raises(duckdb.CatalogException),
        ):
            load_into_empty(
                con,
                client,
                tmp_path,
                where=None,
                order_by="last_modified_timestamp",
                part_bytes=20_000,
                on_progress=None,
                load_id="l",
                loaded_at=datetime.now(UTC),
                staging=Staging(SERVICE_REQUESTS, datetime.now(UTC)),
            )
    finally:
        con.close()
    # no thread of the load outlives it (others, of earlier tests, may end meanwhile)
    assert not set(threading.enumerate()) - threads_before


def test_parts_before_a_restart_are_void(tmp_path):
    records = generate_records(6, seed=3)
    paths = []
    for name, part in (("a", records[:4]), ("b", records[4:])):
        path = tmp_path / f"{name}.jsonl"
        path.write_text("".join(json.dumps(record) + "\n" for record in part), encoding="utf-8")
        paths.append(path)
    con = bronze.connect(tmp_path / "w.duckdb")
    bronze.ensure_schema(con)

    summary = insert_into_empty(
        con,
        [paths[0], RESTART, paths[1]],
        load_id="l",
        loaded_at=datetime.now(UTC),
        staging=Staging(SERVICE_REQUESTS, datetime.now(UTC)),
    )

    assert summary.rows == 2
    kept = con.execute("SELECT department, status FROM bronze.service_requests ORDER BY 1, 2")
    assert kept.fetchall() == sorted((r["department"], r["status"]) for r in records[4:])
    assert not any(path.exists() for path in paths)  # each part is deleted once inserted
    con.close()

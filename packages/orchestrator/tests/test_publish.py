"""Publishing the serving file: complete, atomic, and never half-written."""

import signal
import subprocess
import sys
from datetime import UTC, datetime

import duckdb
import pytest
from mmds_orchestrator.defs.publish.serving import (
    DbtTestResult,
    PublishError,
    gold_digest,
    publish_serving_file,
    published_gold_digest,
)

RESULTS = [DbtTestResult("unique_fct_id", "fct_service_requests", "pass", 0)]


def _warehouse(path, requests: int) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists bronze")
        con.execute("create schema if not exists silver")
        con.execute("create schema if not exists gold")
        con.execute(
            "create or replace table bronze._loads as select * from (values "
            "('load-1', timestamptz '2026-11-01 00:00:00+00'), "
            "('load-2', timestamptz '2026-11-02 00:00:00+00')) t(load_id, finished_at)"
        )
        con.execute(
            "create or replace table bronze.service_requests as select range as id from range(?)",
            [requests],
        )
        con.execute("create or replace view silver.stg as select * from bronze.service_requests")
        con.execute(
            "create or replace table gold.fct_service_requests as select id::varchar "
            "as service_request_id, timestamptz '2026-11-01 12:00:00+00' + to_days(id::int) "
            "as last_modified_at from bronze.service_requests"
        )
        con.execute("create or replace table gold.dim_local_areas as select 0 as local_area_id")


def _query(path, sql):
    with duckdb.connect(str(path), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        return con.execute(sql).fetchall()


def test_publish_copies_gold_and_writes_the_meta_tables(tmp_path):
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving.duckdb"
    _warehouse(warehouse, requests=3)

    record = publish_serving_file(warehouse, serving, RESULTS)

    assert record.load_id == "load-2"
    assert record.gold_tables == 2
    assert _query(serving, "select count(*) from gold.fct_service_requests") == [(3,)]
    assert _query(serving, "select load_id, source_last_modified_at from meta.publish") == [
        ("load-2", datetime(2026, 11, 3, 12, tzinfo=UTC))
    ]
    assert _query(serving, "select count(*) from meta.loads") == [(2,)]
    counts = _query(serving, "select layer, table_name, row_count from meta.layer_row_counts")
    assert ("bronze", "service_requests", 3) in counts
    assert ("silver", "stg", 3) in counts
    assert _query(serving, "select * from meta.test_results") == [
        ("unique_fct_id", "fct_service_requests", "pass", 0)
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["serving.duckdb", "warehouse.duckdb"]


def test_a_reader_keeps_its_snapshot_while_a_new_file_is_published(tmp_path):
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving.duckdb"
    _warehouse(warehouse, requests=3)
    publish_serving_file(warehouse, serving, RESULTS)

    with duckdb.connect(str(serving), read_only=True) as reader:
        _warehouse(warehouse, requests=5)
        publish_serving_file(warehouse, serving, RESULTS)
        old = reader.execute("select count(*) from gold.fct_service_requests").fetchone()

    assert old == (3,)
    assert _query(serving, "select count(*) from gold.fct_service_requests") == [(5,)]


def test_publishing_without_any_recorded_test_result_leaves_the_table_empty(tmp_path):
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving.duckdb"
    _warehouse(warehouse, requests=1)

    publish_serving_file(warehouse, serving, [])

    assert _query(serving, "select count(*) from meta.test_results") == [(0,)]


def test_a_warehouse_without_gold_is_refused_and_the_serving_file_is_untouched(tmp_path):
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving.duckdb"
    _warehouse(warehouse, requests=3)
    publish_serving_file(warehouse, serving, RESULTS)
    before = serving.read_bytes()
    with duckdb.connect(str(warehouse)) as con:
        con.execute("drop schema gold cascade")

    with pytest.raises(PublishError, match="no gold tables"):
        publish_serving_file(warehouse, serving, RESULTS)

    assert serving.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["serving.duckdb", "warehouse.duckdb"]


def test_the_gold_digest_changes_with_gold_and_is_recorded_in_the_serving_file(tmp_path):
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving.duckdb"
    _warehouse(warehouse, requests=3)
    assert published_gold_digest(serving) is None

    record = publish_serving_file(warehouse, serving, RESULTS)

    assert published_gold_digest(serving) == record.gold_digest == gold_digest(warehouse, RESULTS)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update gold.fct_service_requests set last_modified_at = now()")
    assert gold_digest(warehouse, RESULTS) != record.gold_digest
    failing = [DbtTestResult("unique_fct_id", "fct_service_requests", "warn", 2)]
    _warehouse(warehouse, requests=3)
    assert gold_digest(warehouse, RESULTS) == record.gold_digest
    assert gold_digest(warehouse, failing) != record.gold_digest


KILLED_BEFORE_RENAME = """
import os, signal, sys
from pathlib import Path
from mmds_orchestrator.defs.publish import serving

def killed(*_args):  # SIGKILL between writing the new file and renaming it
    os.kill(os.getpid(), signal.SIGKILL)

serving.os.replace = killed
serving.publish_serving_file(Path(sys.argv[1]), Path(sys.argv[2]), [])
"""


def test_the_next_publication_removes_what_a_killed_one_left(tmp_path):
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving.duckdb"
    _warehouse(warehouse, requests=3)
    publish_serving_file(warehouse, serving, RESULTS)
    before = serving.read_bytes()

    killed = subprocess.run(
        [sys.executable, "-c", KILLED_BEFORE_RENAME, str(warehouse), str(serving)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert killed.returncode == -signal.SIGKILL, killed.stderr
    leftovers = sorted(p.name for p in tmp_path.glob(".serving.duckdb.*.tmp*"))
    assert leftovers, "the killed publication left nothing behind: the test proves nothing"
    assert serving.read_bytes() == before

    publish_serving_file(warehouse, serving, RESULTS)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["serving.duckdb", "warehouse.duckdb"]

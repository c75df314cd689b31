"""Publishing the serving file: complete, atomic, and never half-written."""

import signal
import subprocess
import sys
from datetime import UTC, datetime

import duckdb
import pytest
from mmds_orchestrator.defs.publish.contract import ServingColumn, meta_contract
from mmds_orchestrator.defs.publish.serving import (
    CheckResult,
    PublishError,
    gold_digest,
    publish_serving_file,
    published_gold_digest,
)

RESULTS = [CheckResult("unique_fct_id", "fct_service_requests", "pass", 0)]
# What the tests' warehouse declares of gold (a real run declares dbt's enforced contracts).
GOLD = [
    ServingColumn("gold", "dim_local_areas", "local_area_id", "INTEGER"),
    ServingColumn("gold", "fct_service_requests", "service_request_id", "VARCHAR"),
    ServingColumn("gold", "fct_service_requests", "last_modified_at", "TIMESTAMP WITH TIME ZONE"),
]
PORTAL = "http://127.0.0.1:8000"


def _warehouse(path, requests: int) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists bronze")
        con.execute("create schema if not exists silver")
        con.execute("create schema if not exists gold")
        con.execute(
            "create or replace table bronze._loads as select * from (values "
            "('load-1', '3-1-1-service-requests', timestamptz '2026-11-01 00:00:00+00', $url, 4), "
            "('load-2', '3-1-1-service-requests', timestamptz '2026-11-02 00:00:00+00', $url, 5), "
            # a later load of another dataset: the newest load is the requests'
            "('boundaries', 'local-area-boundary', timestamptz '2026-11-02 00:01:00+00', $url, 0)"
            ") t(load_id, dataset, finished_at, source_url, rows_flagged)",
            {"url": f"{PORTAL}/api/explore/v2.1/catalog/datasets/x"},
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

    record = publish_serving_file(warehouse, serving, GOLD, RESULTS)

    assert record.load_id == "load-2"
    assert record.gold_tables == 2
    assert _query(serving, "select count(*) from gold.fct_service_requests") == [(3,)]
    assert _query(
        serving,
        "select load_id, source_last_modified_at, portal_url, is_sample from meta.publish",
    ) == [("load-2", datetime(2026, 11, 3, 12, tzinfo=UTC), PORTAL, False)]
    assert _query(serving, "select load_id, rows_flagged from meta.loads order by 1") == [
        ("boundaries", 0),
        ("load-1", 4),
        ("load-2", 5),
    ]
    counts = _query(serving, "select layer, table_name, row_count from meta.layer_row_counts")
    assert ("bronze", "service_requests", 3) in counts
    assert ("silver", "stg", 3) in counts
    assert _query(serving, "select * from meta.test_results") == [
        ("unique_fct_id", "fct_service_requests", "pass", 0)
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["serving.duckdb", "warehouse.duckdb"]


def test_the_file_holds_exactly_what_it_declares_in_meta_serving_contract(tmp_path):
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving.duckdb"
    _warehouse(warehouse, requests=3)
    with duckdb.connect(str(warehouse)) as con:  # neither is declared: neither is published
        con.execute("create table gold.undeclared as select 1 as x")
        con.execute("alter table gold.dim_local_areas add column undeclared integer")

    publish_serving_file(warehouse, serving, GOLD, RESULTS, is_sample=True)

    declared = _query(serving, "select * from meta.serving_contract")
    assert declared == [tuple(vars(column).values()) for column in [*GOLD, *meta_contract()]]
    written = _query(
        serving,
        "select table_schema, table_name, column_name, data_type from information_schema.columns "
        "where table_catalog = current_database()",
    )
    assert sorted(written) == sorted(declared)
    assert _query(serving, "select is_sample from meta.publish") == [(True,)]
    # a warehouse whose _loads predates a declared column publishes it empty
    assert _query(serving, "select distinct bronze_count from meta.loads") == [(None,)]


def test_a_gold_table_that_drifted_from_its_contract_is_not_published(tmp_path):
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving.duckdb"
    _warehouse(warehouse, requests=3)
    publish_serving_file(warehouse, serving, GOLD, RESULTS)
    before = serving.read_bytes()
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "create or replace table gold.dim_local_areas as select 0::bigint as local_area_id"
        )

    with pytest.raises(PublishError, match=r"gold\.dim_local_areas\.local_area_id BIGINT"):
        publish_serving_file(warehouse, serving, GOLD, RESULTS)

    assert serving.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["serving.duckdb", "warehouse.duckdb"]


def test_a_reader_keeps_its_snapshot_while_a_new_file_is_published(tmp_path):
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving.duckdb"
    _warehouse(warehouse, requests=3)
    publish_serving_file(warehouse, serving, GOLD, RESULTS)

    with duckdb.connect(str(serving), read_only=True) as reader:
        _warehouse(warehouse, requests=5)
        publish_serving_file(warehouse, serving, GOLD, RESULTS)
        old = reader.execute("select count(*) from gold.fct_service_requests").fetchone()

    assert old == (3,)
    assert _query(serving, "select count(*) from gold.fct_service_requests") == [(5,)]


def test_publishing_without_any_recorded_test_result_leaves_the_table_empty(tmp_path):
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving.duckdb"
    _warehouse(warehouse, requests=1)

    publish_serving_file(warehouse, serving, GOLD, [])

    assert _query(serving, "select count(*) from meta.test_results") == [(0,)]


def test_a_warehouse_without_gold_is_refused_and_the_serving_file_is_untouched(tmp_path):
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving.duckdb"
    _warehouse(warehouse, requests=3)
    publish_serving_file(warehouse, serving, GOLD, RESULTS)
    before = serving.read_bytes()
    with duckdb.connect(str(warehouse)) as con:
        con.execute("drop schema gold cascade")

    with pytest.raises(PublishError, match=r"no gold\.dim_local_areas"):
        publish_serving_file(warehouse, serving, GOLD, RESULTS)

    assert serving.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["serving.duckdb", "warehouse.duckdb"]


def test_the_gold_digest_changes_with_gold_and_is_recorded_in_the_serving_file(tmp_path):
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving.duckdb"
    _warehouse(warehouse, requests=3)
    assert published_gold_digest(serving) is None

    record = publish_serving_file(warehouse, serving, GOLD, RESULTS)

    assert (
        published_gold_digest(serving)
        == record.gold_digest
        == gold_digest(warehouse, GOLD, RESULTS)
    )
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update gold.fct_service_requests set last_modified_at = now()")
    assert gold_digest(warehouse, GOLD, RESULTS) != record.gold_digest
    failing = [CheckResult("unique_fct_id", "fct_service_requests", "warn", 2)]
    _warehouse(warehouse, requests=3)
    assert gold_digest(warehouse, GOLD, RESULTS) == record.gold_digest
    assert gold_digest(warehouse, GOLD, failing) != record.gold_digest


KILLED_BEFORE_RENAME = """
import os, signal, sys
from pathlib import Path
from mmds_orchestrator.defs.publish import serving
from mmds_orchestrator.defs.publish.contract import ServingColumn

def killed(*_args):  # SIGKILL between writing the new file and renaming it
    os.kill(os.getpid(), signal.SIGKILL)

serving.os.replace = killed
serving.publish_serving_file(Path(sys.argv[1]), Path(sys.argv[2]), {gold}, [])
"""


def test_the_next_publication_removes_what_a_killed_one_left(tmp_path):
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving.duckdb"
    _warehouse(warehouse, requests=3)
    publish_serving_file(warehouse, serving, GOLD, RESULTS)
    before = serving.read_bytes()

    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            KILLED_BEFORE_RENAME.format(gold=GOLD),
            str(warehouse),
            str(serving),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert killed.returncode == -signal.SIGKILL, killed.stderr
    leftovers = sorted(p.name for p in tmp_path.glob(".serving.duckdb.*.tmp*"))
    assert leftovers, "the killed publication left nothing behind: the test proves nothing"
    assert serving.read_bytes() == before

    publish_serving_file(warehouse, serving, GOLD, RESULTS)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["serving.duckdb", "warehouse.duckdb"]

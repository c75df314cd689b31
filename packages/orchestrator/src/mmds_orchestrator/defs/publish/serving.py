"""Write `serving.duckdb`: a copy of gold plus the meta tables, replaced atomically."""

import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

LAYERS = ("bronze", "silver", "gold")


@dataclass(frozen=True)
class DbtTestResult:
    """One dbt data test's outcome, as stored in `meta.test_results`."""

    test_name: str
    model_name: str
    status: str  # pass / warn / fail
    failures: int


@dataclass(frozen=True)
class PublishRecord:
    """What was published, as stored in `meta.publish` (plus where and how much)."""

    published_at: datetime
    load_id: str | None
    source_last_modified_at: datetime | None
    gold_tables: int
    gold_rows: int


class PublishError(RuntimeError):
    """The warehouse cannot be published (no gold yet); the serving file is left untouched."""


def publish_serving_file(
    warehouse: Path, serving: Path, test_results: Sequence[DbtTestResult]
) -> PublishRecord:
    """Copy every gold table and the meta tables into a new file, then rename it over `serving`.

    Readers of the previous file keep their snapshot; new readers see the new one. If anything
    fails before the rename, the previous serving file is untouched and the partial one removed.
    """
    staging = serving.with_name(f".{serving.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with duckdb.connect(str(staging)) as connection:
            connection.execute("set TimeZone = 'UTC'")
            connection.execute(f"attach '{_quoted(warehouse)}' as warehouse (read_only)")
            record = _copy(connection, test_results)
            connection.execute("detach warehouse")
        os.replace(staging, serving)
    finally:
        staging.unlink(missing_ok=True)
        staging.with_name(staging.name + ".wal").unlink(missing_ok=True)
    return record


def _copy(
    connection: duckdb.DuckDBPyConnection, test_results: Sequence[DbtTestResult]
) -> PublishRecord:
    gold = _tables(connection, "gold")
    if not gold:
        raise PublishError("The warehouse has no gold tables yet: run dbt build before publishing.")
    connection.execute("create schema gold")
    gold_rows = 0
    for table in gold:
        # Table names come from the warehouse's own catalog.
        copy = f'create table gold."{table}" as select * from warehouse.gold."{table}"'  # noqa: S608
        connection.execute(copy)
        gold_rows += _count(connection, f'gold."{table}"')
    connection.execute("create schema meta")
    connection.execute("create table meta.loads as select * from warehouse.bronze._loads")
    connection.execute(
        "create table meta.layer_row_counts (layer varchar, table_name varchar, row_count bigint)"
    )
    for layer in LAYERS:
        for table in _tables(connection, layer, include_views=True):
            count = _count(connection, f'warehouse.{layer}."{table}"')
            connection.execute(
                "insert into meta.layer_row_counts values (?, ?, ?)", [layer, table, count]
            )
    connection.execute(
        "create table meta.test_results "
        "(test_name varchar, model_name varchar, status varchar, failures bigint)"
    )
    if test_results:  # executemany refuses an empty list
        connection.executemany(
            "insert into meta.test_results values (?, ?, ?, ?)",
            [[r.test_name, r.model_name, r.status, r.failures] for r in test_results],
        )
    load = connection.execute(
        "select load_id from warehouse.bronze._loads order by finished_at desc limit 1"
    ).fetchone()
    newest = connection.execute(
        "select max(last_modified_at) from warehouse.gold.fct_service_requests"
    ).fetchone()
    record = PublishRecord(
        published_at=datetime.now(UTC),
        load_id=load[0] if load else None,
        source_last_modified_at=newest[0] if newest else None,
        gold_tables=len(gold),
        gold_rows=gold_rows,
    )
    connection.execute(
        "create table meta.publish "
        "(published_at timestamptz, load_id varchar, source_last_modified_at timestamptz)"
    )
    connection.execute(
        "insert into meta.publish values (?, ?, ?)",
        [record.published_at, record.load_id, record.source_last_modified_at],
    )
    return record


def _tables(
    connection: duckdb.DuckDBPyConnection, schema: str, include_views: bool = False
) -> list[str]:
    kinds = ["BASE TABLE", "VIEW"] if include_views else ["BASE TABLE"]
    rows = connection.execute(
        "select table_name from information_schema.tables "
        "where table_catalog = 'warehouse' and table_schema = ? and list_contains(?, table_type) "
        "order by table_name",
        [schema, kinds],
    ).fetchall()
    return [name for (name,) in rows]


def _count(connection: duckdb.DuckDBPyConnection, relation: str) -> int:
    row = connection.execute(f"select count(*) from {relation}").fetchone()  # noqa: S608 - catalog names
    return int(row[0]) if row else 0


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")

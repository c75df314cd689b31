"""Write `serving.duckdb`: a copy of gold plus the meta tables, replaced atomically."""

import hashlib
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
    gold_digest: str


class PublishError(RuntimeError):
    """The warehouse cannot be published (no gold yet); the serving file is left untouched."""


def publish_serving_file(
    warehouse: Path, serving: Path, test_results: Sequence[DbtTestResult]
) -> PublishRecord:
    """Copy every gold table and the meta tables into a new file, then rename it over `serving`.

    Readers of the previous file keep their snapshot; new readers see the new one. If anything
    fails before the rename, the previous serving file is untouched and the partial one removed.
    Partial files of publications that were killed are removed first: the caller is the only
    publisher (it holds the `warehouse` pool's slot).
    """
    remove_partial_publications(serving)
    staging = serving.with_name(f"{_staging_prefix(serving)}{uuid.uuid4().hex[:8]}.tmp")
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


def remove_partial_publications(serving: Path) -> list[Path]:
    """Delete the staging files (and their WAL) that killed publications left beside `serving`."""
    pattern = f"{_staging_prefix(serving)}*.tmp"
    partial = [*serving.parent.glob(pattern), *serving.parent.glob(pattern + ".wal")]
    for path in partial:
        path.unlink(missing_ok=True)
    return partial


def gold_digest(warehouse: Path, test_results: Sequence[DbtTestResult]) -> str:
    """A digest of gold's contents and of the tests' outcomes: equal digests, same publication."""
    with duckdb.connect() as connection:
        connection.execute(f"attach '{_quoted(warehouse)}' as warehouse (read_only)")
        return _digest(connection, test_results)


def published_gold_digest(serving: Path) -> str | None:
    """The digest recorded in `serving`'s `meta.publish`, or None (no file, older format)."""
    if not serving.exists():
        return None
    with duckdb.connect(str(serving), read_only=True) as connection:
        has_digest = connection.execute(
            "select count(*) from information_schema.columns "
            "where table_schema = 'meta' and table_name = 'publish' and column_name = 'gold_digest'"
        ).fetchone()
        if not has_digest or not has_digest[0]:
            return None
        row = connection.execute("select gold_digest from meta.publish").fetchone()
    return row[0] if row else None


def _staging_prefix(serving: Path) -> str:
    return f".{serving.name}."


def _digest(connection: duckdb.DuckDBPyConnection, test_results: Sequence[DbtTestResult]) -> str:
    """sha256 over each gold table's name, row count and sum of row hashes, and the tests."""
    digest = hashlib.sha256()
    for table in _tables(connection, "gold"):
        # Table names come from the warehouse's own catalog.
        row = connection.execute(
            f'select count(*), sum(hash(t)) from warehouse.gold."{table}" t'  # noqa: S608
        ).fetchone()
        digest.update(f"{table}\0{row[0] if row else 0}\0{row[1] if row else 0}\n".encode())
    for result in sorted(test_results, key=lambda r: (r.model_name, r.test_name)):
        digest.update(f"{result}\n".encode())
    return digest.hexdigest()


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
        gold_digest=_digest(connection, test_results),
    )
    connection.execute(
        "create table meta.publish (published_at timestamptz, load_id varchar, "
        "source_last_modified_at timestamptz, gold_digest varchar)"
    )
    connection.execute(
        "insert into meta.publish values (?, ?, ?, ?)",
        [record.published_at, record.load_id, record.source_last_modified_at, record.gold_digest],
    )
    return record


def _tables(
    connection: duckdb.DuckDBPyConnection, schema: str, include_views: bool = False
) -> list[str]:
    """Tables (and views) of a schema of the attached `warehouse`."""
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

"""Write `serving.duckdb`: the declared gold tables and the meta tables, replaced atomically."""

import hashlib
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from mmds_ingest.datasets import SERVICE_REQUESTS

from mmds_orchestrator.defs.publish.contract import (
    GOLD,
    META,
    ServingColumn,
    meta_contract,
    tables,
)

LAYERS = ("bronze", "silver", "gold")
LAYER_COUNTS = "_layer_row_counts"  # in a snapshot of a PostgreSQL warehouse
# Where a load's `source_url` (the dataset's API URL) leaves the portal's site root.
API_PATH = "/api/"


@dataclass(frozen=True)
class CheckResult:
    """The newest outcome of one check, as stored in `meta.test_results`."""

    test_name: str
    model_name: str
    status: str  # pass / warn / fail
    failures: int


@dataclass(frozen=True)
class PublishRecord:
    """What was published, as stored in `meta.publish` (plus how much)."""

    published_at: datetime
    load_id: str | None
    source_last_modified_at: datetime | None
    gold_digest: str
    portal_url: str | None
    is_sample: bool
    gold_tables: int
    gold_rows: int


class PublishError(RuntimeError):
    """The warehouse cannot be published as declared; the serving file is left untouched."""


def publish_serving_file(
    warehouse: Path,
    serving: Path,
    gold: Sequence[ServingColumn],
    check_results: Sequence[CheckResult],
    *,
    is_sample: bool = False,
) -> PublishRecord:
    """Copy the declared `gold` tables and write the meta tables into a new file, then rename it
    over `serving`.

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
            record = _write(connection, gold, check_results, is_sample)
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


def gold_digest(
    warehouse: Path, gold: Sequence[ServingColumn], check_results: Sequence[CheckResult]
) -> str:
    """A digest of the declared gold tables' contents and of the checks' outcomes: equal
    digests, same publication."""
    with duckdb.connect() as connection:
        connection.execute(f"attach '{_quoted(warehouse)}' as warehouse (read_only)")
        return _digest(connection, "warehouse.gold", gold, check_results)


def published_gold_digest(serving: Path) -> str | None:
    """The digest recorded in `serving`'s `meta.publish`, or None (no file, older format)."""
    if not serving.exists():
        return None
    with duckdb.connect(str(serving), read_only=True) as connection:
        if "gold_digest" not in _columns(connection, META, "publish"):
            return None
        row = connection.execute("select gold_digest from meta.publish").fetchone()
    return row[0] if row else None


def site_root(source_url: str | None) -> str | None:
    """The portal's site root of a load's dataset URL (which never carries a key)."""
    return source_url.split(API_PATH, 1)[0] if source_url else None


def _staging_prefix(serving: Path) -> str:
    return f".{serving.name}."


def _digest(
    connection: duckdb.DuckDBPyConnection,
    schema: str,
    gold: Sequence[ServingColumn],
    check_results: Sequence[CheckResult],
) -> str:
    """sha256 over each gold table's name, row count and sum of row hashes, and the checks."""
    digest = hashlib.sha256()
    for table, columns in sorted(tables(gold, GOLD).items()):
        row = connection.execute(
            f"select count(*), sum(hash(t)) "  # noqa: S608 - declared names
            f'from (select {_names(columns)} from {schema}."{table}") t'
        ).fetchone()
        digest.update(f"{table}\0{row[0] if row else 0}\0{row[1] if row else 0}\n".encode())
    for result in sorted(check_results, key=lambda r: (r.model_name, r.test_name)):
        digest.update(f"{result}\n".encode())
    return digest.hexdigest()


def _write(
    connection: duckdb.DuckDBPyConnection,
    gold: Sequence[ServingColumn],
    check_results: Sequence[CheckResult],
    is_sample: bool,
) -> PublishRecord:
    gold_rows = _copy_gold(connection, gold)
    connection.execute(f"create schema {META}")
    for table, columns in tables(meta_contract(), META).items():
        definition = ", ".join(f'"{c.column_name}" {c.data_type}' for c in columns)
        connection.execute(f'create table {META}."{table}" ({definition})')
    _copy_loads(connection)
    counts = _layer_row_counts(connection)
    if counts:  # executemany refuses an empty list
        connection.executemany("insert into meta.layer_row_counts values (?, ?, ?)", counts)
    if check_results:  # executemany refuses an empty list
        connection.executemany(
            "insert into meta.test_results values (?, ?, ?, ?)",
            [[r.test_name, r.model_name, r.status, r.failures] for r in check_results],
        )
    contract = [*gold, *meta_contract()]
    connection.executemany(
        "insert into meta.serving_contract values (?, ?, ?, ?)",
        [[c.schema_name, c.table_name, c.column_name, c.data_type] for c in contract],
    )
    load = connection.execute(
        "select load_id, source_url from warehouse.bronze._loads where dataset = ?"
        " order by finished_at desc limit 1",
        [SERVICE_REQUESTS.id],
    ).fetchone()
    newest = connection.execute("select max(last_modified_at) from gold.fct_service_requests")
    record = PublishRecord(
        published_at=datetime.now(UTC),
        load_id=load[0] if load else None,
        source_last_modified_at=(newest.fetchone() or (None,))[0],
        gold_digest=_digest(connection, GOLD, gold, check_results),
        portal_url=site_root(load[1]) if load else None,
        is_sample=is_sample,
        gold_tables=len(tables(gold, GOLD)),
        gold_rows=gold_rows,
    )
    connection.execute(
        "insert into meta.publish values (?, ?, ?, ?, ?, ?)",
        [
            record.published_at,
            record.load_id,
            record.source_last_modified_at,
            record.gold_digest,
            record.portal_url,
            record.is_sample,
        ],
    )
    _check_written(connection, contract)
    return record


def _layer_row_counts(connection: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int]]:
    """The rows of every table and view of each layer of the attached warehouse; a snapshot of
    a PostgreSQL warehouse brings them counted on the server (`postgres_snapshot`)."""
    if LAYER_COUNTS in _tables(connection, "main"):
        query = f"select layer, name, n from warehouse.main.{LAYER_COUNTS} order by all"  # noqa: S608 - a constant
        return [tuple(row) for row in connection.execute(query).fetchall()]
    return [
        (layer, table, _count(connection, f'warehouse.{layer}."{table}"'))
        for layer in LAYERS
        for table in _tables(connection, layer, include_views=True)
    ]


def _copy_gold(connection: duckdb.DuckDBPyConnection, gold: Sequence[ServingColumn]) -> int:
    """Copy the declared columns of every declared gold table; return the rows copied."""
    built = set(_tables(connection, GOLD, include_views=True))
    declared = tables(gold, GOLD)
    missing = sorted(set(declared) - built)
    if missing:
        raise PublishError(
            f"the warehouse has no gold.{missing[0]}"
            + (f" (nor {len(missing) - 1} more gold tables)" if len(missing) > 1 else "")
            + ": run dbt build before publishing"
        )
    connection.execute(f"create schema {GOLD}")
    rows = 0
    for table, columns in declared.items():
        connection.execute(
            f'create table {GOLD}."{table}" as '  # noqa: S608 - declared names
            f'select {_names(columns)} from warehouse.{GOLD}."{table}"'
        )
        rows += _count(connection, f'{GOLD}."{table}"')
    return rows


def _copy_loads(connection: duckdb.DuckDBPyConnection) -> None:
    """Copy `bronze._loads` into `meta.loads` as declared; a column an older warehouse lacks
    (until its next load adds it) is NULL."""
    present = _columns(connection, "bronze", "_loads", catalog="warehouse")
    declared = tables(meta_contract(), META)["loads"]
    values = ", ".join(
        f'"{c.column_name}"' if c.column_name in present else f"null::{c.data_type}"
        for c in declared
    )
    connection.execute(f"insert into meta.loads select {values} from warehouse.bronze._loads")  # noqa: S608 - declared names


def _check_written(
    connection: duckdb.DuckDBPyConnection, contract: Sequence[ServingColumn]
) -> None:
    """Refuse to publish a file whose tables differ from the declaration (a gold table whose
    types drifted from its dbt contract, say)."""
    written = {
        ServingColumn(*row)
        for row in connection.execute(
            "select table_schema, table_name, column_name, data_type "
            "from information_schema.columns where table_catalog = current_database()"
        ).fetchall()
    }
    differences = sorted(
        f"{c.schema_name}.{c.table_name}.{c.column_name} {c.data_type}"
        for c in written.symmetric_difference(contract)
    )
    if differences:
        raise PublishError(
            f"the serving file would not match its declared contract ({'; '.join(differences[:5])})"
            ": run dbt build, then publish again"
        )


def _names(columns: Sequence[ServingColumn]) -> str:
    return ", ".join(f'"{column.column_name}"' for column in columns)


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


def _columns(
    connection: duckdb.DuckDBPyConnection, schema: str, table: str, catalog: str | None = None
) -> set[str]:
    rows = connection.execute(
        "select column_name from information_schema.columns where table_schema = ? "
        "and table_name = ? and table_catalog = coalesce(?, current_database())",
        [schema, table, catalog],
    ).fetchall()
    return {name for (name,) in rows}


def _count(connection: duckdb.DuckDBPyConnection, relation: str) -> int:
    row = connection.execute(f"select count(*) from {relation}").fetchone()  # noqa: S608 - catalog names
    return int(row[0]) if row else 0


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")

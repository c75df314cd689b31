"""What publish reads of a PostgreSQL warehouse, copied into a local DuckDB file of the same
shape, so that the serving file is written by the same code on both engines.

DuckDB's postgres extension would read the server directly, but it cannot be installed offline:
the rows travel with psycopg's COPY (CSV) instead. The snapshot holds the declared gold tables
(declared columns, in the serving contract's DuckDB types), `bronze._loads`, and in
`main._layer_row_counts` the row count of every table and view of bronze, silver and gold
(counted on the server: those layers are never copied).
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
import psycopg
from mmds_ingest import IngestSettings, bronze
from mmds_ingest.warehouses.postgres import connect
from psycopg import sql

from mmds_orchestrator.defs.publish.contract import GOLD, ServingColumn, tables
from mmds_orchestrator.defs.publish.serving import LAYER_COUNTS, LAYERS


@contextmanager
def readable_warehouse(
    warehouse: Path, serving: Path, gold: Sequence[ServingColumn]
) -> Iterator[Path]:
    """The DuckDB file publish reads: `warehouse` itself, or, when `MMDS_WAREHOUSE_URL` names a
    PostgreSQL server, a snapshot of it beside `serving` (removed afterwards)."""
    settings = IngestSettings()
    if settings.postgres_url is None:
        yield warehouse
        return
    path = serving.with_name(f".{serving.stem}.postgres-snapshot.duckdb")
    try:
        yield snapshot_postgres(settings.postgres_url, settings.warehouse_name, path, gold)
    finally:
        path.unlink(missing_ok=True)
        path.with_name(path.name + ".wal").unlink(missing_ok=True)


def snapshot_postgres(url: str, shown: str, path: Path, gold: Sequence[ServingColumn]) -> Path:
    """Write what publish reads of the warehouse at `url` into the DuckDB file `path` (replaced);
    one repeatable-read transaction on the server, so the copy is consistent. `shown` names the
    server in errors (no password)."""
    path.unlink(missing_ok=True)
    csv = path.with_suffix(".csv")
    with (
        connect(url, shown=shown) as server,
        duckdb.connect(str(path)) as snapshot,
    ):
        server.commit()  # the session's time zone; then one snapshot for every read
        server.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        snapshot.execute("SET TimeZone = 'UTC'")
        relations = server.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema = ANY(%s) ORDER BY 1, 2",
            [list(LAYERS)],
        ).fetchall()
        counts = [
            (schema, table, (server.execute(_count(schema, table)).fetchone() or [0])[0])
            for schema, table in relations
        ]
        snapshot.execute(f"CREATE TABLE {LAYER_COUNTS} (layer VARCHAR, name VARCHAR, n BIGINT)")
        if counts:
            snapshot.executemany(f"INSERT INTO {LAYER_COUNTS} VALUES (?, ?, ?)", counts)  # noqa: S608
        built = {table for schema, table in relations if schema == GOLD}
        snapshot.execute(f"CREATE SCHEMA {GOLD}")
        for table, columns in tables(gold, GOLD).items():
            if table not in built:
                continue  # publish says which is missing
            names = [column.column_name for column in columns]
            snapshot.execute(
                f'CREATE TABLE {GOLD}."{table}" ('
                + ", ".join(f'"{c.column_name}" {c.data_type}' for c in columns)
                + ")"
            )
            _copy(server, snapshot, GOLD, table, names, csv)
        snapshot.execute("CREATE SCHEMA bronze")
        snapshot.execute(bronze.LOADS_DDL)
        present = [
            name
            for (name,) in server.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = 'bronze' AND table_name = '_loads'"
            ).fetchall()
        ]
        if present:
            _copy(server, snapshot, "bronze", "_loads", present, csv)
    return path


def _count(schema: str, table: str) -> sql.Composed:
    return sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, table))


def _copy(
    server: psycopg.Connection,
    snapshot: duckdb.DuckDBPyConnection,
    schema: str,
    table: str,
    names: list[str],
    csv: Path,
) -> None:
    """Copy the `names` columns of `schema.table` from the server into the snapshot's table."""
    listed = sql.SQL(", ").join(map(sql.Identifier, names))
    query = sql.SQL("COPY (SELECT {} FROM {}) TO STDOUT (FORMAT csv)").format(
        listed, sql.Identifier(schema, table)
    )
    with server.cursor().copy(query) as copy, csv.open("wb") as file:
        for data in copy:
            file.write(data)
    types = dict(
        snapshot.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ?",
            [schema, table],
        ).fetchall()
    )
    read = ", ".join(f"'{name}': '{types[name]}'" for name in names)
    quoted = ", ".join(f'"{name}"' for name in names)
    snapshot.execute(
        f'INSERT INTO {schema}."{table}" ({quoted}) SELECT {quoted} '  # noqa: S608 -- catalog names
        f"FROM read_csv($path, columns = {{{read}}}, header = false, quote = '\"', "
        "escape = '\"', allow_quoted_nulls = false, auto_detect = false)",
        {"path": str(csv)},
    )
    csv.unlink()

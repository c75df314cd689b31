"""A PostgreSQL server as the warehouse (`MMDS_WAREHOUSE_URL=postgresql://...`).

The load's logic (staging, merge, twins, reconciliation) is DuckDB SQL, written once. Here it
runs on a scratch DuckDB file holding a narrow copy of the dataset's bronze table: the keys,
content hashes, flags and the instants and dates the load compares, each row remembering the
key it came from (`_origin_key`). Rows the load writes carry its `_load_id`; rows it removes are
absent. Committing applies exactly that difference to the server, with COPY both ways:

1. `begin`: one server transaction, a transaction-scoped advisory lock (one writer, as the
   DuckDB file's lock), the bronze tables made sure of (their DDL derived from `bronze.py`'s),
   and the scratch copy made with `COPY ... TO STDOUT`.
2. `commit`: the rows the load wrote are copied in with `COPY ... FROM STDIN`; a row that only
   changed key or flags takes its other columns (the raw record included) from the server's
   row it came from; the rows replaced or gone are deleted; the audit row and the cursor are
   written; then one `COMMIT`. A kill or a lost connection before it leaves the server as it
   was: PostgreSQL rolls the transaction back.

PostgreSQL's text cannot hold the NUL character: it is dropped from the typed text columns
(the record's `_raw` JSON keeps it escaped, and its `_control_characters` flag stays).
"""

import logging
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import psycopg
from psycopg import sql

from mmds_ingest import bronze
from mmds_ingest.datasets import BRONZE_SCHEMA, DATASETS, Dataset
from mmds_ingest.errors import WarehouseLockedError, WarehouseUnreachableError, one_line
from mmds_ingest.interruptible import Connection
from mmds_ingest.settings import IngestSettings
from mmds_ingest.warehouses.duckdb_file import remove_new_data_dir

log = logging.getLogger(__name__)

SCRATCH_FILE = "postgres-load.duckdb"
"""The load's scratch DuckDB file, in the data dir's `tmp/` (removed after the load)."""

CONNECT_TIMEOUT_SECONDS = 5
LOCK_KEY = 0x6D6D6473  # "mmds": the advisory lock every writer of bronze takes
ORIGIN = "_origin_key"

PG_TYPES = {
    "VARCHAR": "varchar",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "DATE": "date",
    "DOUBLE": "double precision",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "BOOLEAN": "boolean",
    # `json`, not `jsonb`: the text is kept byte for byte, as on DuckDB.
    "JSON": "json",
}
"""The PostgreSQL type of each DuckDB type of the tables written outside dbt: bronze's, and the
orchestrator's forecast tables."""

MIRRORED = ("_record_key", "_row_hash", "_load_id", "_loaded_at", "_quality_issues")
"""Columns of a bronze row the load reads besides its instants and dates; the others are
written by the load from the export, or kept from the server."""


def connect(
    url: str, *, shown: str, autocommit: bool = False, raw: bool = False
) -> psycopg.Connection:
    """Connect to the server with the session time zone pinned to UTC, or raise
    `WarehouseUnreachableError` within `CONNECT_TIMEOUT_SECONDS` saying why (never the
    password). `raw`: queries take `$n` parameters, as DuckDB's do (psycopg's `RawCursor`)."""
    try:
        con = psycopg.connect(
            url,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            autocommit=autocommit or raw,
            application_name="mmds-ingest",
            cursor_factory=psycopg.RawCursor if raw else None,
        )
    except psycopg.Error as error:
        raise WarehouseUnreachableError(
            f"cannot connect to the PostgreSQL warehouse {shown} ({_reason(error)})"
        ) from None
    con.execute("SET TIME ZONE 'UTC'")
    return con


def _reason(error: psycopg.Error) -> str:
    text = one_line(str(error))
    # libpq repeats the address before its reason: keep the reason.
    return text.rpartition("failed: ")[2][:200] or text[:200]


class PostgresWarehouse:
    """The PostgreSQL warehouse (see the module and `mmds_ingest.warehouses.Warehouse`)."""

    def __init__(self, settings: IngestSettings) -> None:
        self.settings = settings
        self.note: str | None = None
        self._data_dir_existed = settings.data_dir.exists()
        self._server: psycopg.Connection | None = None
        self._con: Connection | None = None
        self._dataset: Dataset | None = None
        self._closed = False

    @property
    def _scratch(self) -> Path:
        return self.settings.tmp_dir / SCRATCH_FILE

    def begin(self, dataset: Dataset, full_refresh: bool) -> Connection:
        settings = self.settings
        self._dataset = dataset
        assert settings.postgres_url is not None  # this warehouse is chosen by its URL
        server = self._server = connect(settings.postgres_url, shown=settings.warehouse_name)
        self._lock(server)
        bronze.make_folder(settings.tmp_dir)
        bronze.remove(self._scratch)  # a killed load's; we hold the lock
        scratch = bronze.connect(
            self._scratch,
            memory_limit=settings.duckdb_memory_limit,
            temp_dir=settings.tmp_dir / "duckdb",
        )
        self._con = Connection(scratch)
        scratch.execute("BEGIN TRANSACTION")  # one scratch transaction: no checkpoint midway
        bronze.ensure_schema(scratch)
        self._ensure_server_schema(server, scratch)
        self._mirror(server, scratch, dataset)
        return self._con

    def _lock(self, server: psycopg.Connection) -> None:
        deadline = time.monotonic() + self.settings.lock_wait_seconds
        while not _try_lock(server):
            if time.monotonic() >= deadline:
                raise WarehouseLockedError(
                    f"the PostgreSQL warehouse {self.settings.warehouse_name} is being loaded "
                    "by another process"
                )
            log.info("another load holds the warehouse; waiting")
            time.sleep(0.2)

    def _ensure_server_schema(
        self, server: psycopg.Connection, scratch: duckdb.DuckDBPyConnection
    ) -> None:
        """Create or migrate the server's bronze tables to the columns DuckDB's bronze DDL
        gives (`bronze.ensure_schema`), in the load's transaction."""
        server.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier("bronze")))
        tables: dict[str, list[tuple[str, str, bool]]] = {}
        for table, column, data_type, nullable in scratch.execute(
            "SELECT table_name, column_name, data_type, is_nullable = 'YES' "
            "FROM information_schema.columns WHERE table_schema = ? "
            "ORDER BY table_name, ordinal_position",
            [BRONZE_SCHEMA],
        ).fetchall():
            tables.setdefault(table, []).append((column, PG_TYPES[data_type], nullable))
        keys = dict(
            scratch.execute(
                "SELECT table_name, constraint_column_names FROM duckdb_constraints() "
                "WHERE schema_name = ? AND constraint_type = 'PRIMARY KEY'",
                [BRONZE_SCHEMA],
            ).fetchall()
        )
        for table, columns in tables.items():
            name = sql.Identifier(BRONZE_SCHEMA, table)
            definitions = [
                sql.SQL("{} {}{}").format(
                    sql.Identifier(column),
                    sql.SQL(pg_type),
                    sql.SQL("" if nullable else " NOT NULL"),
                )
                for column, pg_type, nullable in columns
            ]
            if table in keys:
                definitions.append(
                    sql.SQL("PRIMARY KEY ({})").format(
                        sql.SQL(", ").join(map(sql.Identifier, keys[table]))
                    )
                )
            server.execute(
                sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(
                    name, sql.SQL(", ").join(definitions)
                )
            )
            for column, pg_type, _ in columns:  # a column added since the table was made
                server.execute(
                    sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}").format(
                        name, sql.Identifier(column), sql.SQL(pg_type)
                    )
                )
        for dataset in DATASETS:  # DuckDB keeps keys unique by construction; here, checked too
            server.execute(
                sql.SQL("CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} (_record_key)").format(
                    sql.Identifier(f"{dataset.bronze_table}_record_key"),
                    sql.Identifier(BRONZE_SCHEMA, dataset.bronze_table),
                )
            )

    def _mirror(
        self, server: psycopg.Connection, scratch: duckdb.DuckDBPyConnection, dataset: Dataset
    ) -> None:
        """Copy what the load reads of the server's bronze into the scratch file: the
        dataset's narrow rows, every dataset's cursor state."""
        dated = (*dataset.names("instant"), *dataset.names("date"))
        columns = (*MIRRORED, *dated)
        path = self.settings.tmp_dir / "mirror.csv"
        _copy_out(server, _select(dataset.bronze_table, columns), path)
        scratch.execute(f"ALTER TABLE {dataset.table} ADD COLUMN {ORIGIN} VARCHAR")
        types = dict(
            scratch.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ?",
                [BRONZE_SCHEMA, dataset.bronze_table],
            ).fetchall()
        )
        read = ", ".join(f"'{name}': '{types[name]}'" for name in columns)
        listed = ", ".join(columns)
        scratch.execute(
            f"""INSERT INTO {dataset.table} ({listed}, _raw, {ORIGIN})
            SELECT {listed}, '{{}}', _record_key
            FROM read_csv($path, columns = {{{read}}}, header = false, quote = '"',
                          escape = '"', allow_quoted_nulls = false, auto_detect = false)""",  # noqa: S608 -- constants
            {"path": str(path)},
        )
        path.unlink()
        scratch.execute(
            f"CREATE TABLE _mirrored_keys AS SELECT _record_key FROM {dataset.table}"  # noqa: S608 -- constants
        )
        state = server.execute(
            "SELECT cursor, change_token, load_id, updated_at, dataset FROM bronze._state"
        ).fetchall()
        scratch.execute("DELETE FROM bronze._state")
        if state:
            scratch.executemany(
                "INSERT INTO bronze._state (cursor, change_token, load_id, updated_at, dataset) "
                "VALUES (?, ?, ?, ?, ?)",
                state,
            )

    def _started(self) -> tuple[psycopg.Connection, Dataset]:
        """The server connection and the dataset of the load `begin` started."""
        assert self._server is not None and self._dataset is not None, "begin() comes first"
        return self._server, self._dataset

    def commit(self, con: Connection, load_id: str) -> None:
        server, dataset = self._started()
        tmp = self.settings.tmp_dir
        columns = [name for (name,) in con.execute(_columns_sql(dataset)).fetchall()]
        text = set(dataset.names("text"))
        exported = ", ".join(
            f"replace({name}, chr(0), '')" if name in text else name for name in columns
        )
        written, gone = tmp / "written.csv", tmp / "gone.csv"
        con.execute(
            f"COPY (SELECT {exported}, {ORIGIN} FROM {dataset.table} "  # noqa: S608 -- constants
            f"WHERE _load_id = {_literal(load_id)}) "
            f"TO {_literal(written)} (FORMAT csv, HEADER false)"
        )
        con.execute(
            f"COPY (SELECT _record_key FROM _mirrored_keys EXCEPT "  # noqa: S608 -- constants
            f"SELECT {ORIGIN} FROM {dataset.table}) TO {_literal(gone)} (FORMAT csv, HEADER false)"
        )
        table = sql.Identifier(BRONZE_SCHEMA, dataset.bronze_table)
        names = sql.SQL(", ").join(map(sql.Identifier, columns))
        server.execute(
            sql.SQL(
                "CREATE TEMP TABLE _written ON COMMIT DROP AS SELECT * FROM {} WITH NO DATA"
            ).format(table)
        )
        server.execute(f"ALTER TABLE _written ADD COLUMN {ORIGIN} varchar")
        server.execute("CREATE TEMP TABLE _gone (_record_key varchar) ON COMMIT DROP")
        _copy_in(
            server, sql.SQL("_written ({}, {})").format(names, sql.Identifier(ORIGIN)), written
        )
        _copy_in(server, sql.SQL("_gone (_record_key)"), gone)
        # A row that only changed key or flags (twins renumbered, a future flag lifted) keeps
        # every other column of the server's row it came from.
        kept = [name for name in columns if name not in MIRRORED]
        server.execute(
            sql.SQL(
                "UPDATE _written AS w SET ({}) = ROW({}) FROM {} AS b "
                "WHERE w._origin_key IS NOT NULL AND b._record_key = w._origin_key"
            ).format(
                sql.SQL(", ").join(map(sql.Identifier, kept)),
                sql.SQL(", ").join(sql.Identifier("b", name) for name in kept),
                table,
            )
        )
        server.execute(
            sql.SQL(
                "DELETE FROM {} AS b USING (SELECT _record_key FROM _gone UNION "
                "SELECT _origin_key FROM _written WHERE _origin_key IS NOT NULL) AS d "
                "WHERE b._record_key = d._record_key"
            ).format(table)
        )
        server.execute(
            sql.SQL("INSERT INTO {} ({}) SELECT {} FROM _written").format(table, names, names)
        )
        self._copy_audit_and_state(con, server, load_id, dataset)
        server.commit()
        for path in (written, gone):
            path.unlink(missing_ok=True)

    def _copy_audit_and_state(
        self, con: Connection, server: psycopg.Connection, load_id: str, dataset: Dataset
    ) -> None:
        audit = con.execute(
            f"SELECT {', '.join(bronze.LOAD_COLUMNS)} FROM bronze._loads WHERE load_id = ?",  # noqa: S608 -- constants
            [load_id],
        ).fetchall()
        marks = sql.SQL(", ").join(sql.Placeholder() * len(bronze.LOAD_COLUMNS))
        with server.cursor() as cursor:
            cursor.executemany(
                sql.SQL("INSERT INTO bronze._loads ({}) VALUES ({})").format(
                    sql.SQL(", ").join(map(sql.Identifier, bronze.LOAD_COLUMNS)), marks
                ),
                audit,
            )
        state = con.execute(
            "SELECT cursor, change_token, load_id, updated_at, dataset FROM bronze._state "
            "WHERE dataset = ?",
            [dataset.id],
        ).fetchall()
        if state:  # a skipped load moves no cursor
            server.execute("DELETE FROM bronze._state WHERE dataset = %s", [dataset.id])
            server.cursor().executemany(
                "INSERT INTO bronze._state (cursor, change_token, load_id, updated_at, dataset) "
                "VALUES (%s, %s, %s, %s, %s)",
                state,
            )

    def roll_back(self, con: Connection, load_id: str) -> bool:
        server = self._server
        if server is None:  # stopped before the server was reached: nothing to roll back
            return False
        try:
            server.rollback()
            found = server.execute(
                "SELECT count(*) FROM bronze._loads WHERE load_id = %s", [load_id]
            )
            row = found.fetchone()
            committed = bool(row and row[0])
            server.rollback()
            return committed
        except psycopg.Error:  # the connection is gone: so is the uncommitted transaction
            return False

    def mark_finished(self, con: Connection, load_id: str) -> datetime | None:
        finished_at = datetime.now(UTC)
        server, _ = self._started()
        try:
            server.execute(
                "UPDATE bronze._loads SET finished_at = %s WHERE load_id = %s",
                [finished_at, load_id],
            )
            server.commit()
        except psycopg.Error as error:
            log.warning("the load committed, but its finish instant was not updated: %s", error)
            return None
        return finished_at

    def close(self, committed: bool) -> None:
        if self._closed:
            return
        self._closed = True
        if self._con is not None:
            self._con.close()
        bronze.remove(self._scratch)
        if self._server is not None:
            self._server.close()  # an open transaction is rolled back
        if not committed and not self._data_dir_existed:
            remove_new_data_dir(self.settings)


def _try_lock(server: psycopg.Connection) -> bool:
    """Take the load's advisory lock for the transaction, if no other load holds it."""
    row = server.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK_KEY]).fetchone()
    return row is not None and bool(row[0])


def _literal(value: object) -> str:
    """A DuckDB string literal (COPY takes no bound parameters)."""
    return "'" + str(value).replace("'", "''") + "'"


def _select(table: str, columns: tuple[str, ...]) -> sql.Composed:
    return sql.SQL("SELECT {} FROM {}").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(BRONZE_SCHEMA, table)
    )


def _columns_sql(dataset: Dataset) -> str:
    return (
        "SELECT column_name FROM information_schema.columns "  # noqa: S608 -- constants
        f"WHERE table_schema = '{BRONZE_SCHEMA}' AND table_name = '{dataset.bronze_table}' "
        f"AND column_name <> '{ORIGIN}' ORDER BY ordinal_position"
    )


def _copy_out(server: psycopg.Connection, query: sql.Composable, path: Path) -> None:
    """Write the rows of `query` on the server to `path` as CSV."""
    statement = sql.SQL("COPY ({}) TO STDOUT (FORMAT csv)").format(query)
    with server.cursor().copy(statement) as copy, path.open("wb") as file:
        for data in copy:
            file.write(data)


def _copy_in(server: psycopg.Connection, target: sql.Composable, path: Path) -> None:
    """Append the CSV rows of `path` to `target` (a table and its column list) on the server."""
    statement = sql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(target)
    with server.cursor().copy(statement) as copy, path.open("rb") as file:
        while chunk := file.read(1 << 20):
            copy.write(chunk)

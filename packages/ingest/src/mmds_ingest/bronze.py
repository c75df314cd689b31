"""The bronze schema (DDL of the contract, a table per dataset derived from its declaration),
the warehouse connection and its write lock, and the cursor state and load audit kept beside
the data."""

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from mmds_ingest.datasets import BRONZE_SCHEMA, DATASETS, SERVICE_REQUESTS, Dataset
from mmds_ingest.errors import (
    DataDirError,
    WarehouseCorruptError,
    WarehouseLockedError,
    one_line,
)
from mmds_ingest.interruptible import Executes

log = logging.getLogger(__name__)

SQL_TYPES = {
    "text": "VARCHAR",
    "instant": "TIMESTAMPTZ",
    "date": "DATE",
    "number": "DOUBLE",
    "geo_point": "JSON",
    "geo_shape": "JSON",
}
"""The bronze column type of each kind of source field."""

RECORD_COLUMNS = """
    _record_key VARCHAR NOT NULL,  -- unique by construction (see merge.py), not indexed
    _row_hash VARCHAR NOT NULL,
    _load_id VARCHAR NOT NULL,
    _loaded_at TIMESTAMPTZ NOT NULL,
    _quality_issues VARCHAR,
    _raw JSON USING COMPRESSION zstd NOT NULL  -- zstd: half the CPU of the default, 1/4 the size
"""
"""The columns every bronze table of a dataset has after the dataset's own fields."""


def table_ddl(dataset: Dataset) -> str:
    """`CREATE TABLE IF NOT EXISTS` of a dataset's bronze table: its fields, typed, in the
    portal's order, then `RECORD_COLUMNS`."""
    fields = "".join(f"\n    {field.name} {SQL_TYPES[field.kind]}," for field in dataset.fields)
    return f"CREATE TABLE IF NOT EXISTS {dataset.table} ({fields}{RECORD_COLUMNS})"


LOADS_DDL = """
CREATE TABLE IF NOT EXISTS bronze._loads (
    load_id VARCHAR PRIMARY KEY,
    mode VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    source_url VARCHAR,
    window_start TIMESTAMPTZ,
    window_end TIMESTAMPTZ,
    rows_received BIGINT,
    rows_inserted BIGINT,
    rows_updated BIGINT,
    rows_unchanged BIGINT,
    rows_flagged BIGINT,
    rows_deleted BIGINT,
    portal_total_count BIGINT,
    cursor_before TIMESTAMPTZ,
    cursor_after TIMESTAMPTZ,
    change_token VARCHAR,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL,
    message VARCHAR,
    bronze_count BIGINT,
    reconciliation VARCHAR,
    dataset VARCHAR
)"""

STATE_DDL = """
CREATE TABLE IF NOT EXISTS bronze._state (
    cursor TIMESTAMPTZ,
    change_token VARCHAR,
    load_id VARCHAR,
    updated_at TIMESTAMPTZ,
    dataset VARCHAR
)"""

ADDED_COLUMNS = (
    ("_loads", "bronze_count", "BIGINT"),
    ("_loads", "reconciliation", "VARCHAR"),
    ("_loads", "dataset", "VARCHAR"),
    ("_state", "dataset", "VARCHAR"),
)
"""Columns added since 0.3.0 (appended, so a migrated table has the shape of a new one)."""

LOAD_COLUMNS: tuple[str, ...] = (
    "load_id",
    "mode",
    "status",
    "source_url",
    "window_start",
    "window_end",
    "rows_received",
    "rows_inserted",
    "rows_updated",
    "rows_unchanged",
    "rows_flagged",
    "rows_deleted",
    "portal_total_count",
    "cursor_before",
    "cursor_after",
    "change_token",
    "started_at",
    "finished_at",
    "message",
    "bronze_count",
    "reconciliation",
    "dataset",
)


@dataclass(frozen=True)
class State:
    """The cursor and change token of the last load that moved them."""

    cursor: datetime | None
    change_token: str | None
    load_id: str | None


def make_folder(folder: Path) -> None:
    """Create `folder` (and its parents) if absent, or raise `DataDirError` saying why not."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise DataDirError(f"{folder} is a file, not a folder") from None
    except OSError as error:
        raise DataDirError(f"cannot create the folder {folder} ({error.strerror})") from None


def connect(
    path: Path,
    *,
    lock_wait_seconds: float = 0.0,
    read_only: bool = False,
    memory_limit: str | None = None,
    temp_dir: Path | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse with the session time zone pinned to UTC.

    DuckDB lets one process write a file at a time. If another holds it, wait up to
    `lock_wait_seconds`, then raise `WarehouseLockedError` naming the holder. A file that is
    not a DuckDB file raises `WarehouseCorruptError`; a folder where it cannot be created,
    `DataDirError`.
    """
    if not read_only:
        make_folder(path.parent)
    config: dict[str, str | bool | int | float | list[str]] = {}  # duckdb.connect's type
    if memory_limit:
        config["memory_limit"] = memory_limit
    if temp_dir:
        config["temp_directory"] = str(temp_dir)
    deadline = time.monotonic() + lock_wait_seconds
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only, config=config)
        except duckdb.IOException as error:
            if "lock" not in str(error).lower():
                raise _open_error(path, error) from None
            if time.monotonic() >= deadline:
                raise WarehouseLockedError(
                    f"{path} is in use by another process ({_holder(error)}): another load, "
                    "a dbt build or a reader holds it"
                ) from None
            log.info("warehouse locked by another process; waiting")
            time.sleep(0.2)
            continue
        except duckdb.Error as error:  # e.g. a file written by an incompatible DuckDB
            raise _open_error(path, error) from None
        with unreadable_as_corrupt(path):
            con.execute("SET TimeZone = 'UTC'")
            con.execute("SET enable_progress_bar = false")  # it drew on stdout during long loads
        return con


def _open_error(path: Path, error: duckdb.Error) -> Exception:
    """What an error opening `path` means: a file that is not a DuckDB file, or (when there is
    no file) a folder where it cannot be created."""
    if not path.exists():
        return DataDirError(f"cannot create {path} ({_duckdb_reason(error)})")
    if "not a valid DuckDB database file" in str(error):
        return WarehouseCorruptError(f"{path} is not a DuckDB file")
    return WarehouseCorruptError(
        f"{path} cannot be read as a DuckDB file ({_duckdb_reason(error)})"
    )


@contextmanager
def unreadable_as_corrupt(path: Path) -> Iterator[None]:
    """Raise `WarehouseCorruptError` when DuckDB cannot read what the file at `path` holds
    (a truncated or damaged file opens, then fails on its first read)."""
    try:
        yield
    except (duckdb.IOException, duckdb.SerializationException, duckdb.InternalException) as error:
        raise WarehouseCorruptError(f"{path} is damaged ({_duckdb_reason(error)})") from None


def _duckdb_reason(error: duckdb.Error) -> str:
    text = one_line(str(error).split("\n")[0])
    for prefix in ("IO Error: ", "Serialization Error: ", "INTERNAL Error: "):
        text = text.removeprefix(prefix)
    return text[:160]


def move_aside(path: Path) -> Path:
    """Rename a corrupt warehouse (and its write-ahead log) to
    `<name>.corrupt-<UTC timestamp>`, never deleting it; return the new path."""
    aside = path.with_name(f"{path.name}.corrupt-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
    path.rename(aside)
    wal = path.with_name(f"{path.name}.wal")
    if wal.exists():
        wal.rename(aside.with_name(f"{aside.name}.wal"))
    return aside


def move_back(aside: Path, path: Path) -> None:
    """Undo `move_aside`: the file at `aside` (and its log) back to `path`."""
    aside.rename(path)
    wal = aside.with_name(f"{aside.name}.wal")
    if wal.exists():
        wal.rename(path.with_name(f"{path.name}.wal"))


def remove(path: Path) -> None:
    """Delete a warehouse file and its write-ahead log (a failed first load's)."""
    for file in (path, path.with_name(f"{path.name}.wal")):
        if file.is_file():
            file.unlink()


def _holder(error: duckdb.IOException) -> str:
    text = str(error)
    marker = "Conflicting lock is held in"
    return text[text.index(marker) :].split("\n")[0].rstrip(".") if marker in text else text


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the bronze schema, every dataset's table, `_loads` and `_state` if they do not
    exist, and migrate a warehouse of an earlier version: the audit and state columns it lacks
    are added, and its rows without a dataset are the 3-1-1 dataset's (the only one then).
    Runs inside the caller's transaction, if any."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {BRONZE_SCHEMA}")
    for ddl in (*(table_ddl(dataset) for dataset in DATASETS), LOADS_DDL, STATE_DDL):
        con.execute(ddl)
    for table, name, sql_type in ADDED_COLUMNS:
        con.execute(f"ALTER TABLE bronze.{table} ADD COLUMN IF NOT EXISTS {name} {sql_type}")
    for table in ("_loads", "_state"):
        con.execute(
            f"UPDATE bronze.{table} SET dataset = ? WHERE dataset IS NULL",  # noqa: S608 -- constants
            [SERVICE_REQUESTS.id],
        )


def table_exists(con: Any, schema: str, table: str) -> bool:
    """Whether `schema.table` exists (a warehouse of an earlier version lacks newer tables).
    `$n` parameters: a PostgreSQL connection with psycopg's `RawCursor` runs it too."""
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = $1 AND table_name = $2",
        [schema, table],
    ).fetchone()
    return bool(row and row[0])


def columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str]:
    """The columns `schema.table` has (a warehouse of an earlier version has fewer until its
    next load); empty when there is no such table."""
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = $1 AND table_name = $2",
        [schema, table],
    ).fetchall()
    return {name for (name,) in rows}


def is_empty(con: Executes, dataset: Dataset) -> bool:
    """Whether the dataset's bronze table holds no row."""
    row = con.execute(f"SELECT count(*) FROM {dataset.table}").fetchone()  # noqa: S608 -- constants
    assert row is not None  # an aggregate returns one row
    return not row[0]


def read_state(con: Executes, dataset: Dataset) -> State:
    """The dataset's cursor and change token (all None before its first load)."""
    row = con.execute(
        "SELECT cursor, change_token, load_id FROM bronze._state WHERE dataset = ?", [dataset.id]
    ).fetchone()
    return State(*row) if row else State(None, None, None)


def write_state(con: Executes, dataset: Dataset, state: State, updated_at: datetime) -> None:
    """Replace the dataset's state row (call inside the load's transaction)."""
    con.execute("DELETE FROM bronze._state WHERE dataset = ?", [dataset.id])
    con.execute(
        "INSERT INTO bronze._state (cursor, change_token, load_id, updated_at, dataset) "
        "VALUES (?, ?, ?, ?, ?)",
        [state.cursor, state.change_token, state.load_id, updated_at, dataset.id],
    )


def mark_finished(con: Executes, load_id: str) -> datetime:
    """Set the `finished_at` of a committed load to now (after its commit) and return it."""
    finished_at = datetime.now(UTC)
    con.execute(
        "UPDATE bronze._loads SET finished_at = ? WHERE load_id = ?", [finished_at, load_id]
    )
    return finished_at


def record_load(con: Executes, values: dict[str, object]) -> None:
    """Append one audit row to `bronze._loads` (call inside the load's transaction)."""
    row = [values.get(column) for column in LOAD_COLUMNS]
    marks = ", ".join("?" for _ in LOAD_COLUMNS)
    con.execute(f"INSERT INTO bronze._loads ({', '.join(LOAD_COLUMNS)}) VALUES ({marks})", row)  # noqa: S608 -- column names are constants

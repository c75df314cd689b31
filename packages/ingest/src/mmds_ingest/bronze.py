"""The bronze schema (DDL of the contract), the warehouse connection and its write lock,
and the cursor state and load audit kept beside the data."""

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from mmds_ingest.errors import (
    DataDirError,
    WarehouseCorruptError,
    WarehouseLockedError,
    one_line,
)

log = logging.getLogger(__name__)

SERVICE_REQUESTS_DDL = """
CREATE TABLE IF NOT EXISTS bronze.service_requests (
    department VARCHAR,
    service_request_type VARCHAR,
    status VARCHAR,
    closure_reason VARCHAR,
    service_request_open_timestamp TIMESTAMPTZ,
    service_request_close_date DATE,
    last_modified_timestamp TIMESTAMPTZ,
    address VARCHAR,
    local_area VARCHAR,
    channel VARCHAR,
    latitude DOUBLE,
    longitude DOUBLE,
    geom JSON,
    _record_key VARCHAR NOT NULL,  -- unique by construction (see merge.py), not indexed
    _row_hash VARCHAR NOT NULL,
    _load_id VARCHAR NOT NULL,
    _loaded_at TIMESTAMPTZ NOT NULL,
    _quality_issues VARCHAR,
    _raw JSON USING COMPRESSION zstd NOT NULL  -- zstd: half the CPU of the default, 1/4 the size
)"""

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
    reconciliation VARCHAR
)"""

ADDED_LOAD_COLUMNS = (("bronze_count", "BIGINT"), ("reconciliation", "VARCHAR"))
"""`_loads` columns added after 0.3.0; a warehouse made by an earlier version gains them."""

STATE_DDL = """
CREATE TABLE IF NOT EXISTS bronze._state (
    cursor TIMESTAMPTZ,
    change_token VARCHAR,
    load_id VARCHAR,
    updated_at TIMESTAMPTZ
)"""

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
    config: dict[str, str] = {}
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
    """Create the bronze schema and its three tables if they do not exist, and add the audit
    columns a warehouse of an earlier version lacks."""
    con.execute("BEGIN")
    con.execute("CREATE SCHEMA IF NOT EXISTS bronze")
    for ddl in (SERVICE_REQUESTS_DDL, LOADS_DDL, STATE_DDL):
        con.execute(ddl)
    for name, sql_type in ADDED_LOAD_COLUMNS:
        con.execute(f"ALTER TABLE bronze._loads ADD COLUMN IF NOT EXISTS {name} {sql_type}")
    con.execute("COMMIT")


def bronze_exists(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the warehouse has the bronze tables yet."""
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'bronze' AND table_name = '_state'"
    ).fetchone()
    return bool(row and row[0])


def load_columns(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The columns `bronze._loads` has (a warehouse of an earlier version has fewer until its
    next load)."""
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = 'bronze' AND table_name = '_loads'"
    ).fetchall()
    return {name for (name,) in rows}


def is_empty(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether `bronze.service_requests` holds no row."""
    return not con.execute("SELECT count(*) FROM bronze.service_requests").fetchone()[0]


def read_state(con: duckdb.DuckDBPyConnection) -> State:
    """The current cursor and change token (all None before the first load)."""
    row = con.execute("SELECT cursor, change_token, load_id FROM bronze._state").fetchone()
    return State(*row) if row else State(None, None, None)


def write_state(con: duckdb.DuckDBPyConnection, state: State, updated_at: datetime) -> None:
    """Replace the single state row (call inside the load's transaction)."""
    con.execute("DELETE FROM bronze._state")
    con.execute(
        "INSERT INTO bronze._state VALUES (?, ?, ?, ?)",
        [state.cursor, state.change_token, state.load_id, updated_at],
    )


def mark_finished(con: duckdb.DuckDBPyConnection, load_id: str) -> datetime:
    """Set the `finished_at` of a committed load to now (after its commit) and return it."""
    finished_at = datetime.now(UTC)
    con.execute(
        "UPDATE bronze._loads SET finished_at = ? WHERE load_id = ?", [finished_at, load_id]
    )
    return finished_at


def record_load(con: duckdb.DuckDBPyConnection, values: dict[str, object]) -> None:
    """Append one audit row to `bronze._loads` (call inside the load's transaction)."""
    row = [values.get(column) for column in LOAD_COLUMNS]
    marks = ", ".join("?" for _ in LOAD_COLUMNS)
    con.execute(f"INSERT INTO bronze._loads ({', '.join(LOAD_COLUMNS)}) VALUES ({marks})", row)  # noqa: S608 -- column names are constants

"""The serving file: where it is, whether it is usable, what publish it holds, how to read it.

The orchestrator replaces `serving.duckdb` atomically (write beside, then rename) and never writes
it in place, so every read opens a short-lived read-only connection by path: a connection opened
before a publish keeps reading the old file to its end, the next one sees the new file.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from mmds_dashboard.expectations import CONTRACT_TABLE, missing

SERVING_FILE_ENV = "MMDS_SERVING_FILE"
DATA_DIR_ENV = "MMDS_DATA_DIR"
SERVING_FILE_NAME = "serving.duckdb"
REPUBLISH = "publish it again with `uv run mmds run`"

DEFAULT_DATA_DIR = Path("data")


def resolve_serving_file(serving_file: Path | None, data_dir: Path | None) -> Path:
    """`serving_file` if given, else `serving.duckdb` in `data_dir` (default `./data`),
    absolute."""
    path = serving_file or (data_dir or DEFAULT_DATA_DIR) / SERVING_FILE_NAME
    return path.expanduser().absolute()


def serving_file_path() -> Path:
    """The serving file to read: `MMDS_SERVING_FILE`, else `$MMDS_DATA_DIR/serving.duckdb`."""
    explicit = os.environ.get(SERVING_FILE_ENV)
    data_dir = os.environ.get(DATA_DIR_ENV)
    return resolve_serving_file(
        Path(explicit) if explicit else None, Path(data_dir) if data_dir else None
    )


class ServingFileUnavailable(Exception):
    """The serving file cannot be shown; `str(error)` says why in words for a person."""


@dataclass(frozen=True)
class PublishMarker:
    """Identifies one published serving file: changes whenever a new file is published."""

    path: str
    inode: int
    mtime_ns: int
    size: int
    published_at: datetime | None


@contextmanager
def read_only_connection(path: Path | str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only DuckDB connection to `path` in UTC, closed on exit.

    DuckDB shares one database instance per path within a process: while any connection opened
    before a publish is still open, this one reads the replaced file too. Use
    `publish_connection` when the publish matters.
    """
    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        yield con
    finally:
        con.close()


def _private_connection(path: str) -> duckdb.DuckDBPyConnection:
    """The file at `path` now, attached read-only in a fresh in-memory instance of its own."""
    con = duckdb.connect(":memory:")
    try:
        con.execute("ATTACH ? AS serving (READ_ONLY)", [path])
        con.execute("USE serving")
        con.execute("SET TimeZone = 'UTC'")
    except duckdb.Error:
        con.close()
        raise
    return con


def _published_at(con: duckdb.DuckDBPyConnection) -> datetime | None:
    row = con.execute("SELECT max(published_at) FROM meta.publish").fetchone()
    return row[0] if row else None


@contextmanager
def publish_connection(marker: PublishMarker) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only UTC connection to the publish `marker` identifies, closed on exit.

    Uses the process's shared instance (fast, warm) unless it still holds an earlier file at the
    same path; then the current file is attached privately.
    """
    con = duckdb.connect(marker.path, read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        if _published_at(con) != marker.published_at:
            con.close()
            con = _private_connection(marker.path)
        yield con
    finally:
        con.close()


def publish_marker(path: Path) -> PublishMarker:
    """Check that `path` is a usable serving file and return the marker of its publish.

    Raises ServingFileUnavailable (with one line for the reader) when the file is missing, empty,
    not a DuckDB database, busy, or lacks a table or column the dashboard reads (checked against
    the contract the file declares, `meta.serving_contract`). A file already checked (same inode,
    mtime and size: publishes replace the file, never edit it) costs only a `stat`.
    """
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise ServingFileUnavailable(f"No serving file at `{path}` yet.") from None
    if stat.st_size == 0:
        raise ServingFileUnavailable(f"The serving file `{path}` is empty.")
    return _checked_marker(str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=16)
def _checked_marker(path_text: str, inode: int, mtime_ns: int, size: int) -> PublishMarker:
    path = Path(path_text)
    try:
        with closing(_private_connection(path_text)) as con:
            lacking = _lacking(con)
            if lacking:
                more = f" (and {len(lacking) - 1} more)" if len(lacking) > 1 else ""
                raise ServingFileUnavailable(
                    f"The serving file `{path}` lacks {lacking[0]}{more}, which the dashboard "
                    f"reads: {REPUBLISH}."
                )
            published_at = _published_at(con)
    except duckdb.IOException as error:
        raise ServingFileUnavailable(
            f"The serving file `{path}` cannot be opened: {_first_line(error)}"
        ) from None
    except duckdb.Error as error:
        raise ServingFileUnavailable(
            f"The serving file `{path}` is not a readable DuckDB database: {_first_line(error)}"
        ) from None
    return PublishMarker(
        path=path_text,
        inode=inode,
        mtime_ns=mtime_ns,
        size=size,
        published_at=published_at,
    )


def _lacking(con: duckdb.DuckDBPyConnection) -> list[str]:
    """What the dashboard reads that the file does not declare in its contract and hold."""
    present = {
        (f"{schema}.{table}", column)
        for schema, table, column in con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns"
        ).fetchall()
    }
    if not any(table == CONTRACT_TABLE for table, _ in present):
        return [f"{CONTRACT_TABLE} (published by an older mmds)"]
    declared = con.execute(
        f"SELECT schema_name || '.' || table_name, column_name FROM {CONTRACT_TABLE}"  # noqa: S608 (fixed name)
    ).fetchall()
    return missing(declared, present)


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0][:300]

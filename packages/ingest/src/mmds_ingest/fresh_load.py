"""A full load into an empty bronze, overlapped with the download.

Every row is new, so there is nothing to match: the export arrives in parts, and each part goes
from its file straight into bronze (no staging table) while the next one downloads, all inside
the caller's transaction. Each row gets occurrence 1; once every part is in, the few identities
that arrived more than once are renumbered 1, 2, ... in order of the cursor and content, as a
merge into an empty bronze numbers them. A retried download voids the parts
inserted so far: they are deleted, and the parts come again.

The download runs in the loading thread and the inserts on the connection's worker thread, so
that a stop reaching the loading thread (Ctrl-C) breaks the download at once and interrupts the
insert under way.
"""

import logging
import queue
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

import duckdb

from mmds_ingest.client import PortalClient, ReceivedCallback
from mmds_ingest.export_sink import PartSink
from mmds_ingest.identity import (
    OCCURRENCE_ORDER,
    key_identity_sql,
    payload_columns,
    record_key_sql,
)
from mmds_ingest.interruptible import Connection
from mmds_ingest.staging import StageSummary, Staging, payload_errors

log = logging.getLogger(__name__)

RESTART = "restart"
"""Among the parts: the download began again, so the parts inserted before it are void."""

_DONE = "done"  # the download is complete
_STOPPED = "stopped"  # the download failed or was stopped: insert nothing more


class _LoadingFailed(Exception):
    """Stops the download when the inserts have failed."""


class _Stopped(Exception):
    """Ends the inserts when the download has stopped."""


def load_into_empty(
    con: Connection,
    client: PortalClient,
    directory: Path,
    *,
    where: str | None,
    order_by: str | None,
    part_bytes: int,
    on_progress: ReceivedCallback | None,
    load_id: str,
    loaded_at: datetime,
    staging: Staging,
) -> StageSummary:
    """Download the export into parts under `directory` and insert each into the dataset's
    empty bronze table as it completes (inside the caller's transaction); number the twins and
    summarise.

    Raises the download's error (`PortalUnavailableError`, ...) or the payload's
    (`PayloadError`, as `Staging.stage` does); the caller then rolls back.
    """
    parts: queue.Queue[Path | str] = queue.Queue()
    inserting = con.submit(
        insert_into_empty, _received(parts), load_id=load_id, loaded_at=loaded_at, staging=staging
    )

    def progress(size: int, rows: int) -> None:
        if inserting.done():  # before the download is complete, only by failing
            raise _LoadingFailed
        if on_progress:
            on_progress(size, rows)

    sink = PartSink(directory, part_bytes, parts.put, lambda: parts.put(RESTART))
    try:
        client.stream_export(sink, where=where, order_by=order_by, on_progress=progress)
    except _LoadingFailed:
        pass  # the inserts' own error is raised below
    except BaseException:
        parts.put(_STOPPED)
        con.stop(inserting)
        raise
    parts.put(_DONE)
    return con.wait(inserting)


def _received(parts: queue.Queue[Path | str]) -> Iterator[Path | str]:
    while (part := parts.get()) != _DONE:
        if part == _STOPPED:
            raise _Stopped
        yield part


def insert_into_empty(
    con: duckdb.DuckDBPyConnection,
    parts: Iterable[Path | str],
    *,
    load_id: str,
    loaded_at: datetime,
    staging: Staging,
) -> StageSummary:
    """Insert each part file of an export into the dataset's empty bronze table (inside the
    caller's transaction) and delete it; `RESTART` among the parts voids the rows inserted
    before it. Then number the twins and summarise; raise as `Staging.stage` does."""
    table = staging.dataset.table
    # Row order in bronze carries no meaning (twins are numbered by an explicit order);
    # letting DuckDB's threads append in any order makes the insert faster. Not reset when an
    # insert fails: the transaction is then aborted, and the failed load closes the connection.
    con.execute("SET preserve_insertion_order = false")
    for part in parts:
        if part == RESTART:
            log.info("the export download restarted; the parts loaded so far are void")
            con.execute(f"DELETE FROM {table}")  # noqa: S608 -- a constant
            continue
        assert isinstance(part, Path)  # RESTART is the only string among the parts
        _insert_part(con, part, load_id=load_id, loaded_at=loaded_at, staging=staging)
        part.unlink()
    con.execute("RESET preserve_insertion_order")
    _number_twins(con, staging)
    return staging.summarise(con, table)


def _insert_part(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    load_id: str,
    loaded_at: datetime,
    staging: Staging,
) -> None:
    query, params = staging.rows_sql(path)
    columns = ", ".join(payload_columns(staging.dataset))
    with payload_errors():
        con.execute(
            f"""INSERT INTO {staging.dataset.table} ({columns}, _record_key, _load_id, _loaded_at)
            SELECT {columns}, {record_key_sql("_identity", "1")}, $load_id, $loaded_at
            FROM ({query})""",  # noqa: S608 -- built from constants; values are bound
            params | {"load_id": load_id, "loaded_at": loaded_at},
        )


def _number_twins(con: duckdb.DuckDBPyConnection, staging: Staging) -> None:
    """Renumber the identities that arrived more than once (all hold occurrence 1)."""
    table, cursor = staging.dataset.table, staging.dataset.cursor_sql
    occurrence = f"row_number() OVER (PARTITION BY _record_key ORDER BY {OCCURRENCE_ORDER})"
    # An UPDATE of the few twins' keys; a delete and re-insert of them would make DuckDB
    # rewrite every row group it touched at commit.
    con.execute(
        f"""UPDATE {table} AS b SET _record_key = t._record_key
        FROM (SELECT _row,
                     {record_key_sql(key_identity_sql("_record_key"), occurrence)} AS _record_key
              FROM (SELECT rowid AS _row, _record_key, _row_hash, {cursor} AS _cursor
                    FROM {table}
                    WHERE _record_key IN (SELECT _record_key FROM {table}
                                          GROUP BY _record_key HAVING count(*) > 1))) AS t
        WHERE b.rowid = t._row AND b._record_key <> t._record_key"""  # noqa: S608 -- constants
    )

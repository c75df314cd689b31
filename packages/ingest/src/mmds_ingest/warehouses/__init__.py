"""Where bronze lives, behind one small interface: the DuckDB file in the data dir, or a
PostgreSQL server (`MMDS_WAREHOUSE_URL`).

A load always works through a DuckDB connection (`interruptible.Connection`): staging, merge
and reconciliation are set-based DuckDB SQL, written once. The engine decides what that
connection is and what committing means: on the DuckDB file it is the warehouse itself and
commit is `COMMIT`; on PostgreSQL it is a scratch copy of the dataset's bronze keys and
cursors, and commit applies what the load changed to the server with COPY, in one server
transaction with the audit row and the cursor (`postgres.py`).
"""

from datetime import datetime
from typing import Protocol

from mmds_ingest.datasets import Dataset
from mmds_ingest.interruptible import Connection
from mmds_ingest.settings import IngestSettings


class Warehouse(Protocol):
    """One load's hold on the warehouse, from `begin` to `close`."""

    note: str | None
    """Something the load's audit row should say about the warehouse (e.g. a file moved
    aside), set by `begin`."""

    def begin(self, dataset: Dataset, full_refresh: bool) -> Connection:
        """Take the write lock, begin the load's transaction, make sure of the bronze tables and
        return the DuckDB connection the load works through. Raises an `IngestError`."""

    def commit(self, con: Connection, load_id: str) -> None:
        """Make everything the load wrote durable at once, or nothing."""

    def roll_back(self, con: Connection, load_id: str) -> bool:
        """Undo the load; return whether it had committed after all (a stop that broke the wait
        for the commit while the engine went on to finish it)."""

    def mark_finished(self, con: Connection, load_id: str) -> datetime | None:
        """Stamp the committed load's `finished_at` with now; None (logged) if that failed."""

    def close(self, committed: bool) -> None:
        """Release everything `begin` opened; when the load did not commit, undo what opening
        made (a new file, a folder). Safe to call more than once."""


def open_warehouse(settings: IngestSettings) -> Warehouse:
    """The warehouse `settings` name: PostgreSQL for a `postgresql://` URL, else the DuckDB
    file in the data dir. Opens nothing yet."""
    if settings.postgres_url:
        from mmds_ingest.warehouses.postgres import PostgresWarehouse

        return PostgresWarehouse(settings)
    from mmds_ingest.warehouses.duckdb_file import DuckDBWarehouse

    return DuckDBWarehouse(settings)

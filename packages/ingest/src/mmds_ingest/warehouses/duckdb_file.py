"""The DuckDB file in the data dir as the warehouse: the load works in it directly, inside one
DuckDB transaction."""

import contextlib
import logging
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from mmds_ingest import bronze
from mmds_ingest.datasets import Dataset
from mmds_ingest.errors import WarehouseCorruptError
from mmds_ingest.interruptible import Connection
from mmds_ingest.settings import IngestSettings

log = logging.getLogger(__name__)


class DuckDBWarehouse:
    """`warehouse.duckdb` in the data dir (see `mmds_ingest.warehouses.Warehouse`)."""

    def __init__(self, settings: IngestSettings) -> None:
        self.settings = settings
        self.note: str | None = None
        self._before = _Before.look(settings)
        self._con: Connection | None = None
        self._aside: Path | None = None
        self._closed = False

    def begin(self, dataset: Dataset, full_refresh: bool) -> Connection:
        """Open the file, begin the transaction and make sure of the bronze tables (a failed
        load undoes even a migration); with `full_refresh`, a file that is not a DuckDB file
        is moved aside and a new one made in its place."""
        path = self.settings.warehouse_path
        try:
            self._con = self._open_with_schema()
        except WarehouseCorruptError as corrupt:
            if not full_refresh:
                raise
            self._aside = bronze.move_aside(path)
            log.warning("%s; moved it aside to %s for a full refresh", corrupt.cause, self._aside)
            self.note = (
                f"{path.name} was not a DuckDB file: moved aside to {self._aside.name} and "
                "loaded into a new one"
            )
            self._con = self._open_with_schema()
        return self._con

    def _open_with_schema(self) -> Connection:
        settings, path = self.settings, self.settings.warehouse_path
        con = bronze.connect(
            path,
            lock_wait_seconds=settings.lock_wait_seconds,
            memory_limit=settings.duckdb_memory_limit,
            temp_dir=settings.tmp_dir / "duckdb",
        )
        try:
            with bronze.unreadable_as_corrupt(path):
                con.execute("BEGIN TRANSACTION")
                bronze.ensure_schema(con)
        except BaseException:
            con.close()
            raise
        return Connection(con)

    def commit(self, con: Connection, load_id: str) -> None:
        con.execute("COMMIT")

    def roll_back(self, con: Connection, load_id: str) -> bool:
        try:
            con.duckdb.execute("ROLLBACK")
        except duckdb.TransactionException:  # no transaction left: the COMMIT ended it
            found = con.duckdb.execute(
                "SELECT count(*) FROM bronze._loads WHERE load_id = ?", [load_id]
            )
            row = found.fetchone()
            return bool(row and row[0])
        return False

    def mark_finished(self, con: Connection, load_id: str) -> datetime | None:
        try:
            return bronze.mark_finished(con, load_id)
        except duckdb.Error as error:
            log.warning("the load committed, but its finish instant was not updated: %s", error)
            return None

    def close(self, committed: bool) -> None:
        if self._closed:
            return
        self._closed = True
        if self._con is not None:
            self._con.close()
        if not committed:
            self._before.restore(self.settings, self._aside)


@dataclass(frozen=True)
class _Before:
    """What existed before a load, so that a failed load can leave things as they were."""

    data_dir: bool
    warehouse: bool

    @classmethod
    def look(cls, settings: IngestSettings) -> "_Before":
        return cls(settings.data_dir.exists(), settings.warehouse_path.exists())

    def restore(self, settings: IngestSettings, aside: Path | None) -> None:
        """Undo what opening the warehouse made: a new file, a corrupt one moved aside, the
        data folder. Called after the connection is closed."""
        path = settings.warehouse_path
        if aside is not None:
            bronze.remove(path)
            bronze.move_back(aside, path)
        elif not self.warehouse:
            bronze.remove(path)
        if not self.data_dir:
            remove_new_data_dir(settings)


def remove_new_data_dir(settings: IngestSettings) -> None:
    """Remove the data folder a failed load created (only if nothing else is in it)."""
    shutil.rmtree(settings.tmp_dir, ignore_errors=True)
    with contextlib.suppress(OSError):
        settings.data_dir.rmdir()

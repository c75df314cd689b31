"""Dagster's SQLite event log, with one connection per database file kept open while in use."""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import StaticPool


class KeptOpenSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` that opens each database file once, not once per statement.

    Dagster's SQLite event log creates an engine and a connection for every read and write,
    closing the last connection to a WAL database checkpoints it to disk, and every commit waits
    for the disk. A run of the pipeline stores about 300 events (70 checks planned, then
    evaluated, each mirrored into the index), so that cost more than the ingest itself. Here
    each file (the run's shard, the index) keeps one connection until `dispose`, with SQLite's
    `synchronous=NORMAL`: a commit survives mmds being killed, and only a power cut or an OS
    crash may lose the last events (the database stays consistent; the warehouse is not
    involved). Same files and schema: the UI and other processes read and write them as usual.

    Meant for a process that runs one pipeline and exits (`mmds run`): it keeps a connection
    for every run it reads or writes.
    """

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self._engines: dict[str, Engine] = {}
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> "KeptOpenSqliteEventLogStorage":
        return cls(inst_data=inst_data, **config_value)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:  # the one connection of a file is never used by two threads at once
            engine = self._engine(shard)
            with engine.connect() as connection, connection.begin():
                yield connection

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.get(shard)
        if engine is None:
            engine = create_engine(
                self.conn_string_for_shard(shard),
                poolclass=StaticPool,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
            event.listen(engine, "connect", _commit_without_waiting_for_the_disk)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            self._engines[shard] = engine
        return engine

    def wipe(self) -> None:
        self._close_all()  # wipe deletes the run files: no connection may outlive them
        super().wipe()

    def dispose(self) -> None:
        self._close_all()
        super().dispose()

    def _close_all(self) -> None:
        with self._db_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()


def _commit_without_waiting_for_the_disk(dbapi_connection: Any, _record: Any) -> None:
    # In WAL mode, NORMAL syncs at checkpoints only: consistent always, durable but for the OS.
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")

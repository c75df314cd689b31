"""Keeping a load stoppable at any moment.

Python delivers Ctrl-C (and any stop a framework raises in a thread) to the loading thread only
when that thread runs Python code or waits in a way Python can break: an HTTP read, a sleep, a
lock. A DuckDB statement is neither: it runs in C++ until it is done, which at a million rows
is many seconds. So the loading thread never runs a statement itself: `Connection` hands each
one to a worker thread and waits for it; when the wait is broken, it interrupts the statement
(`DuckDBPyConnection.interrupt`), waits the moment DuckDB takes to stop, and lets the stop go
on. Requests made beside the loading thread run in daemon threads (`in_background`), which a
stopped load abandons instead of waiting for their timeouts.
"""

import concurrent.futures
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

import duckdb

T = TypeVar("T")


class Executes(Protocol):
    """What the load's SQL needs of a connection, DuckDB's `execute`: a DuckDB connection and
    the interruptible `Connection` both have it."""

    def execute(self, query: str, parameters: object = None) -> duckdb.DuckDBPyConnection: ...


class Connection:
    """A DuckDB connection whose statements the loading thread can interrupt.

    `execute` has DuckDB's signature and returns the DuckDB connection, ready to fetch from.
    `run(work, ...)` runs a whole function of the DuckDB connection on the worker thread (the
    inserts of a first load, while the loading thread downloads). Not for concurrent use: one
    statement or function at a time, as with DuckDB itself.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.duckdb = con
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="duckdb")

    def execute(self, query: str, parameters: object = None) -> duckdb.DuckDBPyConnection:
        """Run one statement on the worker thread and wait for it, interruptibly."""
        return self.wait(self._worker.submit(self.duckdb.execute, query, parameters))

    def submit(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        """Start `work(duckdb_connection, *args, **kwargs)` on the worker thread."""
        return self._worker.submit(work, self.duckdb, *args, **kwargs)

    def wait(self, future: Future[T]) -> T:
        """The result of `future` (from `submit`); a stop while waiting interrupts its work."""
        try:
            return future.result()
        except BaseException:
            self.stop(future)  # when the wait was broken, not the work
            raise

    def stop(self, future: Future[Any]) -> None:
        """Interrupt the work of `future` until it has ended (DuckDB stops a statement within
        milliseconds; work between two statements meets the next interrupt)."""
        while not future.done():
            self.duckdb.interrupt()
            concurrent.futures.wait([future], timeout=0.05)

    def close(self) -> None:
        """Close the DuckDB connection and stop the worker thread."""
        self._worker.shutdown(wait=True, cancel_futures=True)
        self.duckdb.close()


def in_background(work: Callable[[], T], name: str) -> Future[T]:
    """Run `work` in a daemon thread; the caller waits on the future (interruptibly) or, when
    stopped, abandons it: the thread then ends with its request's own timeout, without holding
    up the process."""
    future: Future[T] = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(work())
        except BaseException as error:  # handed to whoever waits
            future.set_exception(error)

    threading.Thread(target=run, name=name, daemon=True).start()
    return future

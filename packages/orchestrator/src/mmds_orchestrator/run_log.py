"""The full log of one `mmds run`: a file under `MMDS_DATA_DIR/logs/`, named by its start time.

While a run is captured, everything written to `sys.stdout` and `sys.stderr` (Dagster's own log
lines, dbt's output as dagster-dbt relays it, warnings, tracebacks), every Python log record and
whatever reaches the process's own descriptors 1 and 2 goes to that file, and also to the
terminal only when asked (`-v`). ANSI codes never reach it from Python.
"""

import contextlib
import io
import logging
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

KEEP_LOGS = 20
LOG_PREFIX = "mmds-run-"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# One line per HTTP request, or per migration of Dagster's storage, is noise even in a file.
QUIET_LOGGERS = ("httpx", "httpcore", "alembic")
# Records Dagster's log manager relayed carry this attribute; its own console logger (captured
# with stderr) has written them already.
RELAYED_BY_DAGSTER = "dagster_meta"


def create_log_file(log_dir: Path, started: datetime, keep: int = KEEP_LOGS) -> Path:
    """A new, empty log file for a run started at `started` (UTC); older ones beyond the
    newest `keep` are deleted. Raises `OSError` when the folder cannot be written."""
    log_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{LOG_PREFIX}{started:%Y%m%dT%H%M%SZ}"
    for attempt in range(1, 100):  # two runs started in the same second
        path = log_dir / (f"{stem}.log" if attempt == 1 else f"{stem}-{attempt}.log")
        try:
            path.open("x", encoding="utf-8").close()
            break
        except FileExistsError:
            continue
    for old in sorted(log_dir.glob(f"{LOG_PREFIX}*.log"))[:-keep]:
        old.unlink(missing_ok=True)
    return path


class LogFile(io.TextIOBase):
    """The run's log file, written line-buffered from any thread, ANSI codes removed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = path.open("a", encoding="utf-8", buffering=1)
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self._file.write(ANSI.sub("", text))
        return len(text)

    def line(self, text: str) -> None:
        """One line of `mmds run`'s own, stamped with the time (UTC)."""
        self.write(f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} mmds: {text}\n")

    def flush(self) -> None:
        with self._lock:
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()
        super().close()


class Tee(io.TextIOBase):
    """A text stream writing to several others at once (thread-safe), ANSI codes removed."""

    def __init__(self, *streams: io.TextIOBase | TextIO) -> None:
        self._streams = streams
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        plain = ANSI.sub("", text)
        with self._lock:
            for stream in self._streams:
                stream.write(plain)
        return len(text)

    def flush(self) -> None:
        with self._lock:
            for stream in self._streams:
                stream.flush()

    def isatty(self) -> bool:
        return False


@dataclass(frozen=True)
class Terminal:
    """The streams that still reach the terminal while a run is captured."""

    out: TextIO
    err: TextIO


@contextlib.contextmanager
def captured(log: LogFile, out: TextIO, err: TextIO, verbose: bool) -> Iterator[Terminal]:
    """Send stdout, stderr and Python logging to `log` (and to `out` too when `verbose`).

    When `out` and `err` are the process's file descriptors, those are redirected to the log
    as well, so that nothing another library or a child process writes on them (a warning of
    multiprocessing's resource tracker, a C extension's output) reaches the terminal; the
    terminal is then reached through duplicates of the original descriptors.
    """
    with contextlib.ExitStack() as stack:
        terminal = stack.enter_context(_descriptors_to(log, out, err))
        sink = Tee(log, terminal.out) if verbose else Tee(log)
        handler = logging.StreamHandler(sink)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(lambda record: not hasattr(record, RELAYED_BY_DAGSTER))
        root = logging.getLogger()
        previous_level = root.level
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        quiet = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                yield terminal
        finally:
            root.removeHandler(handler)
            root.setLevel(previous_level)
            for name, level in quiet.items():
                logging.getLogger(name).setLevel(level)
            sink.flush()


@contextlib.contextmanager
def _descriptors_to(log: LogFile, out: TextIO, err: TextIO) -> Iterator[Terminal]:
    try:
        descriptors = (out.fileno(), err.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):  # not the process's own (a test's)
        yield Terminal(out, err)
        return
    out.flush()
    err.flush()
    saved = [os.dup(descriptor) for descriptor in descriptors]
    target = os.open(log.path, os.O_WRONLY | os.O_APPEND)
    try:
        for descriptor in descriptors:
            os.dup2(target, descriptor)
    finally:
        os.close(target)
    streams = [
        os.fdopen(copy, "w", buffering=1, encoding=stream.encoding or "utf-8", closefd=False)
        for copy, stream in zip(saved, (out, err), strict=True)
    ]
    try:
        yield Terminal(*streams)
    finally:
        for stream, copy, descriptor in zip(streams, saved, descriptors, strict=True):
            stream.flush()
            os.dup2(copy, descriptor)
            os.close(copy)

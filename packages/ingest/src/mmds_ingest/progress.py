"""Download progress: a rich bar (rows and bytes) on a terminal, log lines otherwise."""

import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

log = logging.getLogger(__name__)

LOG_EVERY_SECONDS = 5.0


@contextmanager
def download_progress(expected_rows: int) -> Iterator[Callable[[int, int], None]]:
    """Yield a `(bytes, rows)` callback that shows how far the export download is."""
    if sys.stderr.isatty():
        with Progress(
            TextColumn("export"),
            BarColumn(),
            TextColumn("{task.completed:,.0f}/{task.total:,.0f} rows"),
            TextColumn("{task.fields[megabytes]:,.1f} MB"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        ) as bar:
            task = bar.add_task("export", total=max(expected_rows, 1), megabytes=0.0)
            yield lambda size, rows: bar.update(task, completed=rows, megabytes=size / 1e6)
        return

    last_report = time.monotonic()

    def log_lines(size: int, rows: int) -> None:
        nonlocal last_report
        now = time.monotonic()
        if now - last_report >= LOG_EVERY_SECONDS:
            last_report = now
            log.info("export: %d of %d rows, %.1f MB", rows, expected_rows, size / 1e6)

    yield log_lines

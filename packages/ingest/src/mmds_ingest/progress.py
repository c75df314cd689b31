"""Where a load is: its phase and, while downloading, the rows and bytes received.

`run_load(..., on_progress=callback)` calls `callback(LoadProgress(...))` at every change of
phase and, during the download, at most `UPDATES_PER_SECOND` times a second. Without a
callback, the download's progress goes to the log every `LOG_EVERY_SECONDS`.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

PHASES = ("metadata", "download", "merge", "reconcile", "commit", "done")
"""A load's phases in order; a load whose download is skipped goes from metadata to reconcile."""

UPDATES_PER_SECOND = 5
LOG_EVERY_SECONDS = 5.0


@dataclass(frozen=True)
class LoadProgress:
    """One report of where a load is."""

    dataset: str  # the dataset id, e.g. "3-1-1-service-requests"
    phase: str  # one of PHASES
    rows: int = 0  # rows received so far in this phase (download)
    expected_rows: int | None = None
    bytes: int = 0  # bytes received so far (download)


ProgressCallback = Callable[[LoadProgress], None]


class Reporter:
    """Tells a callback (or the log) where one load is; safe to call from any thread."""

    def __init__(self, dataset: str, callback: ProgressCallback | None) -> None:
        self.dataset = dataset
        self.phase = PHASES[0]
        self._callback = callback
        self._expected: int | None = None
        self._lock = threading.Lock()
        self._last = 0.0
        self._interval = 1 / UPDATES_PER_SECOND if callback else LOG_EVERY_SECONDS

    def enter(self, phase: str, expected_rows: int | None = None) -> None:
        """The load enters `phase` (always reported)."""
        with self._lock:
            self.phase, self._expected, self._last = phase, expected_rows, time.monotonic()
        log.debug("%s: %s", self.dataset, phase)
        self._tell(LoadProgress(self.dataset, phase, expected_rows=expected_rows))

    def received(self, size: int, rows: int) -> None:
        """`size` bytes and `rows` rows of the export are in (reported a few times a second)."""
        now = time.monotonic()
        with self._lock:
            if now - self._last < self._interval:
                return
            self._last = now
        if self._callback is None:
            log.info(
                "%s: download %d of %s rows, %.1f MB",
                self.dataset,
                rows,
                "?" if self._expected is None else self._expected,
                size / 1e6,
            )
            return
        self._tell(LoadProgress(self.dataset, self.phase, rows, self._expected, size))

    def _tell(self, progress: LoadProgress) -> None:
        if self._callback is not None:
            self._callback(progress)

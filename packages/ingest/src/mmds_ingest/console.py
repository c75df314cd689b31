"""What `mmds-ingest load` shows while it loads: on a terminal, a live line per dataset (its
phase, rows and MB of those expected); otherwise plain log lines, one per phase and one every
few seconds of download."""

import logging
import time
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from mmds_ingest.progress import LOG_EVERY_SECONDS, LoadProgress

log = logging.getLogger("mmds_ingest")


class LoadDisplay:
    """A `ProgressCallback` drawing on `console` (rich when it is a terminal, log lines when
    not); use it as a context manager around the loads."""

    def __init__(self, console: Console) -> None:
        self._live = console.is_terminal
        self._bar = Progress(
            TextColumn("{task.description:<24}"),
            TextColumn("{task.fields[phase]:<9}"),
            BarColumn(),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not self._live,
        )
        self._tasks: dict[str, TaskID] = {}
        self._phases: dict[str, str] = {}
        self._logged = 0.0

    def __enter__(self) -> "LoadDisplay":
        self._bar.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._bar.stop()

    def __call__(self, progress: LoadProgress) -> None:
        counts = _counts(progress)
        if self._live:
            task = self._tasks.get(progress.dataset)
            if task is None:
                task = self._bar.add_task(progress.dataset, total=None, phase="", counts="")
                self._tasks[progress.dataset] = task
            self._bar.update(
                task,
                phase=progress.phase,
                counts=counts,
                completed=progress.rows,
                total=progress.expected_rows or None,
            )
            return
        if self._phases.get(progress.dataset) != progress.phase:
            self._phases[progress.dataset] = progress.phase
            self._logged = time.monotonic()
            log.info("%s: %s%s", progress.dataset, progress.phase, f" ({counts})" if counts else "")
        elif time.monotonic() - self._logged >= LOG_EVERY_SECONDS:
            self._logged = time.monotonic()
            log.info("%s: %s %s", progress.dataset, progress.phase, counts)


def _counts(progress: LoadProgress) -> str:
    if progress.phase != "download":
        return ""
    expected = "" if progress.expected_rows is None else f" of {progress.expected_rows:,}"
    return f"{progress.rows:,}{expected} rows, {progress.bytes / 1e6:,.1f} MB"

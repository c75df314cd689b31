"""How far each stage of a run is, published on a logger that `mmds run`'s console listens to.

The stages report from inside their Dagster steps; in `mmds ui` and the schedules nobody
listens, and the records go nowhere (the logger does not propagate).
"""

import logging
import threading
import time
from dataclasses import dataclass

from mmds_ingest.progress import LoadProgress

PROGRESS_LOGGER = "mmds_orchestrator.progress"
INGEST = "ingest"
DBT = "dbt"
PUBLISH = "publish"
STAGES = (INGEST, DBT, PUBLISH)
# A stage reports at most this often (the ingest callback may be called per batch).
MIN_INTERVAL_SECONDS = 0.2

_logger = logging.getLogger(PROGRESS_LOGGER)
_logger.propagate = False


@dataclass(frozen=True)
class StageProgress:
    """One step of a stage: `started`, `progress` (`done` of `total` units), `finished`,
    `skipped` or `failed`, with a short `detail` ("12.5 MB", the reason it was skipped, ...)."""

    stage: str
    event: str
    done: int = 0
    total: int | None = None
    unit: str = ""
    detail: str = ""


def report(progress: StageProgress) -> None:
    """Publish one step of a stage to whoever listens (the console of `mmds run`)."""
    _logger.info("%s %s", progress.stage, progress.event, extra={"stage_progress": progress})


def of(record: logging.LogRecord) -> StageProgress | None:
    """The progress a record of the progress logger carries, if any."""
    progress = getattr(record, "stage_progress", None)
    return progress if isinstance(progress, StageProgress) else None


def listen(handler: logging.Handler) -> None:
    """Send every report to `handler` (until `stop_listening`)."""
    _logger.addHandler(handler)
    _logger.setLevel(logging.INFO)


def stop_listening(handler: logging.Handler) -> None:
    """Stop sending reports to `handler`."""
    _logger.removeHandler(handler)


class LoadProgressReporter:
    """A callback for mmds-ingest's `run_load(on_progress=...)`: rows and MB of those expected.

    Safe to call from the loading thread or the download thread; reports at most every
    `MIN_INTERVAL_SECONDS`, and always when the phase changes.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0.0
        self._phase = ""

    def __call__(self, load: LoadProgress) -> None:
        now = time.monotonic()
        with self._lock:
            if load.phase == self._phase and now - self._last < MIN_INTERVAL_SECONDS:
                return
            self._last, self._phase = now, load.phase
        megabytes = f"{load.bytes / 1e6:,.1f} MB, " if load.bytes else ""
        report(
            StageProgress(
                INGEST,
                "progress",
                done=load.rows,
                total=load.expected_rows,
                unit="rows",
                detail=f"{load.dataset}: {megabytes}{load.phase}",
            )
        )

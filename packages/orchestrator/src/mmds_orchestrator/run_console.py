"""What `mmds run` shows while it runs: one line per stage (ingest, dbt, publish).

On a terminal the lines are live (rich): a spinner, a bar and "n of N" for the running stage.
Elsewhere (a file, a pipe, CI) they are plain lines without ANSI codes: one when a stage starts
or ends, and its progress at most every `PLAIN_PROGRESS_SECONDS`. Every line also goes to the
run's log file.
"""

import logging
import threading
import time
from dataclasses import dataclass
from typing import TextIO

from rich.console import Console, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from mmds_orchestrator import progress
from mmds_orchestrator.progress import STAGES, StageProgress
from mmds_orchestrator.run_log import LogFile

PLAIN_PROGRESS_SECONDS = 5.0
STARTING = "starting: loading Dagster and the dbt project"
MARKS = {"waiting": " ", "done": "✓", "skipped": "-", "failed": "✗", "stopped": "■"}
STYLES = {"done": "green", "skipped": "dim", "failed": "red", "stopped": "yellow"}


@dataclass
class StageState:
    """Where one stage is."""

    name: str
    state: str = "waiting"  # waiting, running, done, skipped, failed, stopped
    done: int = 0
    total: int | None = None
    unit: str = ""
    detail: str = ""
    started: float | None = None
    ended: float | None = None

    def counts(self) -> str:
        """'1,200 of 3,000 rows', or '' when nothing is counted yet."""
        if self.total:
            return f"{self.done:,} of {self.total:,} {self.unit}".rstrip()
        return f"{self.done:,} {self.unit}".rstrip() if self.done else ""

    def text(self) -> str:
        """The stage's state in a few words."""
        if self.state == "running":
            return ", ".join(part for part in (self.counts(), self.detail) if part) or "running"
        if self.state == "done":
            seconds = (self.ended or 0) - (self.started or 0)
            return f"done in {seconds:.1f} s" + (f": {self.detail}" if self.detail else "")
        if self.state in {"skipped", "failed"}:
            return f"{self.state}: {self.detail}" if self.detail else self.state
        return self.state


class RunConsole(logging.Handler):
    """Listens to the stages' progress reports and shows them; a context manager."""

    def __init__(self, terminal: TextIO, log: LogFile, live: bool) -> None:
        super().__init__()
        self._terminal = terminal
        self._log = log
        self._stages = {name: StageState(name) for name in STAGES}
        self._lock = threading.RLock()
        self._last_plain: dict[str, float] = {}
        self._live_running = False
        self._live = (
            Live(
                get_renderable=self._render,
                console=Console(file=terminal),
                refresh_per_second=8,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            if live
            else None
        )

    def __enter__(self) -> "RunConsole":
        progress.listen(self)
        if self._live is not None:
            self._live.start()
            self._live_running = True
        return self

    def __exit__(self, *_exc: object) -> None:
        self.end()

    def end(self) -> None:
        """Stop listening and showing (the live lines stay as they last were); idempotent.

        Not `close()`: Dagster reconfigures logging at every run, which closes every handler.
        """
        progress.stop_listening(self)
        with self._lock:
            live, self._live_running = self._live, False
        if live is not None and live.is_started:
            live.stop()

    def emit(self, record: logging.LogRecord) -> None:
        report = progress.of(record)
        if report is not None:
            self.update(report)

    def update(self, report: StageProgress) -> None:
        """Apply one report to its stage and show it."""
        with self._lock:
            stage = self._stages[report.stage]
            now = time.monotonic()
            if report.event == "started":
                stage.state, stage.started, stage.done = "running", now, 0
                self._last_plain[stage.name] = now
            elif report.event in {"finished", "skipped", "failed"}:
                stage.state = "done" if report.event == "finished" else report.event
                stage.ended = now
            stage.total = report.total if report.total is not None else stage.total
            stage.unit = report.unit or stage.unit
            stage.done = report.done or stage.done
            stage.detail = report.detail
            if report.event == "started":
                counted = f": {stage.total:,} {stage.unit}".rstrip() if stage.total else ""
                self._plain(f"{stage.name:<8} started{counted}", stage_line=True)
            elif report.event != "progress" or self._plain_progress_due(stage.name, now):
                self._plain(f"{stage.name:<8} {stage.text()}", stage_line=True)

    def note(self, text: str) -> None:
        """A line of its own (the data dir, the sample portal, ...)."""
        self._plain(text, stage_line=False)

    def stopped(self) -> str:
        """Mark the running stage as stopped; say where the run stopped."""
        with self._lock:
            running = [s for s in self._stages.values() if s.state in {"running", "failed"}]
            for stage in running:
                stage.state = "stopped"
            if running:
                return f"during {running[0].name}"
            if all(s.state == "waiting" for s in self._stages.values()):
                return "while starting"
            return "after its last stage"

    def _plain_progress_due(self, name: str, now: float) -> bool:
        if now - self._last_plain.get(name, 0.0) < PLAIN_PROGRESS_SECONDS:
            return False
        self._last_plain[name] = now
        return True

    def _plain(self, text: str, stage_line: bool) -> None:
        self._log.line(text)
        if self._live is None:
            self._terminal.write(text + "\n")
            self._terminal.flush()
        elif not stage_line and self._live_running:  # the live lines show the stages themselves
            self._live.console.print(Text(text))

    def _render(self) -> RenderableType:
        table = Table.grid(padding=(0, 1))
        with self._lock:
            starting = all(stage.state == "waiting" for stage in self._stages.values())
            if starting:  # Dagster and the dbt project load first: seconds
                table.add_row(Spinner("dots", style="cyan"), Text(STARTING))
            for stage in self._stages.values():
                if stage.state == "running":
                    mark: RenderableType = Spinner("dots", style="cyan")
                    bar: RenderableType = (
                        ProgressBar(total=stage.total, completed=stage.done, width=24)
                        if stage.total
                        else Text("")
                    )
                else:
                    mark = Text(MARKS[stage.state], style=STYLES.get(stage.state, ""))
                    bar = Text("")
                table.add_row(mark, Text(f"{stage.name:<8}", style="bold"), bar, Text(stage.text()))
        return table

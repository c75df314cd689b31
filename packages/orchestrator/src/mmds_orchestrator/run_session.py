"""One `mmds run`, from its signals to its exit code: settings, log file, console, the sample
portal, the pipeline, the summary.

Exit codes: 0 when everything succeeded, 1 when a step or an error-severity check failed,
2 when the run could not start (a setting, the data dir, the dbt project), 130 after SIGINT and
143 after SIGTERM. Every ending but a bad setting prints the path of the run's log file last.
"""

import contextlib
import os
import signal
import threading
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

from mmds_orchestrator.interrupts import StopSignals, kill_tracked_children
from mmds_orchestrator.run_console import RunConsole
from mmds_orchestrator.run_log import LogFile, captured, create_log_file
from mmds_orchestrator.settings import PipelineSettings, SettingsError
from mmds_orchestrator.wording import one_line

if TYPE_CHECKING:
    from mmds_ingest.fake_portal import FakePortal

EXIT_FAILED = 1
EXIT_NOT_STARTED = 2
LABEL_WIDTH = 10
# How long the end after a signal waits for the sample portal to stop (it deletes its files).
PORTAL_STOP_SECONDS = 0.3


class RunSession:
    """The state one `mmds run` needs to end well, whichever thread ends it."""

    def __init__(self, out: TextIO, err: TextIO, verbose: bool) -> None:
        self.out = out  # the terminal (or what stands for it), also while the run is captured
        self.err = err
        self.verbose = verbose
        self.stop: StopSignals | None = None
        self.settings: PipelineSettings | None = None
        self.log: LogFile | None = None
        self.console: RunConsole | None = None
        self.portal: FakePortal | None = None
        self._served_before: tuple[int, int] | None = None
        self._ending = threading.Lock()

    def run(self, *, sample: bool, sample_rows: int, sample_seed: int, full_refresh: bool) -> int:
        """Run the pipeline under SIGINT/SIGTERM handling and return the exit code; after a
        signal, say where the run stopped and end the process."""
        with StopSignals(on_deadline=self.end_now) as stop:
            self.stop = stop
            try:
                code = self._run(sample, sample_rows, sample_seed, full_refresh)
            except KeyboardInterrupt:
                code = stop.exit_code
            if stop.signal is not None:
                self.end_now(stop.signal)
        return code

    def end_now(self, signum: int) -> None:
        """After a signal (from the main thread once the run has unwound, or from the watchdog
        when its deadline passed): stop what is left, say where the run stopped, and end.

        The process ends with `os._exit`: what is still running (a download blocked in a socket
        read, the interpreter's own shutdown, a second or more of collecting Dagster's and dbt's
        modules) would outlast the promise to stop within seconds, and what must be stopped or
        written is by now (an uncommitted DuckDB transaction leaves nothing behind).
        """
        if not self._ending.acquire(blocking=False):
            return  # the other thread is ending it
        kill_tracked_children()  # dbt, if it has not stopped by itself yet
        self._stop_portal()
        where = self.console.stopped() if self.console is not None else "while starting"
        if self.console is not None:
            self.console.end()
        name = signal.Signals(signum).name
        serving = self.settings.serving_path.name if self.settings else "serving.duckdb"
        if self.settings is not None and self._served() != self._served_before:
            line = f"stopped by {name} {where}: a new {serving} was published"
        else:
            line = f"stopped by {name} {where}: nothing was published, {serving} is as it was"
        self._say(self.err, f"{line}; run `mmds run` again to resume")
        if self.log is not None:
            self._say(self.err, f"{'log':<{LABEL_WIDTH}} {self.log.path}")
            self.log.flush()
        os._exit(128 + signum)

    def _run(self, sample: bool, sample_rows: int, sample_seed: int, full_refresh: bool) -> int:
        try:
            self.settings = settings = PipelineSettings.from_environment()
        except SettingsError as error:
            self._say(self.err, str(error))
            return EXIT_NOT_STARTED
        self._served_before = self._served()
        try:
            self.log = LogFile(create_log_file(settings.log_dir, datetime.now(UTC)))
        except OSError as error:
            self._say(
                self.err,
                f"cannot write to {settings.log_dir} ({error.strerror}): set MMDS_DATA_DIR to "
                "a folder you can write to",
            )
            return EXIT_NOT_STARTED
        live = self.out.isatty() and not self.verbose
        summary, failure = None, None
        original = (self.out, self.err)
        try:
            with captured(self.log, self.out, self.err, self.verbose) as terminal:
                self.out, self.err = terminal.out, terminal.err
                with RunConsole(terminal.out, self.log, live=live) as self.console:
                    self.console.note(f"mmds run: data dir {settings.data_dir}")
                    try:
                        summary = self._pipeline(
                            settings, sample, sample_rows, sample_seed, full_refresh
                        )
                    except Exception as error:  # the command's boundary: one line, the rest logged
                        traceback.print_exc()  # into the log file
                        failure = one_line(
                            f"mmds run could not run: {type(error).__name__}: {error}"
                        )
        finally:
            self.out, self.err = original
        if self.stop is not None and self.stop.signal is not None:
            return self.stop.exit_code  # `run` says where it stopped
        if summary is not None:
            lines = summary.lines()
            code = 0 if summary.ok else EXIT_FAILED
        else:
            lines = [f"{'failed':<{LABEL_WIDTH}} {failure}"] if failure else []
            code = EXIT_NOT_STARTED
        for line in [*lines, f"{'log':<{LABEL_WIDTH}} {self.log.path}"]:
            self._say(self.out, line)
        return code

    def _pipeline(
        self,
        settings: PipelineSettings,
        sample: bool,
        sample_rows: int,
        sample_seed: int,
        full_refresh: bool,
    ):  # -> RunSummary, imported with Dagster
        with self._sample_portal(sample, sample_rows, sample_seed) as portal_url:
            from mmds_orchestrator.pipeline_run import run_pipeline  # Dagster and dbt: seconds

            return run_pipeline(
                settings,
                full_refresh=full_refresh,
                portal_url=portal_url,
                is_sample=sample,
                should_stop=lambda: self.stop is not None and self.stop.signal is not None,
            )

    @contextlib.contextmanager
    def _sample_portal(self, sample: bool, rows: int, seed: int) -> Iterator[str | None]:
        """The project's fake portal on a loopback port when `sample`: two years of requests."""
        if not sample:
            yield None
            return
        from mmds_ingest.fake_portal import FakePortal
        from mmds_ingest.fake_portal.generator import DEFAULT_END

        two_years_before = DEFAULT_END.date().replace(year=DEFAULT_END.year - 2)
        with FakePortal(rows=rows, seed=seed, start=two_years_before) as portal:
            self.portal = portal
            if self.console is not None:
                self.console.note(f"sample portal: {rows:,} generated requests at {portal.url}")
            try:
                yield portal.url
            finally:
                self.portal = None

    def _served(self) -> tuple[int, int] | None:
        """The serving file's identity (inode, modification time): a publication replaces it."""
        try:
            stat = self.settings.serving_path.stat() if self.settings else None
        except FileNotFoundError:
            return None
        return (stat.st_ino, stat.st_mtime_ns) if stat else None

    def _stop_portal(self) -> None:
        portal = self.portal
        if portal is not None:  # it deletes its files; never wait long for it
            stopping = threading.Thread(target=portal.stop, daemon=True)
            stopping.start()
            stopping.join(PORTAL_STOP_SECONDS)

    def _say(self, stream: TextIO, line: str) -> None:
        with contextlib.suppress(OSError, ValueError):  # a closed pipe must not hide the exit
            stream.write(line + "\n")
            stream.flush()
        if self.log is not None:
            self.log.line(line)

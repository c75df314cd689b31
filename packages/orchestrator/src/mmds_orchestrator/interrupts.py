"""Stop `mmds run` within a bound when it receives SIGINT (Ctrl-C) or SIGTERM, wherever it is.

Outside a Dagster run, either signal raises `KeyboardInterrupt` in the main thread. While
Dagster executes a run in-process it installs its own handlers (SIGTERM then behaves as SIGINT:
the running step is interrupted and the run ends as failed); the signal's number still reaches
a watchdog thread through Python's wakeup fd. The watchdog remembers which signal came first
and, if the process has not ended `GRACE_SECONDS` later (a load blocked in a socket read, a
process that ignores its interrupt), stops the child processes it was told about and ends the
process itself. A second signal ends it at once.
"""

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from types import FrameType

GRACE_SECONDS = 1.5
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

_children: set[subprocess.Popen] = set()
_children_lock = threading.Lock()


@contextlib.contextmanager
def tracked(process: subprocess.Popen) -> Iterator[subprocess.Popen]:
    """Register a child process (dbt) that the watchdog must stop before ending `mmds run`."""
    with _children_lock:
        _children.add(process)
    try:
        yield process
    finally:
        with _children_lock:
            _children.discard(process)


def kill_tracked_children() -> None:
    """SIGKILL every registered child still running, and reap it (it then holds no lock)."""
    with _children_lock:
        children = list(_children)
    for child in children:
        if child.poll() is None:
            child.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=1)


class StopSignals:
    """Note SIGINT and SIGTERM, turn them into `KeyboardInterrupt`, and guard the deadline.

    `on_deadline(signum)` runs on the watchdog thread when the process outlives the grace period
    after a signal (or at a second signal): it must end the process (`os._exit`). An ignored
    SIGINT (a background job of a non-interactive shell) stays ignored.
    """

    def __init__(self, on_deadline: Callable[[int], None], grace_seconds: float = GRACE_SECONDS):
        self._on_deadline = on_deadline
        self._grace = grace_seconds
        # reentrant: the signal handler runs in the main thread, which may hold it already
        self._lock = threading.RLock()
        self._signal: int | None = None
        self._finished = threading.Event()
        self._previous: dict[int, object] = {}
        self._previous_wakeup_fd = -1
        self._read_fd = self._write_fd = -1

    @property
    def signal(self) -> int | None:
        """The first stop signal received, if any."""
        with self._lock:
            return self._signal

    @property
    def exit_code(self) -> int:
        """The shell's code for the first signal: 130 for SIGINT, 143 for SIGTERM."""
        return 128 + (self.signal or signal.SIGINT)

    def finish(self) -> None:
        """The process is about to end on its own: the watchdog stands down."""
        self._finished.set()

    def __enter__(self) -> "StopSignals":
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._write_fd, False)
        for stop in STOP_SIGNALS:
            self._previous[stop] = signal.getsignal(stop)
            if self._previous[stop] is not signal.SIG_IGN:
                signal.signal(stop, self._interrupt)
        self._previous_wakeup_fd = signal.set_wakeup_fd(self._write_fd, warn_on_full_buffer=False)
        threading.Thread(target=self._watch, name="mmds-stop-watchdog", daemon=True).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.finish()
        signal.set_wakeup_fd(self._previous_wakeup_fd)
        for stop, handler in self._previous.items():
            signal.signal(stop, handler)  # type: ignore[arg-type]
        os.close(self._write_fd)  # the watchdog reads end-of-file and returns

    def _interrupt(self, signum: int, _frame: FrameType | None) -> None:
        self._note(signum)  # now: the main thread may look before the watchdog has read the byte
        raise KeyboardInterrupt(signal.Signals(signum).name)

    def _note(self, signum: int) -> None:
        """Remember the first stop signal and start guarding the deadline (once)."""
        with self._lock:
            if self._signal is not None:
                return
            self._signal = signum
        threading.Thread(target=self._guard, name="mmds-stop-deadline", daemon=True).start()

    def _watch(self) -> None:
        received = 0
        with os.fdopen(self._read_fd, "rb", buffering=0) as signals:
            while byte := signals.read(1):
                if byte[0] not in STOP_SIGNALS:
                    continue
                received += 1  # one byte per signal, whichever handler Python ran for it
                self._note(byte[0])
                if received > 1 and not self._finished.is_set():
                    self._on_deadline(byte[0])  # a second signal: stop now

    def _guard(self) -> None:
        if not self._finished.wait(self._grace):
            self._on_deadline(self.signal or signal.SIGINT)

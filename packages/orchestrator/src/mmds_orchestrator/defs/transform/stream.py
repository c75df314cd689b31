"""Stream a dbt invocation's events into Dagster without ever leaving dbt running alone."""

import contextlib
import signal
import subprocess
from collections.abc import Iterator
from typing import Any

from dagster_dbt import DbtCliInvocation

from mmds_orchestrator.interrupts import tracked

# How long dbt gets to stop on SIGINT, then on SIGTERM: `mmds run` promises to stop within 2 s.
STOP_GRACE_SECONDS = 0.5


def stream_events(invocation: DbtCliInvocation) -> Iterator[Any]:
    """The invocation's Dagster events; if they cannot all be streamed, dbt is stopped first.

    dagster-dbt stops dbt only when the run is interrupted. When converting or storing an event
    fails, or the run stops consuming them, dbt would go on alone and keep the warehouse locked
    for as long as the process lives (`mmds ui` runs for days). While it runs, dbt is known to
    `mmds run`'s watchdog, which kills it if `mmds run` must end before dbt has stopped.
    """
    yield from _stopped_on_failure(invocation, invocation.stream())


def wait(invocation: DbtCliInvocation) -> DbtCliInvocation:
    """Wait for a dbt command that yields no Dagster events (`dbt parse`), as `stream_events`
    would: dbt is stopped if the wait is interrupted."""
    for _ in _stopped_on_failure(invocation, invocation.stream_raw_events()):
        pass
    return invocation


def _stopped_on_failure(invocation: DbtCliInvocation, events: Iterator[Any]) -> Iterator[Any]:
    with tracked(invocation.process):
        try:
            yield from events
        except BaseException:
            stop_dbt(invocation.process, invocation.termination_timeout_seconds)
            raise


def stop_dbt(process: subprocess.Popen, grace_seconds: float) -> None:
    """Interrupt dbt (it cancels its queries and exits); terminate it, then kill it, if it stays.

    The warehouse is free once this returns: dbt has exited, SIGKILL being the last resort.
    """
    for stop in (signal.SIGINT, signal.SIGTERM):
        if process.poll() is not None:
            return
        process.send_signal(stop)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace_seconds)
    if process.poll() is None:
        process.kill()
        process.wait()

"""Stream a dbt invocation's events into Dagster without ever leaving dbt running alone."""

import contextlib
import signal
import subprocess
from collections.abc import Iterator
from typing import Any

from dagster_dbt import DbtCliInvocation


def stream_events(invocation: DbtCliInvocation) -> Iterator[Any]:
    """The invocation's Dagster events; if they cannot all be streamed, dbt is stopped first.

    dagster-dbt stops dbt only when the run is interrupted. When converting or storing an event
    fails, or the run stops consuming them, dbt would go on alone and keep the warehouse locked
    for as long as the process lives (`mmds ui` runs for days).
    """
    try:
        yield from invocation.stream()
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

"""When to retry a portal request, and how long to wait: backoff with jitter, or what the
portal asks for through `Retry-After` / `X-RateLimit-Reset`, all of a load's requests within
one budget of time."""

import errno
import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

log = logging.getLogger(__name__)

TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

REFUSED_BUDGET_SECONDS = 5.0
"""How long refused connections are retried: a portal restarting comes back within seconds,
while a wrong port never does, and the user should hear so at once."""

T = TypeVar("T")

_NO_ROUTE = frozenset({errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN})


class TransientError(Exception):
    """A failure worth retrying: 429, 5xx, a dropped connection or a timeout."""

    def __init__(self, message: str, retry_after: float | None = None, status: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


class ConnectionRefused(TransientError):
    """Nothing accepts connections at the portal's address: retried for a few seconds only."""


def unreachable_reason(error: httpx.TransportError) -> str | None:
    """`"dns"` when the host name does not resolve, `"network"` when there is no route to it,
    `"refused"` when nothing listens there; None for other transport errors."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, socket.gaierror):
            return "dns"
        if isinstance(cause, ConnectionRefusedError):
            return "refused"
        if isinstance(cause, OSError) and cause.errno in _NO_ROUTE:
            return "network"
        cause = cause.__cause__ or cause.__context__
    return None


def seconds_until(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` or `X-RateLimit-Reset` value.

    Accepts delta seconds, epoch seconds, an ISO datetime or an HTTP date; None if unreadable.
    """
    if not value:
        return None
    now = time.time() if now is None else now
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None:
        # A value beyond ~1 year of seconds is an epoch instant, not a delay.
        return max(0.0, number - now) if number > 31_536_000 else max(0.0, number)
    for parse in (_parse_iso, parsedate_to_datetime):
        try:
            instant = parse(text)
        except (TypeError, ValueError, IndexError):
            continue
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=UTC)
        return max(0.0, instant.timestamp() - now)
    return None


def _parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def requested_wait(status: int, headers: Mapping[str, str]) -> float | None:
    """The wait a response asks for: `Retry-After`, else on 429 the quota's reset instant."""
    wait = seconds_until(headers.get("retry-after"))
    if wait is None and status == 429:
        wait = seconds_until(headers.get("x-ratelimit-reset"))
    return wait


def transient_from_response(response: httpx.Response, what: str) -> TransientError:
    """Wrap a 429/5xx response as a retryable error carrying the wait it asks for."""
    return TransientError(
        f"{what}: HTTP {response.status_code}",
        retry_after=requested_wait(response.status_code, response.headers),
        status=response.status_code,
    )


class _WaitAsAsked:
    """Wait what the portal asked for, else exponential backoff with jitter."""

    def __init__(self, initial: float, maximum: float) -> None:
        self._backoff = wait_exponential_jitter(
            multiplier=initial, max=maximum, jitter=max(initial, 0.01)
        )

    def __call__(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, TransientError) and error.retry_after is not None:
            return error.retry_after
        return self._backoff(state)


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.warning(
        "attempt %d failed (%s); retrying in %.1fs",
        state.attempt_number,
        error,
        state.upcoming_sleep,
    )


class Retrier:
    """Retries the requests of one load: 429, 5xx, timeouts, dropped or truncated bodies and
    refused connections (`TransientError`, httpx transport errors).

    A request stops after `attempts` tries. All requests share one budget: the time spent in
    failed attempts and in waiting between them, together, stays within `budget_seconds` (a
    wait that would overrun it is not started). Refused connections are retried for
    `REFUSED_BUDGET_SECONDS` only. When a request gives up, `tenacity.RetryError` carries its
    last attempt. Safe to share between the threads of one load.
    """

    def __init__(
        self, attempts: int, budget_seconds: float, initial_wait: float, max_wait: float
    ) -> None:
        self.attempts = attempts
        self.budget_seconds = budget_seconds
        self._wait = _WaitAsAsked(initial_wait, max_wait)
        self._lock = threading.Lock()
        self.spent = 0.0

    def __call__(self, call: Callable[[], T]) -> T:
        """Run `call`, retrying what is transient within the attempts and the budget."""
        controller = Retrying(
            retry=retry_if_exception_type((TransientError, httpx.TransportError)),
            # tenacity types `|` for `stop_base` only; at run time it takes any stop callable.
            stop=stop_after_attempt(self.attempts) | self._spent,  # type: ignore[operator]
            wait=self._wait,
            sleep=self._sleep,
            before_sleep=_log_retry,
            reraise=False,
        )
        return controller(self._charged, call)

    def _charged(self, call: Callable[[], T]) -> T:
        started = time.monotonic()
        try:
            return call()
        except (TransientError, httpx.TransportError):
            self._charge(time.monotonic() - started)
            raise

    def _charge(self, seconds: float) -> None:
        with self._lock:
            self.spent += seconds

    def _sleep(self, seconds: float) -> None:
        self._charge(seconds)
        time.sleep(seconds)

    def _spent(self, state: RetryCallState) -> bool:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, ConnectionRefused):
            return (state.seconds_since_start or 0.0) + state.upcoming_sleep > (
                REFUSED_BUDGET_SECONDS
            )
        with self._lock:
            return self.spent + state.upcoming_sleep > self.budget_seconds

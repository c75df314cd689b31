"""When to retry a portal request, and how long to wait: backoff with jitter, or what the
portal asks for through `Retry-After` / `X-RateLimit-Reset`."""

import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential_jitter,
)

log = logging.getLogger(__name__)

TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})


class TransientError(Exception):
    """A failure worth retrying: 429, 5xx, a dropped connection or a timeout."""

    def __init__(self, message: str, retry_after: float | None = None, status: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


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


def retrying(attempts: int, budget_seconds: float, initial: float, maximum: float) -> Retrying:
    """A tenacity controller retrying `TransientError` and httpx transport errors.

    Stops after `attempts` tries, or before a wait would overrun `budget_seconds` in total;
    the last error is then raised as `tenacity.RetryError`.
    """
    return Retrying(
        retry=retry_if_exception_type((TransientError, httpx.TransportError)),
        stop=stop_after_attempt(attempts) | stop_before_delay(budget_seconds),
        wait=_WaitAsAsked(initial, maximum),
        before_sleep=_log_retry,
        reraise=False,
    )

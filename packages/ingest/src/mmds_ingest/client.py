"""HTTP client of the Opendatasoft Explore v2.1 API: metadata, counts and streamed exports."""

import html
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any, Self, TypeVar

import httpx
from tenacity import RetryError

from mmds_ingest.datasets import Dataset
from mmds_ingest.errors import (
    NotAPortalError,
    PortalRequestError,
    PortalUnavailableError,
    PortalUnreachableError,
    one_line,
)
from mmds_ingest.export_sink import ExportSink, FileSink
from mmds_ingest.retry import (
    TRANSIENT_STATUSES,
    ConnectionRefused,
    Retrier,
    TransientError,
    transient_from_response,
    unreachable_reason,
)
from mmds_ingest.settings import IngestSettings

log = logging.getLogger(__name__)

USER_AGENT = f"mmds-ingest/{version('mmds-ingest')}"

T = TypeVar("T")

ReceivedCallback = Callable[[int, int], None]
"""Called with (bytes, rows) received so far; (0, 0) when a retry restarts the download."""


@dataclass(frozen=True)
class ExportFile:
    """A downloaded JSON-lines export (`path` None when it went into a sink of parts)."""

    path: Path | None
    bytes: int
    rows: int


@dataclass(frozen=True)
class Metadata:
    """The dataset's metadata (`fields[]`, `metas.default`) and when the portal served it."""

    body: dict[str, Any]
    served_at: datetime | None  # the response's `Date` header; None when absent or unreadable


class PortalClient:
    """Talks to one dataset of the portal over HTTP/1.1, retrying what is transient.

    The API key travels only in the `Authorization` header and is masked in every error. One
    client serves one load: its requests share one retry budget (`Retrier`).
    """

    def __init__(self, settings: IngestSettings, dataset: Dataset) -> None:
        self._retrier = Retrier(
            settings.retry_attempts,
            settings.retry_budget_seconds,
            settings.retry_initial_wait_seconds,
            settings.retry_max_wait_seconds,
        )
        self._secret = settings.portal_api_key.get_secret_value() if settings.portal_api_key else ""
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if self._secret:
            headers["Authorization"] = f"Apikey {self._secret}"
        self._http = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(
                settings.read_timeout_seconds, connect=settings.connect_timeout_seconds
            ),
            http1=True,
            http2=False,
            follow_redirects=True,
        )
        self.dataset_url = settings.portal_url + dataset.path  # no key: safe to log

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def metadata(self) -> Metadata:
        """The dataset's metadata (`fields[]` and `metas.default`) with the response's `Date`."""

        def read() -> Metadata:
            body, response = self._get_json_response("")
            if not isinstance(body, dict):
                raise NotAPortalError(
                    f"{self.dataset_url} answered with JSON that is not dataset metadata "
                    f"({_snippet(str(body))})"
                )
            return Metadata(body, _http_date(response.headers.get("date")))

        return self._retry("reading the dataset metadata", read)

    def count_by_day(self, field: str) -> dict[date, int]:
        """How many records hold each UTC calendar day of the datetime `field`.

        One aggregation on the exports endpoint (`select=count(*) as n` and `group_by=
        date_format(<field>, 'yyyy-MM-dd') as day`, no row cap); records whose `field` is null
        are left out (the portal may or may not give them a group of their own).
        """
        params = {
            "select": "count(*) as n",
            "group_by": f"date_format({field}, 'yyyy-MM-dd') as day",
            "timezone": "UTC",
        }
        body = self._retry(
            "counting records per day", lambda: self._get_json("/exports/json", params)
        )
        if not isinstance(body, list):
            raise NotAPortalError(
                f"the portal's counts per day are not a JSON array ({_snippet(str(body))})"
            )
        counts: dict[date, int] = {}
        for group in body:
            day, number = _day_group(group)
            if day is not None:
                counts[day] = number
        return counts

    def count(self, where: str | None = None) -> int:
        """`total_count` of the records matching `where` (all records when None)."""
        params = {"limit": 0, "timezone": "UTC"}
        if where:
            params["where"] = where
        body = self._retry("counting records", lambda: self._get_json("/records", params))
        total = body.get("total_count") if isinstance(body, dict) else None
        if not isinstance(total, int):
            raise NotAPortalError(
                f"the portal's count has no integer total_count ({_snippet(str(body))})"
            )
        return total

    def download_export(
        self,
        dest: Path,
        *,
        where: str | None,
        order_by: str | None,
        on_progress: ReceivedCallback | None = None,
    ) -> ExportFile:
        """Stream `/exports/jsonl` into `dest` (bounded memory); retried from scratch on failure."""
        export = self.stream_export(
            FileSink(dest), where=where, order_by=order_by, on_progress=on_progress
        )
        return ExportFile(dest, export.bytes, export.rows)

    def stream_export(
        self,
        sink: ExportSink,
        *,
        where: str | None,
        order_by: str | None,
        on_progress: ReceivedCallback | None = None,
    ) -> ExportFile:
        """Stream `/exports/jsonl` into `sink` (bounded memory); retried from scratch on failure
        (the sink begins again). The result's `path` is None: the sink knows where it went."""
        params: dict[str, Any] = {"order_by": order_by, "timezone": "UTC"}
        if where:
            params["where"] = where
        return self._retry(
            "downloading the export",
            lambda: self._stream_to_sink("/exports/jsonl", params, sink, on_progress),
        )

    # -- internals ---------------------------------------------------------------------------

    def _retry(self, what: str, call: Callable[[], T]) -> T:
        started = time.monotonic()
        try:
            return self._retrier(lambda: self._attempt(call))
        except RetryError as exhausted:
            last = exhausted.last_attempt.exception()
            attempts = exhausted.last_attempt.attempt_number
            if isinstance(last, ConnectionRefused):
                raise PortalUnreachableError(
                    f"nothing answers at {_address(self.dataset_url)} (connection refused, "
                    f"{attempts} attempt(s) in {time.monotonic() - started:.1f} s)",
                    "check MMDS_PORTAL_URL, and that the portal is up",
                ) from None
            hint = None
            if isinstance(last, TransientError) and last.status == 429:
                hint = "the portal's rate limit is spent; try again after it resets" + (
                    "" if self._secret else ", or set MMDS_PORTAL_API_KEY for a larger quota"
                )
            raise PortalUnavailableError(
                self._mask(
                    f"{what} from {self.dataset_url} failed after {attempts} attempt(s) "
                    f"({self._retrier.spent:.0f} s of the load's retry budget of "
                    f"{self._retrier.budget_seconds:.0f} s spent): {_describe(last)}"
                ),
                hint,
            ) from None

    def _attempt(self, call: Callable[[], T]) -> T:
        """One try of `call`, telling connection failures that waiting cannot fix from those
        it can."""
        try:
            return call()
        except httpx.ConnectError as error:
            reason = unreachable_reason(error)
            host = httpx.URL(self.dataset_url).host
            if reason == "dns":
                raise PortalUnreachableError(
                    f"cannot resolve {host}",
                    "are you offline? `mmds run --sample` works without a network",
                ) from None
            if reason == "network":
                raise PortalUnreachableError(
                    f"no network route to {host} ({error})",
                    "are you offline? `mmds run --sample` works without a network",
                ) from None
            if reason == "refused":
                refused = f"connection refused by {_address(self.dataset_url)}"
                raise ConnectionRefused(refused) from error
            raise

    def _get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self._get_json_response(path, params)[0]

    def _get_json_response(
        self, path: str, params: dict[str, Any] | None = None
    ) -> tuple[Any, httpx.Response]:
        url = self.dataset_url + path
        response = self._http.get(url, params=params)
        self._raise_for_status(response, url)
        try:
            return response.json(), response
        except ValueError:
            raise NotAPortalError(
                self._mask(f"{url} answered with {_kind(response.text)}, not the Opendatasoft API")
            ) from None

    def _stream_to_sink(
        self,
        path: str,
        params: dict[str, Any],
        sink: ExportSink,
        on_progress: ReceivedCallback | None,
    ) -> ExportFile:
        url = self.dataset_url + path
        if on_progress:
            on_progress(0, 0)
        size = rows = 0
        last_byte = b"\n"
        started = time.perf_counter()
        with self._http.stream("GET", url, params=params) as response:
            if response.status_code >= 400:
                response.read()
                self._raise_for_status(response, url)
            sink.begin()
            try:
                # Pieces as the connection delivers them (up to 64 KiB): no re-chunking copies
                for chunk in response.iter_bytes():
                    if size == 0:
                        _reject_non_jsonl(chunk, url)
                    sink.write(chunk)
                    size += len(chunk)
                    rows += chunk.count(b"\n")
                    last_byte = chunk[-1:]
                    if on_progress:
                        on_progress(size, rows)
                if last_byte != b"\n" and size:
                    if last_byte != b"}":
                        raise TransientError(f"the export from {url} was truncated mid-record")
                    rows += 1  # a last line without its newline
                sink.finish()
            finally:
                sink.close()
        log.info(
            "downloaded %d rows (%.1f MB) in %.1fs", rows, size / 1e6, time.perf_counter() - started
        )
        return ExportFile(None, size, rows)

    def _raise_for_status(self, response: httpx.Response, url: str) -> None:
        if response.status_code < 400:
            return
        if response.status_code in TRANSIENT_STATUSES:
            raise transient_from_response(response, url)
        raise PortalRequestError(
            self._mask(
                f"the portal refused {url} with HTTP {response.status_code} "
                f"({_error_message(response)})"
            ),
            "check MMDS_PORTAL_URL and MMDS_PORTAL_API_KEY"
            if response.status_code in (401, 403)
            else None,
        )

    def _mask(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text


def _day_group(group: object) -> tuple[date | None, int]:
    """(day, count) of one group of `count_by_day`; day None for the group of nulls."""
    if isinstance(group, dict) and isinstance(group.get("n"), int):
        day = group.get("day")
        if day is None:
            return None, group["n"]
        if isinstance(day, str):
            try:
                return date.fromisoformat(day), group["n"]
            except ValueError:
                pass
    raise NotAPortalError(
        f"the portal's counts per day hold an unexpected group ({_snippet(str(group))})"
    )


def _http_date(value: str | None) -> datetime | None:
    """An HTTP `Date` header as an aware instant, or None."""
    if not value:
        return None
    try:
        instant = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return instant.astimezone(UTC) if instant.tzinfo else instant.replace(tzinfo=UTC)


def _reject_non_jsonl(first_chunk: bytes, url: str) -> None:
    head = first_chunk.lstrip()[:1]
    if head and head != b"{":
        text = first_chunk.decode("utf-8", "replace")
        kind = _kind(text) if head == b"<" else f"not JSON lines ({_snippet(text)})"
        raise NotAPortalError(f"the export from {url} is {kind}, not the Opendatasoft API")


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return _kind(response.text)
    if isinstance(body, dict) and body.get("message"):
        code = body.get("error_code")
        return f"{code}: {body['message']}" if code else str(body["message"])
    return _snippet(response.text)


def _describe(error: BaseException | None) -> str:
    if isinstance(error, httpx.TimeoutException):
        return f"timed out ({type(error).__name__})"
    if isinstance(error, httpx.TransportError):
        return f"connection failed ({type(error).__name__}: {error})"
    return str(error)


def _snippet(text: str, limit: int = 120) -> str:
    flat = one_line(text)
    return flat[:limit] + ("..." if len(flat) > limit else "")


_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL)


def _kind(text: str) -> str:
    """What a body that is not the API's JSON is, with a short readable excerpt: the words of
    an HTML page (never its markup), or the start of other text."""
    if text.lstrip().startswith("<"):
        words = _snippet(html.unescape(_TAG.sub(" ", text)), 80)
        return f'an HTML page ("{words}")' if words else "an HTML page"
    return f'text that is not JSON ("{_snippet(text, 80)}")' if text.strip() else "an empty body"


def _address(url: str) -> str:
    """`host:port` of a URL, the default port filled in."""
    parsed = httpx.URL(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return f"{parsed.host}:{port}"

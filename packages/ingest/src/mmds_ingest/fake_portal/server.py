"""The HTTP side of the fake portal: Explore v2.1 routes, errors, quota, faults, control calls."""

import contextlib
import json
import logging
import re
import socket
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

import duckdb

from mmds_ingest.datasets import EXPLORE_API
from mmds_ingest.fake_portal import exports
from mmds_ingest.fake_portal.aggregate import parse_aggregation
from mmds_ingest.fake_portal.dataset import Dataset, Query
from mmds_ingest.fake_portal.faults import Fault, FaultKind, FaultPlan
from mmds_ingest.fake_portal.odsql import ODSQLError, compile_where, parse_order_by, parse_select
from mmds_ingest.fake_portal.params import ParameterError, boolean, integer, last, zone_name
from mmds_ingest.fake_portal.quota import DailyQuota
from mmds_ingest.fake_portal.schema import BOUNDARIES_ID, DATASET_ID, Field, changed_fields

log = logging.getLogger(__name__)

API_PREFIX = EXPLORE_API
CONTROL_PREFIX = "/__fake__/"
RECORDS_MAX_LIMIT = 100
RECORDS_WINDOW = 10_000
SEEN_REQUESTS_KEPT = 10_000
MAX_CONTROL_BODY_BYTES = 64 << 20  # crafted records sent to the control route
AGGREGATE_FORMATS = ("json", "jsonl")
_API_KEY_IN_QUERY = re.compile(r"(apikey=)[^&\s]*", re.IGNORECASE)


class _BodyCut(Exception):
    """The body stopped early on purpose (a drop or truncation fault)."""


@dataclass(frozen=True)
class SeenRequest:
    """A request the portal answered: which endpoint, its parameters, and the API key sent."""

    endpoint: str  # metadata, records, exports, aggregates (with group_by), or other
    path: str
    params: dict[str, str]  # the last value of each, without `apikey`
    api_key: str | None
    dataset: str | None = None  # the dataset asked for


TITLES = {DATASET_ID: "3-1-1 service requests", BOUNDARIES_ID: "Local area boundary"}
FEATURES = {DATASET_ID: ["analyze", "geo", "timeserie"], BOUNDARIES_ID: ["analyze", "geo"]}


class PortalState:
    """What the handler threads share: the datasets, quotas, faults and the control hooks.

    `dataset` is the 3-1-1 requests (which time moves, records are added to and deleted
    from); `datasets` every dataset served, by id."""

    def __init__(
        self,
        dataset: Dataset,
        dataset_id: str,
        boundaries: Dataset,
        quotas: tuple[int | None, int | None],
        parquet_style: str,
        advance: Callable[[float], dict],
        seed: int = 0,
        reset_style: str = "epoch",
        add: Callable[[list[dict]], int] | None = None,
        delete: Callable[[int], list[dict]] | None = None,
    ) -> None:
        self.dataset = dataset
        self.dataset_id = dataset_id
        self.datasets = {dataset_id: dataset, BOUNDARIES_ID: boundaries}
        self.anonymous_quota, self.keyed_quota = (
            DailyQuota(limit, reset_style) for limit in quotas
        )
        self.parquet_style = parquet_style
        self.advance = advance
        self.add = add
        self.delete = delete
        self.faults = FaultPlan(seed)
        self.seen: deque[SeenRequest] = deque(maxlen=SEEN_REQUESTS_KEPT)

    @staticmethod
    def fields(served: Dataset, schema_fault: Fault | None) -> tuple[Field, ...]:
        """The fields `served` publishes now (a schema-change fault alters them)."""
        if schema_fault is None:
            return served.fields
        options = schema_fault.options
        return changed_fields(served.fields, options["change"], options["field"], options["to"])


class PortalHandler(BaseHTTPRequestHandler):
    """One request of the fake portal."""

    protocol_version = "HTTP/1.1"
    server_version = "mmds-fake-portal"
    disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart
    state: PortalState  # set on the subclass made by `make_server`

    def log_message(self, format: str, *args) -> None:
        line = _API_KEY_IN_QUERY.sub(r"\1***", format % args)  # keys are never logged
        log.debug("%s %s", self.address_string(), line)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # --- plumbing -------------------------------------------------------------------------

    def _send(
        self,
        status: int,
        body: bytes | Iterable[bytes],
        content_type: str = "application/json; charset=utf-8",
        headers: dict[str, str] | None = None,
        cut: Fault | None = None,
    ) -> None:
        """Send a response, whole (`bytes`) or streamed in chunks, cut short by `cut`."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if isinstance(body, bytes):
            sent = body
            if cut is not None:
                keep = min(cut.options["after_bytes"], len(body) // 2)
                sent = body[:keep]
                declared = len(body) if cut.kind is FaultKind.DROP_CONNECTION else keep
                self.send_header("Content-Length", str(declared))
            else:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(sent)
            if cut is not None and cut.kind is FaultKind.DROP_CONNECTION:
                self._drop()
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self._stream(body, cut)

    def _stream(self, chunks: Iterable[bytes], cut: Fault | None) -> None:
        limit = cut.options["after_bytes"] if cut is not None else None
        sent, pending = 0, b""

        def emit(data: bytes) -> None:
            if data:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

        try:
            for chunk in chunks:
                if not chunk:
                    continue
                if limit is not None and sent + len(pending) + len(chunk) > limit:
                    emit(pending + chunk[: max(limit - sent - len(pending), 0)])
                    raise _BodyCut
                emit(pending)
                sent += len(pending)
                pending = chunk
            if cut is not None:  # the body ended before the limit: cut its last piece
                emit(pending[: len(pending) // 2])
                raise _BodyCut
            emit(pending)
            self.wfile.write(b"0\r\n\r\n")
        except _BodyCut:
            assert cut is not None  # only a cut ends the body early
            if cut.kind is FaultKind.TRUNCATED_BODY:
                self.wfile.write(b"0\r\n\r\n")
            else:
                self._drop()
        except (BrokenPipeError, ConnectionResetError):
            raise
        except Exception:  # the status line is gone: all that is left is to break the stream
            log.exception("export failed mid-stream; dropping the connection")
            self._drop()
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    def _drop(self) -> None:
        self.wfile.flush()
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _json(self, status: int, payload, headers: dict[str, str] | None = None, cut=None) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        self._send(status, body, headers=headers, cut=cut)

    def _error(self, status: int, code: str, message: str, headers=None) -> None:
        self._json(status, {"error_code": code, "message": message}, headers)

    # --- routing --------------------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        params = parse_qs(url.query, keep_blank_values=True)
        try:
            if url.path.startswith(CONTROL_PREFIX):
                self._control(method, url.path[len(CONTROL_PREFIX) :], params)
            else:
                self._api(method, url.path, params)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _api_key(self, params) -> str | None:
        header = self.headers.get("Authorization", "")
        if header.lower().startswith("apikey "):
            return header[len("apikey ") :].strip()
        return last(params, "apikey")

    def _api(self, method: str, path: str, params) -> None:
        api_key = self._api_key(params)
        quota = self.state.anonymous_quota if api_key is None else self.state.keyed_quota
        allowed, rate_headers = quota.spend()
        if method != "GET":
            self._error(405, "MethodNotAllowed", f"{method} is not allowed here.", rate_headers)
            return
        parts = path[len(API_PREFIX) :].strip("/").split("/") if path.startswith(API_PREFIX) else []
        dataset_id = unquote(parts[0]) if parts else None
        served = self.state.datasets.get(dataset_id) if dataset_id else None
        if served is None or dataset_id is None:
            message = f"The requested dataset or resource was not found: {dataset_id or path}"
            self._error(404, "NotFound", message, rate_headers)
            return
        if len(parts) == 1:
            route = "metadata"
        elif parts[1:] == ["records"]:
            route = "records"
        elif len(parts) == 3 and parts[1] == "exports":
            route = "exports"
        else:
            self._error(404, "NotFound", f"Unknown endpoint: {path}", rate_headers)
            return
        endpoint = "aggregates" if route != "metadata" and last(params, "group_by") else route
        visible = {name: values[-1] for name, values in params.items() if name != "apikey"}
        self.state.seen.append(SeenRequest(endpoint, path, visible, api_key, dataset_id))
        if not allowed:
            self._quota_exhausted(rate_headers)
            return
        faults = {fault.kind: fault for fault in self.state.faults.take(endpoint, dataset_id)}
        if FaultKind.CHURN in faults and self.state.delete is not None:
            self.state.delete(faults[FaultKind.CHURN].options["records"])
        if FaultKind.SLOW_FIRST_BYTE in faults:
            time.sleep(faults[FaultKind.SLOW_FIRST_BYTE].options["seconds"])
        if self._answered_by_fault(faults, rate_headers):
            return
        cut = faults.get(FaultKind.DROP_CONNECTION) or faults.get(FaultKind.TRUNCATED_BODY)
        fields = self.state.fields(served, faults.get(FaultKind.SCHEMA_CHANGE))
        try:
            if route == "metadata":
                self._json(200, self._metadata(dataset_id, served, fields), rate_headers, cut)
            elif route == "records":
                self._records(served, fields, params, rate_headers, cut)
            else:
                self._export(served, parts[2], fields, params, rate_headers, cut)
        except ParameterError as error:
            self._error(400, "InvalidRESTParameterError", str(error), rate_headers)
        except ODSQLError as error:
            self._error(400, "ODSQLError", str(error), rate_headers)
        except duckdb.Error:
            log.exception("query failed: %s", self.path)
            message = "The fake portal failed to run this query (see its log)."
            self._error(500, "InternalServerError", message, rate_headers)

    def _quota_exhausted(self, headers: dict[str, str]) -> None:
        reset = DailyQuota.next_reset()
        retry_after = max(int((reset - datetime.now(UTC)).total_seconds()), 1)
        payload = {
            "error_code": "TooManyRequestsError",
            "message": "Too many requests on the domain. Please contact the domain administrator.",
            "reset_time": reset.isoformat(),
            "limit_time_unit": "day",
            "call_limit": int(headers["X-RateLimit-Limit"]),
        }
        self._json(429, payload, {**headers, "Retry-After": str(retry_after)})

    def _answered_by_fault(self, faults: dict[FaultKind, Fault], headers) -> bool:
        if fault := faults.get(FaultKind.RATE_LIMIT):
            retry_after = fault.options["retry_after"]
            message = f"Too many requests. Retry in {retry_after} seconds."
            payload = {"error_code": "TooManyRequestsError", "message": message}
            self._json(429, payload, {**headers, "Retry-After": str(retry_after)})
            return True
        if fault := faults.get(FaultKind.SERVER_ERROR):
            statuses = fault.options["statuses"]
            status = statuses[(fault.fired - 1) % len(statuses)]
            if status == 500:
                self._error(500, "InternalServerError", "An internal error occurred.", headers)
            else:
                page = f"<html><body><h1>{status} Bad Gateway</h1></body></html>".encode()
                self._send(status, page, "text/html; charset=utf-8", headers)
            return True
        if FaultKind.HTML_ERROR_PAGE in faults:
            page = (
                b"<!DOCTYPE html><html><head><title>Maintenance</title></head><body>"
                b"<h1>We'll be back soon</h1><p>The portal is under maintenance.</p>"
                b"</body></html>"
            )
            self._send(200, page, "text/html; charset=utf-8", headers)
            return True
        return False

    # --- endpoints ------------------------------------------------------------------------

    def _metadata(self, dataset_id: str, dataset: Dataset, fields: tuple[Field, ...]) -> dict:
        return {
            "dataset_id": dataset_id,
            "dataset_uid": "da_mmdsfake",
            "has_records": True,
            "data_visible": True,
            "features": FEATURES.get(dataset_id, ["analyze"]),
            "fields": [
                {
                    "name": f.name,
                    "label": f.label,
                    "type": f.type,
                    "description": None,
                    "annotations": {},
                }
                for f in fields
            ],
            "metas": {
                "default": {
                    "title": TITLES.get(dataset_id, dataset_id),
                    "publisher": "City of Vancouver (fake portal)",
                    "license": "Open Government Licence - Vancouver",
                    "modified": dataset.modified.isoformat(),
                    "data_processed": dataset.data_processed.isoformat(),
                    "metadata_processed": dataset.modified.isoformat(),
                    "records_count": dataset.count_all(),
                    "timezone": "America/Vancouver",
                }
            },
        }

    def _query(self, fields, params, limit: int | None, offset: int, timezone: str) -> Query:
        for name in ("group_by", "refine", "exclude"):
            if last(params, name):
                raise ParameterError(name, "this parameter is not supported by the fake portal.")
        filterable = {f.name: (f.column, f.type) for f in fields if f.column is not None}
        names = [f.name for f in fields]
        by_name = {f.name: f for f in fields}
        selected = parse_select(last(params, "select", "") or "", names)
        order = parse_order_by(last(params, "order_by", "") or "", list(filterable))
        where = compile_where(last(params, "where", "") or "", filterable, ZoneInfo(timezone))
        return Query(
            fields=tuple(by_name[name] for name in selected),
            where=where,
            order=tuple((by_name[name], desc) for name, desc in order),
            limit=limit,
            offset=offset,
        )

    def _records(self, dataset: Dataset, fields, params, headers, cut) -> None:
        timezone = zone_name(params)
        limit = integer(params, "limit", 10, -1, RECORDS_MAX_LIMIT)
        limit = 10 if limit == -1 else limit
        offset = integer(params, "offset", 0, 0, None)
        if offset + limit > RECORDS_WINDOW:
            raise ParameterError(
                "offset",
                f"{offset} was found but offset + limit <= {RECORDS_WINDOW} is expected "
                f"(limit is {limit}).",
            )
        query = self._query(fields, params, limit, offset, timezone)
        total = dataset.count(query.where, timezone)
        results = b""
        if limit > 0:
            relation = dataset.select(query, "json", timezone, as_json=True)
            lines = exports.joined_text(relation.to_arrow_table().column(0).combine_chunks())
            results = lines[:-1].replace(b"\n", b", ")
        body = b'{"total_count": %d, "results": [%s]}' % (total, results)
        self._send(200, body, headers=headers, cut=cut)

    def _export(self, dataset: Dataset, fmt: str, fields, params, headers, cut) -> None:
        if fmt not in exports.FORMATS:
            raise ParameterError(
                "format", f"{fmt} is not served by the fake portal ({', '.join(exports.FORMATS)})."
            )
        timezone = zone_name(params)
        limit = integer(params, "limit", -1, -1, None)
        offset = integer(params, "offset", 0, 0, None)
        for name in ("use_labels", "compressed"):
            if boolean(params, name, False):
                raise ParameterError(name, "true is not supported by the fake portal.")
        delimiter = last(params, "delimiter", ";") or ";"
        if len(delimiter) != 1 or delimiter in '"\r\n':
            raise ParameterError(
                "delimiter", f"{delimiter!r} was found but one character is expected."
            )
        with_bom = boolean(params, "with_bom", True)
        if last(params, "group_by"):
            self._aggregate(dataset, fmt, fields, params, headers, cut, limit, offset, timezone)
            return
        query = self._query(fields, params, None if limit < 0 else limit, offset, timezone)
        style = {"parquet": self.state.parquet_style, "csv": "csv", "geojson": "geojson"}
        relation = dataset.select(
            query, style.get(fmt, "json"), timezone, as_json=fmt in ("json", "jsonl")
        )
        chunks = exports.stream(fmt, relation, delimiter=delimiter, with_bom=with_bom)
        filename = f"{dataset_name(self.path)}.{fmt}"
        extra = {**headers, "Content-Disposition": f'attachment; filename="{filename}"'}
        self._send(200, chunks, exports.CONTENT_TYPES[fmt], extra, cut)

    def _aggregate(
        self, dataset: Dataset, fmt, fields, params, headers, cut, limit, offset, timezone
    ) -> None:
        """An export of groups (`select=count(*) as n&group_by=...`), in JSON or JSON lines."""
        if fmt not in AGGREGATE_FORMATS:
            raise ParameterError(
                "group_by", f"the fake portal aggregates into json or jsonl only, not {fmt}."
            )
        for name in ("refine", "exclude", "order_by"):
            if last(params, name):
                raise ParameterError(
                    name, "this parameter is not supported with group_by by the fake portal."
                )
        columns = {f.name: (f.column, f.type) for f in fields if f.column is not None}
        aggregation = parse_aggregation(
            last(params, "select", "") or "", last(params, "group_by", "") or "", columns
        )
        where = compile_where(last(params, "where", "") or "", columns, ZoneInfo(timezone))
        relation = dataset.aggregate(
            aggregation, where, timezone, None if limit < 0 else limit, offset
        )
        chunks = exports.stream(fmt, relation)
        self._send(200, chunks, exports.CONTENT_TYPES[fmt], headers, cut)

    # --- control --------------------------------------------------------------------------

    def _control(self, method: str, action: str, params) -> None:
        state = self.state
        try:
            if action == "advance" and method == "POST":
                days = float(last(params, "days", "1") or "1")
                self._json(200, state.advance(days))
            elif action == "faults" and method == "GET":
                active = [fault.describe() for fault in state.faults.active()]
                self._json(200, {"fired": state.faults.fired(), "active": active})
            elif action == "faults" and method == "POST":
                spec = last(params, "spec")
                if not spec:
                    raise ValueError("give the fault as ?spec=kind[:key=value,...]")
                fault = Fault.parse(spec)
                state.faults.add(fault)
                self._json(200, fault.describe())
            elif action == "faults" and method == "DELETE":
                state.faults.clear()
                self._json(200, {"fired": state.faults.fired(), "active": []})
            elif action == "records" and method == "POST" and state.add is not None:
                added = state.add(self._records_sent())
                self._json(200, {"added": added, "total_count": state.dataset.count_all()})
            elif action == "records" and method == "DELETE" and state.delete is not None:
                count = int(last(params, "count", "1") or "1")
                if count < 0:
                    raise ValueError(f"count must be zero or more, got {count}")
                deleted = state.delete(count)
                self._json(200, {"deleted": deleted, "total_count": state.dataset.count_all()})
            elif action == "state" and method == "GET":
                dataset = state.dataset
                self._json(
                    200, {"now": dataset.now.isoformat(), "total_count": dataset.count_all()}
                )
            else:
                self._error(
                    404, "NotFound", f"Unknown control call: {method} {CONTROL_PREFIX}{action}"
                )
        except ValueError as error:
            self._error(400, "InvalidControlCall", str(error))

    def _records_sent(self) -> list[dict]:
        """The JSON array (or JSON lines) of records in the request body."""
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= MAX_CONTROL_BODY_BYTES:
            raise ValueError(
                f"send the records as a JSON array of at most {MAX_CONTROL_BODY_BYTES} bytes"
            )
        text = self.rfile.read(length).decode("utf-8")
        try:
            body = json.loads(text)
        except json.JSONDecodeError:
            try:
                body = [json.loads(line) for line in text.splitlines() if line.strip()]
            except json.JSONDecodeError as error:
                raise ValueError(
                    f"the body is neither a JSON array nor JSON lines: {error}"
                ) from None
        if not isinstance(body, list) or not all(isinstance(r, dict) for r in body):
            raise ValueError("the body must be a JSON array of record objects")
        return body


def dataset_name(path: str) -> str:
    """The dataset id in an API request's path."""
    return unquote(urlsplit(path).path[len(API_PREFIX) :].split("/")[0])


class PortalServer(ThreadingHTTPServer):
    """A threading HTTP server whose handler threads do not block shutdown."""

    daemon_threads = True
    block_on_close = False


def make_server(state: PortalState, host: str, port: int) -> PortalServer:
    """Bind the fake portal to `host:port` (0 picks a free port)."""
    handler = type("BoundPortalHandler", (PortalHandler,), {"state": state})
    return PortalServer((host, port), handler)

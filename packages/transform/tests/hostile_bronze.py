"""Hostile records written straight into bronze, flagged the way ingest flags them.

The transform's tests must not depend on how ingest detects odd records, only on what it writes
(docs/contracts.md, "Quality reasons"): each hostile row is a copy of a clean bronze row with
some portal fields changed, typed columns and ``_raw`` changed alike, and the ingest codes in
``_quality_issues``. Each insert is a load of its own in ``bronze._loads``.
"""

import hashlib
import json
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

VANCOUVER = ZoneInfo("America/Vancouver")
PORTAL_FIELDS = (
    "department",
    "service_request_type",
    "status",
    "closure_reason",
    "service_request_open_timestamp",
    "service_request_close_date",
    "last_modified_timestamp",
    "address",
    "local_area",
    "channel",
    "latitude",
    "longitude",
    "geom",
)


@dataclass(frozen=True)
class HostileRow:
    """A copy of the template request with ``changes`` (portal field -> value as sent, or a
    function of the template's typed values giving them)."""

    kind: str
    changes: dict | Callable[[dict], dict] = field(default_factory=dict)
    ingest_codes: str | None = None
    same_content_as_template: bool = False

    @property
    def key(self) -> str:
        return f"hostile-{self.kind}"


def template_key(con: duckdb.DuckDBPyConnection) -> str:
    """A clean, closed, located request of a known area, closed after the day it opened."""
    (key,) = con.execute(
        """
        select _record_key from bronze.service_requests
        where _quality_issues is null and status = 'Close' and latitude is not null
            and local_area is not null and service_request_close_date
                > cast(timezone('America/Vancouver', service_request_open_timestamp) as date)
        order by _record_key
        limit 1
        """
    ).fetchone()
    return key


def insert_rows(data_dir: Path, rows: Iterable[HostileRow], load_id: str) -> str:
    """Insert ``rows`` as the load ``load_id`` (committed now); return the template's key."""
    with closing(duckdb.connect(str(Path(data_dir) / "warehouse.duckdb"))) as con:
        con.execute("set TimeZone = 'UTC'")
        key = template_key(con)
        columns = [*PORTAL_FIELDS, "_row_hash", "_raw"]
        template = dict(
            zip(
                columns,
                con.execute(
                    f"select {', '.join(columns)} from bronze.service_requests"  # noqa: S608 (constants)
                    " where _record_key = ?",
                    [key],
                ).fetchone(),
                strict=True,
            )
        )
        raw_template = json.loads(template["_raw"])
        loaded_at = datetime.now(UTC)
        count = 0
        for row in rows:
            changes = row.changes(template) if callable(row.changes) else row.changes
            values = {name: template[name] for name in PORTAL_FIELDS} | changes
            raw = raw_template | changes
            row_hash = (
                template["_row_hash"]
                if row.same_content_as_template
                else hashlib.md5(row.key.encode()).hexdigest()  # noqa: S324 (a fingerprint)
            )
            values["geom"] = json.dumps(raw["geom"]) if raw.get("geom") is not None else None
            con.execute(
                f"insert into bronze.service_requests ({', '.join(PORTAL_FIELDS)},"  # noqa: S608
                " _record_key, _row_hash, _load_id, _loaded_at, _quality_issues, _raw)"
                f" values ({', '.join('?' * (len(PORTAL_FIELDS) + 6))})",
                [
                    *(values[name] for name in PORTAL_FIELDS),
                    row.key,
                    row_hash,
                    load_id,
                    loaded_at,
                    row.ingest_codes,
                    json.dumps(raw),
                ],
            )
            count += 1
        con.execute(
            "insert into bronze._loads (load_id, dataset, mode, status, rows_received,"
            " rows_inserted, started_at, finished_at)"
            " values (?, '3-1-1-service-requests', 'incremental', 'succeeded', ?, ?, ?, ?)",
            [load_id, count, count, loaded_at, loaded_at],
        )
    return key


def _three_days_before_opening(template: dict) -> dict:
    opened_local = template["service_request_open_timestamp"].astimezone(VANCOUVER).date()
    return {"service_request_close_date": (opened_local - timedelta(days=3)).isoformat()}


def hostile_mix() -> list[HostileRow]:
    """One row per hostile kind of issue 12."""
    text_100kb = "LONG ST " * 12_500
    return [
        HostileRow(
            "open_in_future",
            {"service_request_open_timestamp": "2999-01-01T00:00:00+00:00"},
            "service_request_open_timestamp_in_future",
        ),
        HostileRow(
            "open_in_1900",
            {"service_request_open_timestamp": "1900-01-01T12:00:00+00:00"},
            "service_request_open_timestamp_before_first_year",
        ),
        HostileRow(
            "modified_in_future",
            {"last_modified_timestamp": "2999-01-01T00:00:00+00:00"},
            "last_modified_timestamp_in_future",
        ),
        HostileRow(
            "closed_in_future",
            {"service_request_close_date": "2999-01-01"},
            "service_request_close_date_in_future",
        ),
        HostileRow("reopened", {"status": "Reopened"}),
        HostileRow("new_department", {"department": "ENG - Drone Services"}),
        HostileRow("new_channel", {"channel": "Fax"}),
        HostileRow("new_closure_reason", {"closure_reason": "Resolved by robot"}),
        HostileRow("renamed_area", {"local_area": "Kitsilano-Point Grey"}),
        HostileRow("address_100kb", {"address": text_100kb}, "address_too_long"),
        HostileRow(
            "control_characters",
            {"address": "4375 ROSS\tST\x07\x1b[31m"},
            "address_control_characters",
        ),
        HostileRow(
            "formula",
            {"address": '=HYPERLINK("http://example.invalid","click")'},
            "address_formula_like",
        ),
        HostileRow("closed_before_opened", _three_days_before_opening),
        HostileRow(
            "outside_city",
            {
                "latitude": 48.4284,
                "longitude": -123.3656,
                "geom": {"lon": -123.3656, "lat": 48.4284},
            },
        ),
        HostileRow("exact_duplicate", same_content_as_template=True),
    ]

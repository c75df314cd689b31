"""A synthetic serving file that matches the gold/meta contract, for tests, benchmarks and demos.

The pipeline (ingest -> dbt -> publish) builds the real `serving.duckdb`; this module builds a
stand-in of any size without it, with the source's quirks: requests without a local area, without
a location, deprecated request types, requests still open, closed-before-opened rows and flagged
rows. Distributions follow a real extract (channels, areas, 09:00-16:00 peak, weekends at half,
median close about 2 days and p90 about 16).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

# (local area, centroid latitude, centroid longitude, relative volume)
LOCAL_AREAS: tuple[tuple[str, float, float, int], ...] = (
    ("Arbutus Ridge", 49.2458, -123.1612, 168),
    ("Downtown", 49.2803, -123.1161, 789),
    ("Dunbar-Southlands", 49.2425, -123.1840, 300),
    ("Fairview", 49.2642, -123.1299, 371),
    ("Grandview-Woodland", 49.2751, -123.0663, 518),
    ("Hastings-Sunrise", 49.2771, -123.0413, 454),
    ("Kensington-Cedar Cottage", 49.2484, -123.0727, 597),
    ("Kerrisdale", 49.2259, -123.1584, 187),
    ("Killarney", 49.2204, -123.0361, 243),
    ("Kitsilano", 49.2656, -123.1644, 518),
    ("Marpole", 49.2115, -123.1299, 284),
    ("Mount Pleasant", 49.2632, -123.0991, 467),
    ("Oakridge", 49.2277, -123.1234, 134),
    ("Renfrew-Collingwood", 49.2443, -123.0400, 515),
    ("Riley Park", 49.2468, -123.1032, 370),
    ("Shaughnessy", 49.2457, -123.1406, 128),
    ("South Cambie", 49.2473, -123.1207, 126),
    ("Strathcona", 49.2781, -123.0897, 323),
    ("Sunset", 49.2209, -123.0922, 429),
    ("Victoria-Fraserview", 49.2208, -123.0644, 279),
    ("West End", 49.2849, -123.1346, 338),
    ("West Point Grey", 49.2659, -123.2015, 197),
)
UNKNOWN_AREA = "Unknown"
UNKNOWN_REQUEST_TYPE = "(unknown)"

# (request type, department, relative volume, located: has an address when reported)
REQUEST_TYPES: tuple[tuple[str, str, int, bool], ...] = (
    ("Building and Development Inquiry Case", "DBL - Services Centre", 988, False),
    ("Business Licence Request Case", "DBL - Licence Office", 845, False),
    ("Mayor and Council Feedback Case", "CMO - Business and Election Services", 644, False),
    ("Garbage Bin Request Case", "ENG - Sanitation Services", 500, True),
    ("Missed Garbage Bin Pickup Case", "ENG - Sanitation Services", 406, True),
    ("Missed Green Bin Pickup Case", "ENG - Sanitation Services", 369, True),
    ("City and Park Trees Maintenance Case", "PR - Urban Forestry", 314, True),
    ("Abandoned Non-Recyclables-Small Case", "ENG - Sanitation Services", 271, True),
    ("City Services Feedback Case", "311 Contact Centre", 264, False),
    ("Green Bin Request Case", "ENG - Sanitation Services", 233, True),
    ("Street Surface Water Flooding Case", "ENG - Waterworks Operations", 231, True),
    ("Parking Enforcement Transfer Case", "ENG - Parking Enforcement and Operations", 221, True),
    ("Street Light Out Case", "ENG - Traffic and Electrical Operations and Design", 180, True),
    ("Pothole Case", "ENG - Streets Operations", 170, True),
    ("Graffiti Removal - City Property Case", "ENG - Streets Operations", 160, True),
    ("Animal Complaint - Non-Emergency Case", "DBL - Animal Services", 150, True),
    ("Property Use Inspection Case", "DBL - Property Use Inspections", 140, True),
    ("Dead Animal Pickup Case", "DBL - Animal Services", 90, True),
    ("Sidewalk Repair Case", "ENG - Streets Operations", 80, True),
    ("Residential Parking Permit Case", "ENG - Parking Enforcement and Operations", 70, False),
    ("Noise Complaint Case", "DBL - Property Use Inspections", 60, True),
    ("Fire Safety Inspection Request Case", "VFRS - Fire Prevention", 30, True),
    ("Vendor's Street Use Permit Case", "ENG - Streets Operations", 25, False),
    ("ZZ OLD - Urban Issues on City Property Case", "ENG - Streets Operations", 12, True),
    ("ZZ OLD - Tower Crane Site Survey Case", "DBL - Services Centre", 4, True),
    ("Z - Snow Removal Inquiry Case", "ENG - Streets Operations", 6, False),
    (UNKNOWN_REQUEST_TYPE, "311 Contact Centre", 3, False),  # requests sent without a type
)
CHANNELS: tuple[tuple[str, int], ...] = (
    ("WEB", 4499),
    ("Phone", 3738),
    ("Mobile App", 1431),
    ("E-mail", 138),
    ("Chat", 94),
    ("Unknown", 92),
    ("Social Media", 7),
    ("Mail Out", 1),
)
CLOSURE_REASONS: tuple[tuple[str, int], ...] = (
    ("Service provided", 60),
    ("Further action has been planned", 10),
    ("Reviewed and no action planned", 8),
    ("Closed automatically and sent to service group", 6),
    ("Referred to another service group", 5),
    ("Issue not found or inaccessible", 4),
    ("Insufficient info", 3),
    ("Not a city provided service / jurisdiction", 2),
    ("Customer unreachable", 2),
)
# Share of each local hour among requests opened (70% between 09:00 and 16:00).
_HOUR_WEIGHTS = np.array(
    [1, 1, 1, 1, 1, 2, 4, 8, 14, 22, 24, 24, 23, 23, 22, 20, 14, 10, 8, 6, 5, 4, 3, 2], dtype=float
)
_VANCOUVER_UTC_OFFSET_HOURS = 8  # standard time; good enough for synthetic instants


@dataclass(frozen=True)
class SyntheticSpec:
    """Size and shape of a synthetic serving file."""

    requests: int = 6_000
    first_date: date = date(2025, 6, 1)
    last_date: date = date(2026, 11, 27)
    seed: int = 311
    published_at: datetime = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
    load_id: str = "load-0005"


def _weights(values: tuple[tuple, ...], index: int) -> np.ndarray:
    raw = np.array([row[index] for row in values], dtype=float)
    return raw / raw.sum()


def _type_id(request_type: str) -> str:
    return hashlib.sha256(request_type.encode()).hexdigest()[:16]


def _category(request_type: str) -> str:
    name = request_type.removeprefix("ZZ OLD - ").removeprefix("Z - ")
    return name.removesuffix(" Case")


def _opened_days(rng: np.random.Generator, spec: SyntheticSpec) -> np.ndarray:
    days = pd.date_range(spec.first_date, spec.last_date, freq="D")
    weekday = np.where(days.day_of_week >= 5, 0.5, 1.0)
    season = 1.0 + 0.25 * np.cos((days.day_of_year.to_numpy() - 15) / 365.25 * 2 * np.pi)
    weights = weekday * season
    picks = rng.choice(len(days), size=spec.requests, p=weights / weights.sum())
    return days.to_numpy()[np.sort(picks)]


def _fact_frame(spec: SyntheticSpec) -> pd.DataFrame:
    rng = np.random.default_rng(spec.seed)
    n = spec.requests
    opened_day = _opened_days(rng, spec)
    hour = rng.choice(24, size=n, p=_HOUR_WEIGHTS / _HOUR_WEIGHTS.sum())
    second = rng.integers(0, 3600, size=n)
    opened_local = (
        opened_day + hour.astype("timedelta64[h]") + second.astype("timedelta64[s]")
    ).astype("datetime64[us]")
    opened_utc = opened_local + np.timedelta64(_VANCOUVER_UTC_OFFSET_HOURS, "h")

    type_index = rng.choice(len(REQUEST_TYPES), size=n, p=_weights(REQUEST_TYPES, 2))
    types = np.array([t[0] for t in REQUEST_TYPES], dtype=object)[type_index]
    departments = np.array([t[1] for t in REQUEST_TYPES], dtype=object)[type_index]
    located_type = np.array([t[3] for t in REQUEST_TYPES])[type_index]

    area_index = rng.choice(len(LOCAL_AREAS), size=n, p=_weights(LOCAL_AREAS, 3))
    known_area = rng.random(n) >= np.where(located_type, 0.05, 0.45)
    local_area_id = np.where(known_area, area_index + 1, 0)
    has_location = known_area & located_type & (rng.random(n) < 0.8)
    lat = np.array([a[1] for a in LOCAL_AREAS])[area_index] + rng.normal(0, 0.006, n)
    lon = np.array([a[2] for a in LOCAL_AREAS])[area_index] + rng.normal(0, 0.008, n)

    channels = np.array([c[0] for c in CHANNELS], dtype=object)[
        rng.choice(len(CHANNELS), size=n, p=_weights(CHANNELS, 1))
    ]

    # Median about 2 days, p90 about 16; about 1% stay open for months; a few close "before"
    # they opened (a real source quirk).
    days_to_close = np.floor(rng.lognormal(mean=0.75, sigma=1.6, size=n)).astype(int)
    long_open = rng.random(n) < 0.01
    before_open = rng.random(n) < 0.001
    days_to_close = np.where(before_open, -1, days_to_close)
    opened_date = opened_local.astype("datetime64[D]")
    closed_date = opened_date + days_to_close.astype("timedelta64[D]")
    is_open = long_open | (closed_date > np.datetime64(spec.last_date))
    reasons = np.array([r[0] for r in CLOSURE_REASONS], dtype=object)[
        rng.choice(len(CLOSURE_REASONS), size=n, p=_weights(CLOSURE_REASONS, 1))
    ]
    flagged = before_open | (rng.random(n) < 0.004)
    close_hour = (rng.integers(8, 17, size=n) + _VANCOUVER_UTC_OFFSET_HOURS).astype(
        "timedelta64[h]"
    )
    last_modified = np.where(
        is_open, opened_utc, closed_date.astype("datetime64[us]") + close_hour
    ).astype("datetime64[us]")

    ids = [hashlib.sha256(f"{spec.seed}:{i}".encode()).hexdigest()[:32] for i in range(n)]
    return pd.DataFrame(
        {
            "service_request_id": ids,
            "local_area_id": local_area_id.astype("int32"),
            "request_type_id": [_type_id(t) for t in types],
            "department": departments,
            "channel": channels,
            "status": np.where(is_open, "Open", "Closed"),
            "closure_reason": np.where(is_open, "N/A", reasons),
            "opened_at": pd.to_datetime(opened_utc).tz_localize("UTC"),
            "opened_date_local": opened_date,
            "opened_hour_local": hour.astype("int32"),
            "closed_date": pd.Series(closed_date).where(~is_open),
            "days_to_close": pd.Series(days_to_close, dtype="Int32").where(~is_open),
            "is_open": is_open,
            "latitude": pd.Series(lat).where(has_location),
            "longitude": pd.Series(lon).where(has_location),
            "last_modified_at": pd.to_datetime(last_modified).tz_localize("UTC"),
            "is_closed_before_opened": before_open & ~is_open,
            "has_location": has_location,
            "has_quality_issues": flagged,
        }
    )


_GOLD_DDL = """
CREATE SCHEMA gold;
CREATE SCHEMA meta;
CREATE TABLE gold.dim_local_areas (
    local_area_id INTEGER, local_area_name VARCHAR, is_unknown BOOLEAN);
CREATE TABLE gold.dim_request_types (
    request_type_id VARCHAR, request_type VARCHAR, department VARCHAR, business_unit VARCHAR,
    is_deprecated BOOLEAN, category VARCHAR);
CREATE TABLE gold.fct_service_requests (
    service_request_id VARCHAR, local_area_id INTEGER, request_type_id VARCHAR,
    department VARCHAR, channel VARCHAR, status VARCHAR, closure_reason VARCHAR,
    opened_at TIMESTAMPTZ, opened_date_local DATE, opened_hour_local INTEGER, closed_date DATE,
    days_to_close INTEGER, is_open BOOLEAN, latitude DOUBLE, longitude DOUBLE,
    last_modified_at TIMESTAMPTZ, is_closed_before_opened BOOLEAN, has_location BOOLEAN,
    has_quality_issues BOOLEAN);
CREATE TABLE meta.publish (
    published_at TIMESTAMPTZ, load_id VARCHAR, source_last_modified_at TIMESTAMPTZ);
CREATE TABLE meta.loads (
    load_id VARCHAR, mode VARCHAR, status VARCHAR, source_url VARCHAR,
    window_start TIMESTAMPTZ, window_end TIMESTAMPTZ, rows_received BIGINT,
    rows_inserted BIGINT, rows_updated BIGINT, rows_unchanged BIGINT, rows_flagged BIGINT,
    rows_deleted BIGINT, portal_total_count BIGINT, cursor_before TIMESTAMPTZ,
    cursor_after TIMESTAMPTZ, change_token VARCHAR, started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ, message VARCHAR);
CREATE TABLE meta.layer_row_counts (layer VARCHAR, table_name VARCHAR, row_count BIGINT);
CREATE TABLE meta.test_results (
    test_name VARCHAR, model_name VARCHAR, status VARCHAR, failures BIGINT);
"""

_AGGREGATES_SQL = """
INSERT INTO gold.agg_requests_daily
WITH events AS (
    SELECT opened_date_local AS date_local, local_area_id, request_type_id,
           1 AS opened, 0 AS closed
    FROM gold.fct_service_requests
    UNION ALL
    SELECT closed_date, local_area_id, request_type_id, 0, 1
    FROM gold.fct_service_requests WHERE closed_date IS NOT NULL
), daily AS (
    SELECT date_local, local_area_id, request_type_id,
           sum(opened)::BIGINT AS opened_count, sum(closed)::BIGINT AS closed_count
    FROM events GROUP BY ALL
)
SELECT *, (sum(opened_count - closed_count) OVER (
    PARTITION BY local_area_id, request_type_id ORDER BY date_local))::BIGINT
FROM daily;
INSERT INTO gold.agg_resolution_times
SELECT date_trunc('month', closed_date)::DATE, request_type_id, count(*),
       quantile_cont(days_to_close, 0.5), quantile_cont(days_to_close, 0.9)
FROM gold.fct_service_requests
WHERE closed_date IS NOT NULL AND NOT is_closed_before_opened
GROUP BY ALL;
"""


def _dims(con: duckdb.DuckDBPyConnection) -> None:
    areas = [(0, UNKNOWN_AREA, True)] + [
        (i + 1, name, False) for i, (name, *_) in enumerate(LOCAL_AREAS)
    ]
    con.executemany("INSERT INTO gold.dim_local_areas VALUES (?, ?, ?)", areas)
    types = [
        (
            _type_id(name),
            name,
            department,
            department.split(" - ")[0],
            name.startswith(("ZZ OLD - ", "Z - ")),
            _category(name),
        )
        for name, department, _, _ in REQUEST_TYPES
    ]
    con.executemany("INSERT INTO gold.dim_request_types VALUES (?, ?, ?, ?, ?, ?)", types)


def _meta(con: duckdb.DuckDBPyConnection, spec: SyntheticSpec) -> None:
    con.execute(
        "INSERT INTO meta.publish SELECT ?, ?, max(last_modified_at) "
        "FROM gold.fct_service_requests",
        [spec.published_at, spec.load_id],
    )
    url = "https://opendata.vancouver.ca/api/explore/v2.1/catalog/datasets/3-1-1-service-requests"
    loads = []
    finished = spec.published_at - timedelta(minutes=5)
    for k in range(5, 0, -1):
        started = finished - timedelta(days=k - 1, seconds=40)
        full = k == 5
        received = spec.requests if full else 150 + 37 * k
        loads.append(
            (
                f"load-{6 - k:04d}",
                "full" if full else "incremental",
                "skipped" if k == 3 else "succeeded",
                url,
                None if full else started - timedelta(days=3),
                started,
                0 if k == 3 else received,
                spec.requests if full else 0 if k == 3 else received // 3,
                0 if full or k == 3 else received // 2,
                0 if full or k == 3 else received - received // 3 - received // 2,
                0 if k == 3 else 4 + k,
                0,
                spec.requests,
                None if full else started - timedelta(days=1),
                started,
                f"token-{6 - k}",
                started,
                started + timedelta(seconds=40 if full else 6),
                "schema drift: new field 'ward' ignored" if k == 2 else None,
            )
        )
    con.executemany(
        "INSERT INTO meta.loads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        loads,
    )
    con.execute(
        """
        INSERT INTO meta.layer_row_counts
        SELECT 'bronze', 'service_requests', count(*) + 12 FROM gold.fct_service_requests
        UNION ALL SELECT 'silver', 'stg_portal__service_requests', count(*) + 12
            FROM gold.fct_service_requests
        UNION ALL SELECT 'silver', 'int_service_requests_deduplicated', count(*)
            FROM gold.fct_service_requests
        UNION ALL SELECT 'gold', 'fct_service_requests', count(*) FROM gold.fct_service_requests
        UNION ALL SELECT 'gold', 'agg_requests_daily', count(*) FROM gold.agg_requests_daily
        UNION ALL SELECT 'gold', 'agg_resolution_times', count(*) FROM gold.agg_resolution_times
        UNION ALL SELECT 'gold', 'dim_local_areas', count(*) FROM gold.dim_local_areas
        UNION ALL SELECT 'gold', 'dim_request_types', count(*) FROM gold.dim_request_types
        """
    )
    tests = [
        ("unique_fct_service_requests_service_request_id", "fct_service_requests", "pass", 0),
        ("not_null_fct_service_requests_opened_at", "fct_service_requests", "pass", 0),
        ("relationships_fct_service_requests_local_area_id", "fct_service_requests", "pass", 0),
        ("relationships_fct_service_requests_request_type_id", "fct_service_requests", "pass", 0),
        ("accepted_values_fct_service_requests_status", "fct_service_requests", "pass", 0),
        ("unique_dim_local_areas_local_area_id", "dim_local_areas", "pass", 0),
        ("unique_dim_request_types_request_type_id", "dim_request_types", "pass", 0),
        ("close_not_before_open", "fct_service_requests", "warn", 6),
        ("agg_requests_daily_balances", "agg_requests_daily", "pass", 0),
    ]
    con.executemany("INSERT INTO meta.test_results VALUES (?, ?, ?, ?)", tests)


def write_synthetic_serving_file(path: Path, spec: SyntheticSpec | None = None) -> Path:
    """Write a serving file for `spec` at `path`, replacing any file there atomically.

    Like the orchestrator's publish step, the file is written beside its target and renamed
    over it, so a reader never sees a half-written file.
    """
    spec = spec or SyntheticSpec()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.unlink(missing_ok=True)
    facts = _fact_frame(spec)
    con = duckdb.connect(str(partial))
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(_GOLD_DDL)
        _dims(con)
        con.register("facts", facts)
        con.execute("INSERT INTO gold.fct_service_requests SELECT * FROM facts")
        con.unregister("facts")
        con.execute(
            "CREATE TABLE gold.agg_requests_daily (date_local DATE, local_area_id INTEGER, "
            "request_type_id VARCHAR, opened_count BIGINT, closed_count BIGINT, "
            "open_backlog_count BIGINT);"
            "CREATE TABLE gold.agg_resolution_times (month_start DATE, request_type_id VARCHAR, "
            "closed_count BIGINT, median_days_to_close DOUBLE, p90_days_to_close DOUBLE);"
        )
        con.execute(_AGGREGATES_SQL)
        _meta(con, spec)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    partial.replace(path)
    return path

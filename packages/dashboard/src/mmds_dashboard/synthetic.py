"""A synthetic serving file that matches the gold/meta contract, for tests, benchmarks and demos.

The pipeline (ingest -> dbt -> publish) builds the real `serving.duckdb`; this module builds a
stand-in of any size without it, with the source's quirks: requests without a local area, without
a location, deprecated request types, requests still open, closed-before-opened rows and flagged
rows. Distributions follow a real extract (channels, areas, 09:00-16:00 peak, weekends at half,
median close about 2 days and p90 about 16). Given the local areas' boundaries (a GeoJSON
FeatureCollection with `name` and `geo_point_2d` properties, as the portal's `local-area-boundary`
dataset), located requests lie inside their area's polygon, clustered around a few hot spots as
real requests cluster along busy streets, and `gold.dim_local_areas` carries the geometry.
The newest day is partial when the data was cut before it ended (`SyntheticSpec.published_at`).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pandas as pd

# (local area, centroid latitude, centroid longitude, relative volume); the centroids place
# requests when no boundaries are given.
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
PACIFIC = ZoneInfo("America/Vancouver")
PORTAL_URL = "https://opendata.vancouver.ca"
HOT_SPOTS_PER_AREA = 8
HOT_SPOT_SHARE = 0.5  # of an area's located requests; the rest spread over its whole polygon
_INSIDE_BATCH = 8_192


@dataclass(frozen=True)
class SyntheticSpec:
    """Size and shape of a synthetic serving file."""

    requests: int = 6_000
    first_date: date = date(2025, 6, 1)
    last_date: date = date(2026, 11, 27)
    seed: int = 311
    # 14:30 Pacific time on `last_date`: the data was cut at 14:00, so the newest day is partial.
    published_at: datetime = datetime(2026, 11, 27, 22, 30, tzinfo=UTC)
    load_id: str = "load-0005"
    boundaries: Path | None = None  # GeoJSON FeatureCollection of the 22 local areas
    is_sample: bool = False
    portal_url: str = PORTAL_URL

    def cutoff(self) -> datetime:
        """The newest instant the data holds: half an hour before the publish, at most the end
        of `last_date` (Pacific time)."""
        end_of_last_day = datetime.combine(self.last_date + timedelta(days=1), time(), PACIFIC)
        return min(self.published_at - timedelta(minutes=30), end_of_last_day - timedelta(0, 1))


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


@dataclass(frozen=True)
class _Area:
    """A local area's boundary (GeoJSON geometry) and the portal's centroid of it."""

    geometry: dict
    longitude: float
    latitude: float


def _read_boundaries(path: Path) -> dict[str, _Area]:
    collection = json.loads(Path(path).read_text(encoding="utf-8"))
    areas = {}
    for feature in collection["features"]:
        properties = feature["properties"]
        point = properties["geo_point_2d"]
        areas[properties["name"]] = _Area(feature["geometry"], point["lon"], point["lat"])
    return areas


def _polygons(geometry: dict) -> list[list[np.ndarray]]:
    """The rings of each polygon of a `Polygon` or `MultiPolygon`, as arrays of [lon, lat]."""
    polygons = (
        [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    )
    return [[np.asarray(ring, dtype=float) for ring in polygon] for polygon in polygons]


def _inside(lon: np.ndarray, lat: np.ndarray, geometry: dict) -> np.ndarray:
    """Which points lie inside `geometry` (ray casting, even-odd: holes are outside)."""
    if len(lon) > _INSIDE_BATCH:  # bounds the points x vertices temporaries
        return np.concatenate(
            [
                _inside(lon[i : i + _INSIDE_BATCH], lat[i : i + _INSIDE_BATCH], geometry)
                for i in range(0, len(lon), _INSIDE_BATCH)
            ]
        )
    result = np.zeros(len(lon), dtype=bool)
    for polygon in _polygons(geometry):
        crossings = np.zeros(len(lon), dtype=bool)
        for ring in polygon:
            x0, y0 = ring[:-1, 0], ring[:-1, 1]
            x1, y1 = ring[1:, 0], ring[1:, 1]
            straddles = (y0[None, :] > lat[:, None]) != (y1[None, :] > lat[:, None])
            with np.errstate(divide="ignore", invalid="ignore"):
                x_at = x0 + (lat[:, None] - y0) * (x1 - x0) / (y1 - y0)
            crossings ^= np.logical_xor.reduce(straddles & (lon[:, None] < x_at), axis=1)
        result |= crossings
    return result


def _uniform_inside(rng: np.random.Generator, geometry: dict, n: int) -> np.ndarray:
    """`n` points ([lon, lat] rows) spread uniformly over `geometry`."""
    rings = [ring for polygon in _polygons(geometry) for ring in polygon]
    low = np.min([ring.min(axis=0) for ring in rings], axis=0)
    high = np.max([ring.max(axis=0) for ring in rings], axis=0)
    points = np.empty((0, 2))
    while len(points) < n:
        candidates = rng.uniform(low, high, size=(max(2 * (n - len(points)), 64), 2))
        points = np.vstack(
            [points, candidates[_inside(candidates[:, 0], candidates[:, 1], geometry)]]
        )
    return points[:n]


def _points_in_area(rng: np.random.Generator, area: _Area, n: int) -> np.ndarray:
    """`n` points inside the area: half around a few hot spots, half anywhere in it."""
    spots = _uniform_inside(rng, area.geometry, HOT_SPOTS_PER_AREA)
    clustered = int(n * HOT_SPOT_SHARE)
    points = [_uniform_inside(rng, area.geometry, n - clustered)]
    remaining = clustered
    while remaining:
        around = spots[rng.integers(0, len(spots), size=remaining)]
        candidates = around + rng.normal(0, [0.0025, 0.0015], size=(remaining, 2))
        kept = candidates[_inside(candidates[:, 0], candidates[:, 1], area.geometry)]
        points.append(kept)
        remaining -= len(kept)
    return rng.permutation(np.vstack(points))


def _locations(
    rng: np.random.Generator,
    area_index: np.ndarray,
    located: np.ndarray,
    boundaries: dict[str, _Area] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude of the located requests (NaN elsewhere), inside their area's
    polygon when the boundaries are known, else scattered around its centroid."""
    n = len(area_index)
    if boundaries is None:
        lat = np.array([a[1] for a in LOCAL_AREAS])[area_index] + rng.normal(0, 0.006, n)
        lon = np.array([a[2] for a in LOCAL_AREAS])[area_index] + rng.normal(0, 0.008, n)
        return np.where(located, lon, np.nan), np.where(located, lat, np.nan)
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    for i, (name, *_) in enumerate(LOCAL_AREAS):
        rows = np.flatnonzero((area_index == i) & located)
        points = _points_in_area(rng, boundaries[name], len(rows))
        lon[rows], lat[rows] = points[:, 0], points[:, 1]
    return lon, lat


def _utc(local: np.ndarray) -> pd.Series:
    """Naive Pacific wall-clock times as UTC instants (ambiguous times read as standard time,
    times skipped by the spring change moved forward)."""
    return (
        pd.Series(
            pd.DatetimeIndex(local).tz_localize(
                PACIFIC, ambiguous=np.zeros(len(local), dtype=bool), nonexistent="shift_forward"
            )
        )
        .dt.tz_convert("UTC")
        .reset_index(drop=True)
    )


def _fact_frame(spec: SyntheticSpec, boundaries: dict[str, _Area] | None) -> pd.DataFrame:
    rng = np.random.default_rng(spec.seed)
    n = spec.requests
    cutoff_local = spec.cutoff().astimezone(PACIFIC).replace(tzinfo=None)
    opened_day = _opened_days(rng, spec)
    hour = rng.choice(24, size=n, p=_HOUR_WEIGHTS / _HOUR_WEIGHTS.sum())
    second = rng.integers(0, 3600, size=n)
    opened_local = (
        opened_day + hour.astype("timedelta64[h]") + second.astype("timedelta64[s]")
    ).astype("datetime64[us]")
    # Nothing opened after the cut-off: move such requests into the hours before it.
    late = opened_local > np.datetime64(cutoff_local)
    if late.any():
        since_midnight = (np.datetime64(cutoff_local) - opened_day[late]).astype("timedelta64[s]")
        offset = rng.integers(0, max(int(since_midnight.astype(int).min()), 1), size=late.sum())
        opened_local[late] = opened_day[late] + offset.astype("timedelta64[s]")
        hour[late] = (offset // 3600).astype(hour.dtype)
    opened_utc = _utc(opened_local)

    type_index = rng.choice(len(REQUEST_TYPES), size=n, p=_weights(REQUEST_TYPES, 2))
    types = np.array([t[0] for t in REQUEST_TYPES], dtype=object)[type_index]
    departments = np.array([t[1] for t in REQUEST_TYPES], dtype=object)[type_index]
    located_type = np.array([t[3] for t in REQUEST_TYPES])[type_index]

    area_index = rng.choice(len(LOCAL_AREAS), size=n, p=_weights(LOCAL_AREAS, 3))
    known_area = rng.random(n) >= np.where(located_type, 0.05, 0.45)
    local_area_id = np.where(known_area, area_index + 1, 0)
    has_location = known_area & located_type & (rng.random(n) < 0.8)
    lon, lat = _locations(rng, area_index, has_location, boundaries)

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
    is_open = long_open | (closed_date > np.datetime64(cutoff_local.date()))
    reasons = np.array([r[0] for r in CLOSURE_REASONS], dtype=object)[
        rng.choice(len(CLOSURE_REASONS), size=n, p=_weights(CLOSURE_REASONS, 1))
    ]
    flagged = before_open | (rng.random(n) < 0.004)
    close_hour = rng.integers(8, 17, size=n).astype("timedelta64[h]")
    closed_local = np.minimum(
        closed_date.astype("datetime64[us]") + close_hour, np.datetime64(cutoff_local)
    )
    last_modified = _utc(np.where(is_open, opened_local, closed_local).astype("datetime64[us]"))

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
            "opened_at": opened_utc,
            "opened_date_local": opened_date,
            "opened_hour_local": hour.astype("int32"),
            "closed_date": pd.Series(closed_date).where(~is_open),
            "days_to_close": pd.Series(days_to_close, dtype="Int32").where(~is_open),
            "is_open": is_open,
            "latitude": pd.Series(lat).where(has_location),
            "longitude": pd.Series(lon).where(has_location),
            "last_modified_at": last_modified,
            "is_closed_before_opened": before_open & ~is_open,
            "has_location": has_location,
            "has_quality_issues": flagged,
        }
    )


_GOLD_DDL = """
CREATE SCHEMA gold;
CREATE SCHEMA meta;
CREATE TABLE gold.dim_local_areas (
    local_area_id INTEGER, local_area_name VARCHAR, is_unknown BOOLEAN,
    boundary_geojson VARCHAR, centroid_latitude DOUBLE, centroid_longitude DOUBLE);
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
    published_at TIMESTAMPTZ, load_id VARCHAR, source_last_modified_at TIMESTAMPTZ,
    portal_url VARCHAR, is_sample BOOLEAN);
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

# The definitions of dbt's gold.agg_requests_daily and gold.agg_resolution_times: a request is
# in the backlog from its opening day until the day before it closes, a close date before the
# opening day counts as closing on the opening day, and closed-before-opened requests are left out
# of the durations.
_AGGREGATES_SQL = """
INSERT INTO gold.agg_requests_daily
WITH requests AS (
    SELECT local_area_id, request_type_id, opened_date_local,
           coalesce(is_open, true) AS is_open,
           CASE WHEN NOT coalesce(is_open, true) THEN closed_date END AS closed_date
    FROM gold.fct_service_requests
), moves AS (
    SELECT local_area_id, request_type_id, opened_date_local AS date_local, 1 AS opened,
           0 AS closed,
           CASE WHEN is_open THEN 1
                WHEN closed_date IS NULL OR closed_date <= opened_date_local THEN 0
                ELSE 1 END AS backlog_change
    FROM requests WHERE opened_date_local IS NOT NULL
    UNION ALL
    SELECT local_area_id, request_type_id, closed_date, 0, 1,
           CASE WHEN opened_date_local < closed_date THEN -1 ELSE 0 END
    FROM requests WHERE closed_date IS NOT NULL
), daily AS (
    SELECT date_local, local_area_id, request_type_id, sum(opened) AS opened_count,
           sum(closed) AS closed_count, sum(backlog_change) AS backlog_change
    FROM moves GROUP BY ALL
)
SELECT date_local, local_area_id, request_type_id, opened_count::BIGINT,
       closed_count::BIGINT,
       (sum(backlog_change) OVER (PARTITION BY local_area_id, request_type_id
                                  ORDER BY date_local))::BIGINT
FROM daily;
INSERT INTO gold.agg_resolution_times
SELECT date_trunc('month', closed_date)::DATE, request_type_id, count(*),
       quantile_cont(CASE WHEN NOT is_closed_before_opened THEN days_to_close END, 0.5),
       quantile_cont(CASE WHEN NOT is_closed_before_opened THEN days_to_close END, 0.9)
FROM gold.fct_service_requests
WHERE NOT is_open AND closed_date IS NOT NULL
GROUP BY ALL;
"""


def _dims(con: duckdb.DuckDBPyConnection, boundaries: dict[str, _Area] | None) -> None:
    areas = [(0, UNKNOWN_AREA, True, None, None, None)]
    for i, (name, *_) in enumerate(LOCAL_AREAS):
        area = boundaries[name] if boundaries else None
        areas.append(
            (i + 1, name, False)
            + ((json.dumps(area.geometry), area.latitude, area.longitude) if area else (None,) * 3)
        )
    con.executemany("INSERT INTO gold.dim_local_areas VALUES (?, ?, ?, ?, ?, ?)", areas)
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
        "INSERT INTO meta.publish SELECT ?, ?, max(last_modified_at), ?, ? "
        "FROM gold.fct_service_requests",
        [spec.published_at, spec.load_id, spec.portal_url, spec.is_sample],
    )
    url = f"{spec.portal_url}/api/explore/v2.1/catalog/datasets/3-1-1-service-requests"
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
    boundaries = _read_boundaries(spec.boundaries) if spec.boundaries else None
    facts = _fact_frame(spec, boundaries)
    con = duckdb.connect(str(partial))
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(_GOLD_DDL)
        _dims(con, boundaries)
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

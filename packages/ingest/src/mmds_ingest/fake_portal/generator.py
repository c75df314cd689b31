"""Realistic 3-1-1 service requests at any size: numpy-vectorised, chunked, deterministic.

`generate_batches` yields Arrow record batches with typed columns (timestamps in UTC), which
the fake portal stores; `generate_records` returns small samples shaped as the portal's JSON.
The same seed, row count and span always give the same rows, whatever the caller does with them.
"""

from collections.abc import Iterator
from datetime import UTC, date, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mmds_ingest.fake_portal import vocabulary as v
from mmds_ingest.fake_portal.areas import areas, inside
from mmds_ingest.fake_portal.span import DEFAULT_END, DEFAULT_START

LOCAL_TZ = "America/Vancouver"
CHUNK_ROWS = 100_000
PLACE_STREAM = 7  # the random stream that places points inside their area

_US_PER_SECOND = 1_000_000
_US_PER_DAY = 86_400 * _US_PER_SECOND
_UTC_US = pa.timestamp("us", tz="UTC")

SCHEMA = pa.schema(
    [
        ("department", pa.string()),
        ("service_request_type", pa.string()),
        ("status", pa.string()),
        ("closure_reason", pa.string()),
        ("service_request_open_timestamp", _UTC_US),
        ("service_request_close_date", pa.date32()),
        ("last_modified_timestamp", _UTC_US),
        ("address", pa.string()),
        ("local_area", pa.string()),
        ("channel", pa.string()),
        ("latitude", pa.float64()),
        ("longitude", pa.float64()),
    ]
)

# Shares of the quirks PORTAL.md describes.
SAME_DAY_SHARE = 0.20  # closed within hours
LONG_OPEN_SHARE = 0.012  # stay open for months
MEDIAN_DAYS_TO_CLOSE = 3.8  # of the log-normal body
DAYS_TO_CLOSE_SIGMA = 1.25
ZERO_SECONDS_SHARE = 0.46  # open timestamps typed in by an agent, to the minute
LATE_EDIT_SHARE = 0.005  # closed rows edited again 1 to 24 months later
CLOSE_BEFORE_OPEN_SHARE = 1e-4
MODIFIED_BEFORE_OPEN_SHARE = 1e-4
IDENTICAL_TWIN_SHARE = 8e-4  # rows agreeing on every descriptive field with their neighbour
OPEN_WITH_REASON_SHARE = 0.03  # open rows whose closure reason is not N/A
LOCATED_WITHOUT_AREA_SHARE = 0.002
NON_ASCII_ADDRESS_SHARE = 0.002


def _weights(values: list[float] | tuple[float, ...]) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    return array / array.sum()


def _strings(indices: np.ndarray, dictionary: list[str], valid: np.ndarray | None = None):
    """Map integer codes to a string array without building Python strings per row."""
    mask = None if valid is None else ~valid
    codes = pa.array(indices.astype(np.int32), mask=mask)
    return pa.DictionaryArray.from_arrays(codes, pa.array(dictionary)).cast(pa.string())


class _Tables:
    """Lookup arrays built once per generator call from the vocabulary."""

    def __init__(self) -> None:
        types = v.REQUEST_TYPES
        self.departments = sorted({t.department for t in types})
        department_code = {name: i for i, name in enumerate(self.departments)}
        self.type_department = np.array([department_code[t.department] for t in types])
        self.type_names = [t.service_request_type for t in types]
        self.type_p = _weights([t.weight for t in types])
        self.type_located = np.array([t.located for t in types])
        unlocated = np.maximum(1.0 - self.type_located, 1e-9)
        self.type_area_null_if_unlocated = np.clip(
            np.array([t.area_null for t in types]) / unlocated, 0.0, 1.0
        )
        self.area_names = [a[0] for a in v.LOCAL_AREAS]
        self.area_p = _weights([a[1] for a in v.LOCAL_AREAS])
        self.areas = [areas()[name] for name in self.area_names]
        self.area_lon = np.array([area.centroid[0] for area in self.areas])
        self.area_lat = np.array([area.centroid[1] for area in self.areas])
        self.channel_names = [c[0] for c in v.CHANNELS]
        self.channel_p = _weights([c[1] for c in v.CHANNELS])
        self.reason_names = [r[0] for r in v.CLOSURE_REASONS] + [v.OPEN_CLOSURE_REASON]
        self.reason_p = _weights([r[1] for r in v.CLOSURE_REASONS])
        self.streets = list(v.STREETS) + list(v.NON_ASCII_STREETS)
        self.hour_p = _weights(v.OPEN_HOUR_WEIGHTS)


def _local_days(start: date, end: datetime) -> tuple[np.ndarray, np.ndarray]:
    """Local calendar days of the span as epoch days, and their seasonal weights."""
    last = end.astimezone(UTC).date()
    days = np.arange(np.datetime64(start, "D"), np.datetime64(last, "D") + 1)
    if days.size == 0:
        raise ValueError(f"the span is empty: start {start} is after end {end.isoformat()}")
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    month = days.astype("datetime64[M]").astype(np.int64) % 12
    weights = np.asarray(v.WEEKDAY_WEIGHTS)[weekday] * np.asarray(v.MONTH_WEIGHTS)[month]
    return days.astype(np.int64), weights / weights.sum()


def _to_utc(local_us: np.ndarray) -> np.ndarray:
    """Read naive local (America/Vancouver) microseconds as instants; return UTC microseconds."""
    naive = pa.array(local_us, type=pa.timestamp("us"))
    aware = pc.assume_timezone(naive, LOCAL_TZ, ambiguous="earliest", nonexistent="latest")
    return aware.cast(pa.int64()).to_numpy(zero_copy_only=False).copy()


def _local_dates(utc_us: np.ndarray) -> np.ndarray:
    """Local calendar dates (epoch days) of UTC instants."""
    aware = pa.array(utc_us, type=pa.timestamp("us", tz=LOCAL_TZ))
    local = pc.local_timestamp(aware).cast(pa.int64()).to_numpy(zero_copy_only=False)
    return np.floor_divide(local, _US_PER_DAY)


def _place_inside(
    rng: np.random.Generator, t: _Tables, area: np.ndarray, lat: np.ndarray, lon: np.ndarray
) -> None:
    """Move every point that fell outside its area's polygon to one drawn inside it, in place:
    again around the centroid, and after a few misses anywhere in the area's bounding box."""
    for code, region in enumerate(t.areas):
        rows = np.flatnonzero(area == code)
        for attempt in range(1_000):
            outside = rows[~inside(region, lon[rows], lat[rows])]
            if outside.size == 0:
                break
            if attempt < 8:
                lat[outside] = np.round(t.area_lat[code] + rng.normal(0.0, 0.007, outside.size), 11)
                lon[outside] = np.round(t.area_lon[code] + rng.normal(0.0, 0.011, outside.size), 11)
            else:  # a narrow area: uniform over its box
                ring = np.concatenate(region.rings)
                (west, south), (east, north) = ring.min(axis=0), ring.max(axis=0)
                lat[outside] = np.round(rng.uniform(south, north, outside.size), 11)
                lon[outside] = np.round(rng.uniform(west, east, outside.size), 11)
            rows = outside


def _chunk(
    rng: np.random.Generator,
    place_rng: np.random.Generator,
    n: int,
    tables: _Tables,
    days,
    day_p,
    now_us: int,
) -> pa.RecordBatch:
    t = tables
    # When: seasonal day, office-hour skewed hour, whole seconds (often zero).
    day = days[rng.choice(days.size, n, p=day_p)]
    seconds = np.where(rng.random(n) < ZERO_SECONDS_SHARE, 0, rng.integers(0, 60, n))
    local_us = (
        day * 86_400 + rng.choice(24, n, p=t.hour_p) * 3600 + rng.integers(0, 60, n) * 60 + seconds
    ) * _US_PER_SECOND
    opened = _to_utc(local_us)
    too_late = opened >= now_us
    opened[too_late] = now_us - rng.integers(60, 86_400, too_late.sum()) * _US_PER_SECOND

    # What and where.
    kind = rng.choice(len(t.type_names), n, p=t.type_p)
    located = rng.random(n) < t.type_located[kind]
    area = rng.choice(len(t.area_names), n, p=t.area_p)
    area_null = np.where(
        located,
        rng.random(n) < LOCATED_WITHOUT_AREA_SHARE,
        rng.random(n) < t.type_area_null_if_unlocated[kind],
    )
    latitude = np.round(t.area_lat[area] + rng.normal(0.0, 0.007, n), 11)
    longitude = np.round(t.area_lon[area] + rng.normal(0.0, 0.011, n), 11)
    # Its own random stream: how many points need drawing again then changes no other column.
    _place_inside(place_rng, t, area, latitude, longitude)
    house = rng.integers(1, 80, n) * 100 + rng.integers(0, 100, n)
    street = rng.integers(0, len(v.STREETS), n)
    rare = rng.random(n) < NON_ASCII_ADDRESS_SHARE
    street[rare] = len(v.STREETS) + rng.integers(0, len(v.NON_ASCII_STREETS), rare.sum())
    channel = rng.choice(len(t.channel_names), n, p=t.channel_p)

    # How long it takes: same-day, log-normal body, and a long tail that stays open.
    days_to_close = np.exp(rng.normal(np.log(MEDIAN_DAYS_TO_CLOSE), DAYS_TO_CLOSE_SIGMA, n))
    shape = rng.random(n)
    days_to_close[shape < SAME_DAY_SHARE] = rng.uniform(0.0, 0.3, (shape < SAME_DAY_SHARE).sum())
    long_open = shape > 1.0 - LONG_OPEN_SHARE
    days_to_close[long_open] = rng.uniform(45.0, 900.0, long_open.sum())

    # Neighbours that agree on every descriptive field (the source has no key).
    source = np.arange(n)
    twin = rng.random(n) < IDENTICAL_TWIN_SHARE
    twin[0] = False
    source[twin] = source[twin] - 1
    for column in (opened, kind, located, area, area_null, latitude, longitude, house, street):
        column[:] = column[source]
    channel, days_to_close = channel[source], days_to_close[source]

    closed_at = opened + (days_to_close * _US_PER_DAY).astype(np.int64)
    closed_at -= closed_at % _US_PER_SECOND
    is_closed = closed_at <= now_us
    close_date = _local_dates(closed_at)
    backwards = is_closed & (rng.random(n) < CLOSE_BEFORE_OPEN_SHARE)
    close_date[backwards] = _local_dates(opened[backwards]) - rng.integers(1, 4, backwards.sum())

    reason = rng.choice(len(t.reason_names) - 1, n, p=t.reason_p)
    open_na = ~is_closed & (rng.random(n) >= OPEN_WITH_REASON_SHARE)
    reason[open_na] = len(t.reason_names) - 1

    lag_s = rng.exponential(1800.0, n).astype(np.int64)
    modified = np.where(is_closed, closed_at, opened) + lag_s * _US_PER_SECOND
    late = is_closed & (rng.random(n) < LATE_EDIT_SHARE)
    modified[late] += rng.integers(30 * 86_400, 730 * 86_400, late.sum()) * _US_PER_SECOND
    modified = np.minimum(modified, now_us)
    early = rng.random(n) < MODIFIED_BEFORE_OPEN_SHARE
    modified[early] = opened[early] - rng.integers(3600, 5 * 86_400, early.sum()) * _US_PER_SECOND

    address = pc.binary_join_element_wise(
        pa.array(house).cast(pa.string()), _strings(street, t.streets), " "
    )
    return pa.RecordBatch.from_arrays(
        [
            _strings(t.type_department[kind], t.departments),
            _strings(kind, t.type_names),
            _strings(np.where(is_closed, 1, 0), ["Open", "Close"]),
            _strings(reason, t.reason_names),
            pa.array(opened, type=_UTC_US),
            pa.array(close_date.astype(np.int32), type=pa.date32(), mask=~is_closed),
            pa.array(modified, type=_UTC_US),
            pc.if_else(pa.array(located), address, pa.nulls(n, pa.string())),
            _strings(area, t.area_names, valid=~area_null),
            _strings(channel, t.channel_names),
            pa.array(latitude, mask=~located),
            pa.array(longitude, mask=~located),
        ],
        schema=SCHEMA,
    )


def generate_batches(
    rows: int,
    seed: int = 0,
    start: date = DEFAULT_START,
    end: datetime = DEFAULT_END,
    chunk_rows: int = CHUNK_ROWS,
) -> Iterator[pa.RecordBatch]:
    """Yield `rows` requests opened between `start` (local date) and `end` (the data's "now").

    Batches hold at most `chunk_rows` rows, so memory stays bounded at any size. Rows are
    deterministic for (rows, seed, start, end, chunk_rows). Statuses are as seen at `end`.
    """
    if rows < 0:
        raise ValueError(f"rows must be zero or more, got {rows}")
    if end.tzinfo is None:
        raise ValueError(f"end must carry a time zone, got {end.isoformat()}")
    tables = _Tables()
    days, day_p = _local_days(start, end)
    now_us = int(end.timestamp()) * _US_PER_SECOND
    for index, offset in enumerate(range(0, rows, chunk_rows)):
        rng = np.random.default_rng([seed, index])
        place_rng = np.random.default_rng([seed, index, PLACE_STREAM])
        yield _chunk(rng, place_rng, min(chunk_rows, rows - offset), tables, days, day_p, now_us)


def _json_value(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def generate_records(
    rows: int, seed: int = 0, start: date = DEFAULT_START, end: datetime = DEFAULT_END
) -> list[dict]:
    """Return `rows` requests as the portal's JSON export sends them (UTC, with `geom`).

    Meant for small fixtures; use `generate_batches` for large volumes.
    """
    records = []
    for batch in generate_batches(rows, seed, start, end):
        for row in batch.to_pylist():
            record = {name: _json_value(value) for name, value in row.items()}
            located = record["latitude"] is not None
            record["geom"] = (
                {"lon": record["longitude"], "lat": record["latitude"]} if located else None
            )
            records.append(record)
    return records

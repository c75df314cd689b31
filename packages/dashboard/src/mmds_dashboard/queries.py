"""The dashboard's query layer: every number on every page comes from a function here.

All SQL is constant text; filter values are bound as named parameters and never reach the SQL.
The filter logic lives once, in the `scoped(...)` table macro (a temporary macro of the
connection), so every query scopes requests the same way. Each `load_*` function runs the queries
behind one page on one connection; `bench/dashboard.py` times exactly these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import duckdb
import pandas as pd

from mmds_dashboard.filters import FilterOptions, Filters

Grain = Literal["day", "week"]
MAP_CELL_DEGREES = 0.002  # about 200 m north-south: Vancouver fits in a few thousand cells

# Requests matching the dimension filters (not the dates: queries compare dates themselves).
_SCOPED_MACRO = """
CREATE OR REPLACE TEMP MACRO scoped(areas, departments, request_types, channels) AS TABLE
SELECT f.*
FROM gold.fct_service_requests AS f
WHERE (len(areas) = 0 OR f.local_area_id IN (
        SELECT local_area_id FROM gold.dim_local_areas
        WHERE list_contains(areas, local_area_name)))
  AND (len(departments) = 0 OR list_contains(departments, f.department))
  AND (len(request_types) = 0 OR f.request_type_id IN (
        SELECT request_type_id FROM gold.dim_request_types
        WHERE list_contains(request_types, request_type)))
  AND (len(channels) = 0 OR list_contains(channels, f.channel))
"""
_SCOPE = (
    "scoped($areas::VARCHAR[], $departments::VARCHAR[], "
    "$request_types::VARCHAR[], $channels::VARCHAR[])"
)


def _query(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> pd.DataFrame:
    con.execute(_SCOPED_MACRO)
    return con.execute(sql.replace("{scope}", _SCOPE), params).df()


def _params(filters: Filters, *, previous: bool = False, **extra: Any) -> dict[str, Any]:
    """Bound parameters of a query: the filters, the range, the previous period if used."""
    params = {
        "areas": list(filters.areas),
        "departments": list(filters.departments),
        "request_types": list(filters.request_types),
        "channels": list(filters.channels),
        "start": filters.start,
        "end": filters.end,
        **extra,
    }
    if previous:
        params["prev_start"], params["prev_end"] = filters.previous_period()
    return params


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, table],
    ).fetchone()
    return bool(row and row[0])


def filter_options(con: duckdb.DuckDBPyConnection) -> FilterOptions | None:
    """The values each filter offers, or None when gold holds no request yet."""
    first, last = con.execute(
        "SELECT min(opened_date_local), max(opened_date_local) FROM gold.fct_service_requests"
    ).fetchone() or (None, None)
    if first is None or last is None:
        return None

    def column(sql: str) -> tuple[str, ...]:
        return tuple(row[0] for row in con.execute(sql).fetchall())

    return FilterOptions(
        first_date=first,
        last_date=last,
        areas=column(
            "SELECT local_area_name FROM gold.dim_local_areas ORDER BY is_unknown, local_area_name"
        ),
        departments=column(
            "SELECT DISTINCT department FROM gold.fct_service_requests "
            "WHERE department IS NOT NULL ORDER BY 1"
        ),
        request_types=column(
            "SELECT DISTINCT request_type FROM gold.dim_request_types "
            "WHERE request_type IS NOT NULL ORDER BY 1"
        ),
        channels=column(
            "SELECT DISTINCT channel FROM gold.fct_service_requests "
            "WHERE channel IS NOT NULL ORDER BY 1"
        ),
    )


@dataclass(frozen=True)
class Freshness:
    """When the serving file was published and how new its data is."""

    published_at: datetime | None
    load_id: str | None
    source_last_modified_at: datetime | None


def freshness(con: duckdb.DuckDBPyConnection) -> Freshness:
    """The publish row of the serving file."""
    row = con.execute(
        "SELECT published_at, load_id, source_last_modified_at FROM meta.publish "
        "ORDER BY published_at DESC LIMIT 1"
    ).fetchone()
    return Freshness(*row) if row else Freshness(None, None, None)


_KPIS_SQL = """
SELECT * EXCLUDE (now, prev),
       now[1] AS median_days_to_close, prev[1] AS median_days_to_close_prev,
       now[2] AS p90_days_to_close, prev[2] AS p90_days_to_close_prev
FROM (SELECT
    count(*) FILTER (WHERE opened_date_local BETWEEN $start AND $end) AS opened,
    count(*) FILTER (WHERE opened_date_local BETWEEN $prev_start AND $prev_end) AS opened_prev,
    count(*) FILTER (WHERE closed_date BETWEEN $start AND $end) AS closed,
    count(*) FILTER (WHERE closed_date BETWEEN $prev_start AND $prev_end) AS closed_prev,
    count(*) FILTER (WHERE opened_date_local <= $end AND (is_open OR closed_date > $end))
        AS open_backlog,
    count(*) FILTER (WHERE opened_date_local <= $prev_end
                       AND (is_open OR closed_date > $prev_end)) AS open_backlog_prev,
    quantile_cont(days_to_close, [0.5, 0.9]) FILTER (
        WHERE closed_date BETWEEN $start AND $end AND NOT is_closed_before_opened) AS now,
    quantile_cont(days_to_close, [0.5, 0.9]) FILTER (
        WHERE closed_date BETWEEN $prev_start AND $prev_end AND NOT is_closed_before_opened)
        AS prev
FROM {scope}
WHERE opened_date_local <= $end)
"""


def overview_kpis(con: duckdb.DuckDBPyConnection, filters: Filters) -> dict[str, float | None]:
    """Opened, closed, open backlog at the end, median and p90 days to close (of requests closed
    in the range, closed-before-opened excluded): each for the range and, with the suffix
    `_prev`, for the previous period of the same length."""
    row = _query(con, _KPIS_SQL, _params(filters, previous=True)).iloc[0]
    return {key: (None if pd.isna(value) else float(value)) for key, value in row.items()}


_CHANNELS_SQL = """
WITH counts AS (
    SELECT coalesce(channel, 'Unknown') AS channel,
           count(*) FILTER (WHERE opened_date_local BETWEEN $start AND $end) AS opened,
           count(*) FILTER (WHERE opened_date_local BETWEEN $prev_start AND $prev_end)
               AS opened_prev
    FROM {scope}
    WHERE opened_date_local BETWEEN $prev_start AND $end
    GROUP BY ALL
)
SELECT channel, opened,
       opened / nullif(sum(opened) OVER (), 0) AS share,
       opened_prev / nullif(sum(opened_prev) OVER (), 0) AS share_prev
FROM counts
ORDER BY opened DESC, channel
"""


def channel_shares(con: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
    """Requests opened per channel with their share, now and in the previous period."""
    return _query(con, _CHANNELS_SQL, _params(filters, previous=True))


_SERIES_SQL = """
WITH periods AS (
    SELECT CAST(p AS DATE) AS period_start
    FROM generate_series(
        CAST(date_trunc($grain, $start::DATE) AS DATE), $end::DATE,
        to_days(CASE WHEN $grain = 'week' THEN 7 ELSE 1 END)) AS g(p)
), opened AS (
    SELECT CAST(date_trunc($grain, opened_date_local) AS DATE) AS period_start, count(*) AS n
    FROM {scope} WHERE opened_date_local BETWEEN $start AND $end GROUP BY ALL
), closed AS (
    SELECT CAST(date_trunc($grain, closed_date) AS DATE) AS period_start, count(*) AS n
    FROM {scope} WHERE closed_date BETWEEN $start AND $end GROUP BY ALL
)
SELECT p.period_start, coalesce(o.n, 0) AS opened, coalesce(c.n, 0) AS closed
FROM periods AS p
LEFT JOIN opened AS o USING (period_start)
LEFT JOIN closed AS c USING (period_start)
ORDER BY p.period_start
"""


def opened_closed_series(
    con: duckdb.DuckDBPyConnection, filters: Filters, grain: Grain
) -> pd.DataFrame:
    """Requests opened and closed per day or per week (weeks start on Monday) in the range."""
    if grain not in ("day", "week"):
        raise ValueError(f"grain must be 'day' or 'week', not {grain!r}")
    return _query(con, _SERIES_SQL, _params(filters, grain=grain))


_AREAS_SQL = """
WITH requests AS NOT MATERIALIZED (
    SELECT local_area_id, opened_date_local, closed_date, is_open, days_to_close,
           is_closed_before_opened
    FROM {scope}
    WHERE opened_date_local <= $end
), weeks AS (
    SELECT CAST(w AS DATE) AS week
    FROM generate_series(CAST(date_trunc('week', $start::DATE) AS DATE), $end::DATE,
                         INTERVAL 7 DAY) AS g(w)
), weekly AS (
    SELECT local_area_id, CAST(date_trunc('week', opened_date_local) AS DATE) AS week,
           count(*) AS n
    FROM requests WHERE opened_date_local BETWEEN $start AND $end GROUP BY ALL
), sparklines AS (
    SELECT a.local_area_id, list(coalesce(w.n, 0) ORDER BY weeks.week) AS weekly_opened
    FROM gold.dim_local_areas AS a
    CROSS JOIN weeks
    LEFT JOIN weekly AS w ON w.local_area_id = a.local_area_id AND w.week = weeks.week
    GROUP BY a.local_area_id
), totals AS (
    SELECT local_area_id,
           count(*) FILTER (WHERE opened_date_local BETWEEN $start AND $end) AS opened,
           count(*) FILTER (WHERE opened_date_local BETWEEN $prev_start AND $prev_end)
               AS opened_prev,
           count(*) FILTER (WHERE is_open OR closed_date > $end) AS open_backlog,
           quantile_cont(days_to_close, 0.5) FILTER (
               WHERE closed_date BETWEEN $start AND $end AND NOT is_closed_before_opened)
               AS median_days_to_close
    FROM requests GROUP BY local_area_id
)
SELECT a.local_area_name AS local_area, a.is_unknown,
       coalesce(t.opened, 0) AS opened, coalesce(t.opened_prev, 0) AS opened_prev,
       coalesce(t.open_backlog, 0) AS open_backlog, t.median_days_to_close,
       s.weekly_opened
FROM gold.dim_local_areas AS a
LEFT JOIN totals AS t USING (local_area_id)
LEFT JOIN sparklines AS s USING (local_area_id)
ORDER BY a.is_unknown, opened DESC, local_area
"""


def area_ranking(con: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
    """Every local area (the unknown one last) ranked by requests opened, with the previous
    period, the open backlog at the end, median days to close and weekly opened counts.

    The area filter is ignored: this table is where areas are chosen."""
    return _query(con, _AREAS_SQL, _params(filters.without_areas(), previous=True))


_MAP_SQL = """
SELECT a.local_area_name AS local_area, a.is_unknown,
       round(r.latitude / $cell) * $cell AS cell_latitude,
       round(r.longitude / $cell) * $cell AS cell_longitude,
       count(*) AS requests, sum(r.latitude) AS latitude_sum, sum(r.longitude) AS longitude_sum
FROM {scope} AS r
JOIN gold.dim_local_areas AS a USING (local_area_id)
WHERE r.has_location AND r.latitude IS NOT NULL AND r.longitude IS NOT NULL
  AND r.opened_date_local BETWEEN $start AND $end
GROUP BY ALL
"""


@dataclass(frozen=True)
class MapLayers:
    """Located requests per grid cell, and where to write each area's name."""

    cells: pd.DataFrame
    labels: pd.DataFrame


def map_layers(con: duckdb.DuckDBPyConnection, filters: Filters) -> MapLayers:
    """Located requests opened in the range, counted per cell of `MAP_CELL_DEGREES`, and each
    known area's label at the centre of its located requests (one scan for both)."""
    per_area_cell = _query(con, _MAP_SQL, _params(filters, cell=MAP_CELL_DEGREES))
    cells = (
        per_area_cell.groupby(["cell_latitude", "cell_longitude"], as_index=False)["requests"]
        .sum()
        .rename(columns={"cell_latitude": "latitude", "cell_longitude": "longitude"})
    )
    areas = (
        per_area_cell[~per_area_cell["is_unknown"].astype(bool)]
        .groupby("local_area", as_index=False)[["requests", "latitude_sum", "longitude_sum"]]
        .sum()
    )
    labels = pd.DataFrame(
        {
            "local_area": areas["local_area"],
            "latitude": areas["latitude_sum"] / areas["requests"],
            "longitude": areas["longitude_sum"] / areas["requests"],
            "requests": areas["requests"],
        }
    )
    return MapLayers(cells=cells, labels=labels)


_TYPES_SQL = """
WITH per_type AS (
    SELECT request_type_id,
           count(*) FILTER (WHERE opened_date_local BETWEEN $start AND $end) AS opened,
           count(*) FILTER (WHERE closed_date BETWEEN $start AND $end) AS closed,
           quantile_cont(days_to_close, [0.5, 0.9]) FILTER (
               WHERE closed_date BETWEEN $start AND $end AND NOT is_closed_before_opened)
               AS days_to_close
    FROM {scope}
    WHERE opened_date_local BETWEEN $start AND $end OR closed_date BETWEEN $start AND $end
    GROUP BY request_type_id
)
SELECT d.request_type, d.category, d.department, d.business_unit, d.is_deprecated,
       t.opened, t.closed, t.days_to_close[1] AS median_days_to_close,
       t.days_to_close[2] AS p90_days_to_close
FROM per_type AS t
JOIN gold.dim_request_types AS d USING (request_type_id)
WHERE t.opened > 0 OR t.closed > 0
ORDER BY t.opened DESC, t.closed DESC, d.request_type
"""


def type_summary(con: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
    """Per request type: opened and closed in the range, median and p90 days to close."""
    return _query(con, _TYPES_SQL, _params(filters))


_DEPARTMENTS_SQL = """
SELECT coalesce(department, 'Unknown') AS department, count(*) AS opened,
       count(*) / sum(count(*)) OVER () AS share
FROM {scope}
WHERE opened_date_local BETWEEN $start AND $end
GROUP BY ALL
ORDER BY opened DESC, department
"""


def department_summary(con: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
    """Requests opened per department in the range, with their share."""
    return _query(con, _DEPARTMENTS_SQL, _params(filters))


def load_history(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every published load, newest first (empty if the audit table was not published)."""
    if not _table_exists(con, "meta", "loads"):
        return pd.DataFrame()
    return con.execute(
        "SELECT load_id, started_at, finished_at, mode, status, rows_received, rows_inserted, "
        "rows_updated, rows_unchanged, rows_flagged, portal_total_count, message "
        "FROM meta.loads ORDER BY started_at DESC"
    ).df()


def layer_row_counts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Rows per table of each layer (empty if not published)."""
    if not _table_exists(con, "meta", "layer_row_counts"):
        return pd.DataFrame(columns=["layer", "table_name", "row_count"])
    return con.execute(
        "SELECT layer, table_name, row_count FROM meta.layer_row_counts "
        "ORDER BY CASE layer WHEN 'bronze' THEN 0 WHEN 'silver' THEN 1 WHEN 'gold' THEN 2 "
        "ELSE 3 END, table_name"
    ).df()


def dbt_test_results(con: duckdb.DuckDBPyConnection) -> pd.DataFrame | None:
    """dbt test outcomes of the build that made gold, failures first; None if not published."""
    if not _table_exists(con, "meta", "test_results"):
        return None
    return con.execute(
        "SELECT status, test_name, model_name, failures FROM meta.test_results "
        "ORDER BY CASE status WHEN 'fail' THEN 0 WHEN 'warn' THEN 1 ELSE 2 END, test_name"
    ).df()


_QUALITY_SQL = """
WITH flags AS (
    SELECT
        count(*) AS total,
        count(*) FILTER (WHERE has_quality_issues) AS flagged,
        count(*) FILTER (WHERE is_closed_before_opened) AS closed_before_opened,
        count(*) FILTER (WHERE NOT has_location) AS without_location,
        count(*) FILTER (WHERE local_area_id IN (
            SELECT local_area_id FROM gold.dim_local_areas WHERE is_unknown)) AS unknown_area,
        count(*) FILTER (WHERE request_type_id IN (
            SELECT request_type_id FROM gold.dim_request_types WHERE is_deprecated))
            AS deprecated_type,
        count(*) FILTER (WHERE is_open AND opened_date_local < (
            SELECT max(opened_date_local) FROM gold.fct_service_requests) - 90)
            AS open_over_90_days
    FROM gold.fct_service_requests
)
SELECT flag, requests, requests / nullif(total, 0) AS share
FROM flags
UNPIVOT (requests FOR flag IN (flagged, closed_before_opened, without_location, unknown_area,
                               deprecated_type, open_over_90_days))
"""
QUALITY_FLAG_LABELS = {
    "flagged": "Flagged by ingest quality checks",
    "closed_before_opened": "Closed before opened",
    "without_location": "Without a location",
    "unknown_area": "Without a local area",
    "deprecated_type": "Of a deprecated request type",
    "open_over_90_days": "Open for more than 90 days",
}


def quality_flags(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Requests (of all published gold, unfiltered) carrying each quality flag."""
    frame = con.execute(_QUALITY_SQL).df()
    frame["flag"] = frame["flag"].map(QUALITY_FLAG_LABELS)
    return frame


@dataclass(frozen=True)
class OverviewData:
    """Everything the Overview page shows."""

    freshness: Freshness
    kpis: dict[str, float | None]
    channels: pd.DataFrame
    series: pd.DataFrame


@dataclass(frozen=True)
class NeighbourhoodsData:
    """Everything the Neighbourhoods page shows."""

    areas: pd.DataFrame
    cells: pd.DataFrame
    labels: pd.DataFrame


@dataclass(frozen=True)
class RequestTypesData:
    """Everything the Request types page shows."""

    types: pd.DataFrame
    departments: pd.DataFrame


@dataclass(frozen=True)
class DataHealthData:
    """Everything the Data health page shows."""

    freshness: Freshness
    loads: pd.DataFrame
    layers: pd.DataFrame
    tests: pd.DataFrame | None
    quality: pd.DataFrame


def series_grain(filters: Filters) -> Grain:
    """Days for ranges up to 92 days, weeks beyond."""
    return "day" if filters.days <= 92 else "week"


def load_overview(con: duckdb.DuckDBPyConnection, filters: Filters) -> OverviewData:
    """The queries behind the Overview page."""
    return OverviewData(
        freshness=freshness(con),
        kpis=overview_kpis(con, filters),
        channels=channel_shares(con, filters),
        series=opened_closed_series(con, filters, series_grain(filters)),
    )


def load_neighbourhoods(con: duckdb.DuckDBPyConnection, filters: Filters) -> NeighbourhoodsData:
    """The queries behind the Neighbourhoods page."""
    layers = map_layers(con, filters)
    return NeighbourhoodsData(
        areas=area_ranking(con, filters), cells=layers.cells, labels=layers.labels
    )


def load_request_types(con: duckdb.DuckDBPyConnection, filters: Filters) -> RequestTypesData:
    """The queries behind the Request types page."""
    return RequestTypesData(
        types=type_summary(con, filters), departments=department_summary(con, filters)
    )


def load_data_health(con: duckdb.DuckDBPyConnection) -> DataHealthData:
    """The queries behind the Data health page (which ignores the filters)."""
    return DataHealthData(
        freshness=freshness(con),
        loads=load_history(con),
        layers=layer_row_counts(con),
        tests=dbt_test_results(con),
        quality=quality_flags(con),
    )

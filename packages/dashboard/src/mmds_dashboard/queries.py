"""The dashboard's query layer: every number about requests on every page comes from here.

All SQL is constant text; filter values are bound as named parameters and never reach the SQL.
The filters live once, in temporary table macros of the connection:

- `scoped(...)`: the requests of `gold.fct_service_requests` matching every filter but the dates;
- `daily(...)`: requests opened and closed per local day, area and request type. This is
  `gold.agg_requests_daily`, dbt's one definition of "opened per day", whenever it answers the
  question: it has no channel, and a request's department can differ from its type's, so with a
  channel or department filter the same counts are computed from the matching requests, by the
  definition of that model (a test proves both give the same numbers);
- `backlog(...)`: requests open at the end of the range, of the compared days and of the
  previous period, per area and type, likewise.

Counts, rankings, trends and the map's choropleth read `daily`; only what an aggregate cannot
answer scans the fact (quantiles of days to close, channels, departments, the map's points).
Each `load_*` function runs the queries behind one page on one connection; `bench/dashboard.py`
times exactly these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import duckdb
import pandas as pd

from mmds_dashboard.filters import FilterOptions, Filters
from mmds_dashboard.periods import Grain, Periods, periods, series_grain, trend_grain

MAP_CELL_DEGREES = 0.001  # about 110 m north-south, 70 m east-west: the map's point detail
TOP = 10

# The periods every comparison reads, as (column suffix, first day, last day, the backlog
# macros' name for the last day): the range, the compared days and the previous period.
_PERIODS = (
    ("", "$start", "$end", "day"),
    ("_cmp", "$cmp_start", "$cmp_end", "cmp_day"),
    ("_prev", "$prev_start", "$prev_end", "prev_day"),
)
_RANGE_ONLY = _PERIODS[:1]


def _per_period(
    aggregate: str,
    where: str,
    alias: str,
    *,
    or_zero: bool = False,
    periods: tuple[tuple[str, str, str, str], ...] = _PERIODS,
) -> str:
    """Select-list items `aggregate FILTER (WHERE where) AS alias`, one per period, the alias
    suffixed `_cmp` and `_prev`: `where` names the period's `{start}` and `{end}`, or its last
    `{day}`. With `or_zero`, 0 rather than NULL where no row matches."""
    items = []
    for suffix, start, end, day in periods:
        item = f"{aggregate} FILTER (WHERE {where.format(start=start, end=end, day=day)})"
        item = f"coalesce({item}, 0)" if or_zero else item
        items.append(f"{item} AS {alias}{suffix}")
    return ",\n       ".join(items)


_MACROS = """
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
  AND (len(channels) = 0 OR list_contains(channels, f.channel));

CREATE OR REPLACE TEMP MACRO fact_daily(areas, departments, request_types, channels) AS TABLE
SELECT date_local, local_area_id, request_type_id,
       sum(opened)::BIGINT AS opened_count, sum(closed)::BIGINT AS closed_count
FROM (
    SELECT opened_date_local AS date_local, local_area_id, request_type_id,
           1 AS opened, 0 AS closed
    FROM scoped(areas, departments, request_types, channels)
    WHERE opened_date_local IS NOT NULL
    UNION ALL
    SELECT closed_date, local_area_id, request_type_id, 0, 1
    FROM scoped(areas, departments, request_types, channels)
    WHERE NOT coalesce(is_open, true) AND closed_date IS NOT NULL
)
GROUP BY ALL;

CREATE OR REPLACE TEMP MACRO fact_backlog(areas, departments, request_types, channels,
                                         day, cmp_day, prev_day) AS TABLE
SELECT local_area_id, request_type_id,
       {open_backlog}
FROM scoped(areas, departments, request_types, channels)
GROUP BY ALL;
""".replace(
    "{open_backlog}",
    _per_period(
        "count(*)",
        "opened_date_local <= {day} AND (coalesce(is_open, true) OR closed_date > {day})",
        "open_backlog",
    ),
)
_AGGREGATE_MACROS = """
CREATE OR REPLACE TEMP MACRO agg_scoped(areas, request_types) AS TABLE
SELECT d.*
FROM gold.agg_requests_daily AS d
WHERE (len(areas) = 0 OR d.local_area_id IN (
        SELECT local_area_id FROM gold.dim_local_areas
        WHERE list_contains(areas, local_area_name)))
  AND (len(request_types) = 0 OR d.request_type_id IN (
        SELECT request_type_id FROM gold.dim_request_types
        WHERE list_contains(request_types, request_type)));

CREATE OR REPLACE TEMP MACRO agg_daily(areas, request_types) AS TABLE
SELECT date_local, local_area_id, request_type_id, opened_count, closed_count
FROM agg_scoped(areas, request_types);

CREATE OR REPLACE TEMP MACRO agg_backlog(areas, request_types, day, cmp_day, prev_day)
AS TABLE
SELECT local_area_id, request_type_id,
       {open_backlog}
FROM agg_scoped(areas, request_types)
WHERE date_local <= greatest(day, cmp_day, prev_day)
GROUP BY ALL;
""".replace(
    "{open_backlog}",
    _per_period("arg_max(open_backlog_count, date_local)", "date_local <= {day}", "open_backlog"),
)
_FILTERS = (
    "$areas::VARCHAR[], $departments::VARCHAR[], $request_types::VARCHAR[], $channels::VARCHAR[]"
)
_AGG_FILTERS = "$areas::VARCHAR[], $request_types::VARCHAR[]"
_PARAMETER = re.compile(r"\$([a-z_]+)")


@dataclass(frozen=True)
class Source:
    """Where the per-day counts come from: dbt's aggregate, or the fact by the same definition."""

    aggregates: bool

    def expand(self, sql: str) -> str:
        """`sql` with `{requests}`, `{daily}` and `{backlog}` replaced by macro calls."""
        days = "$end, $cmp_end, $prev_end"
        if self.aggregates:
            daily, backlog = f"agg_daily({_AGG_FILTERS})", f"agg_backlog({_AGG_FILTERS}, {days})"
        else:
            daily, backlog = f"fact_daily({_FILTERS})", f"fact_backlog({_FILTERS}, {days})"
        sql = sql.replace("{requests}", f"scoped({_FILTERS})").replace("{daily}", daily)
        return sql.replace("{backlog}", backlog)


def source(con: duckdb.DuckDBPyConnection, filters: Filters) -> Source:
    """Prepare the connection's macros and choose where per-day counts come from: the
    aggregate unless a channel or department filter is set."""
    con.execute(_MACROS)
    con.execute(_AGGREGATE_MACROS)
    return Source(aggregates=not filters.departments and not filters.channels)


def _run(
    con: duckdb.DuckDBPyConnection, src: Source, sql: str, params: dict[str, Any]
) -> pd.DataFrame:
    """Run `sql` (expanded for `src`) with exactly the parameters it names."""
    text = src.expand(sql)
    used = set(_PARAMETER.findall(text))
    return con.execute(text, {k: v for k, v in params.items() if k in used}).df()


def _params(filters: Filters, spans: Periods | None = None, **extra: Any) -> dict[str, Any]:
    """Bound parameters: the filters, the range and, with `spans`, the compared periods (empty
    ones when nothing can be compared)."""
    params: dict[str, Any] = {
        "areas": list(filters.areas),
        "departments": list(filters.departments),
        "request_types": list(filters.request_types),
        "channels": list(filters.channels),
        "start": filters.start,
        "end": filters.end,
        **extra,
    }
    if spans is not None:
        nothing = (filters.start, filters.start - timedelta(days=1))
        params["cmp_start"], params["cmp_end"] = spans.comparison or nothing
        params["prev_start"], params["prev_end"] = spans.previous or nothing
    return params


def filter_options(con: duckdb.DuckDBPyConnection) -> FilterOptions | None:
    """The values each filter offers, or None when gold holds no request yet."""
    first, last = con.execute(
        "SELECT min(opened_date_local), max(opened_date_local) FROM gold.fct_service_requests"
    ).fetchone() or (None, None)
    if first is None or last is None:
        return None

    def column(sql: str) -> tuple[str, ...]:
        return tuple(row[0] for row in con.execute(sql).fetchall())

    publish = publish_info(con)
    data_until = publish.source_last_modified_at
    if data_until is not None and publish.published_at is not None:
        data_until = min(data_until, publish.published_at)  # a stray future stamp is not news
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
        data_until=data_until,
    )


@dataclass(frozen=True)
class Publish:
    """When the serving file was published, from what, and how new its data is."""

    published_at: datetime | None
    load_id: str | None
    source_last_modified_at: datetime | None
    portal_url: str | None = None
    is_sample: bool = False


def publish_info(con: duckdb.DuckDBPyConnection) -> Publish:
    """The newest row of `meta.publish`."""
    row = con.execute(
        "SELECT published_at, load_id, source_last_modified_at, portal_url, is_sample "
        "FROM meta.publish ORDER BY published_at DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return Publish(None, None, None)
    published_at, load_id, source_last_modified_at, portal_url, is_sample = row
    return Publish(
        published_at, load_id, source_last_modified_at, portal_url, is_sample=bool(is_sample)
    )


def area_boundaries(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str | None]]:
    """Each known local area with its boundary (GeoJSON text; NULL if the portal sent none)."""
    return con.execute(
        "SELECT local_area_name, boundary_geojson FROM gold.dim_local_areas "
        "WHERE NOT is_unknown ORDER BY local_area_name"
    ).fetchall()


# Requests opened and closed per day of `{daily}` in each period.
_DAY_IN_PERIOD = "date_local BETWEEN {start} AND {end}"
_OPENED = _per_period("sum(opened_count)", _DAY_IN_PERIOD, "opened", or_zero=True)
_CLOSED = _per_period("sum(closed_count)", _DAY_IN_PERIOD, "closed", or_zero=True)
_CLOSED_IN_RANGE = _per_period(
    "sum(closed_count)", _DAY_IN_PERIOD, "closed", or_zero=True, periods=_RANGE_ONLY
)

# Opened, closed and open backlog in the range, the compared days and the previous period.
_COUNTS_SQL = """
WITH counts AS (
    SELECT {opened},
           {closed}
    FROM {daily}
    WHERE date_local BETWEEN least($prev_start, $start) AND $end
), backlog AS (
    SELECT coalesce(sum(open_backlog), 0) AS open_backlog,
           coalesce(sum(open_backlog_cmp), 0) AS open_backlog_cmp,
           coalesce(sum(open_backlog_prev), 0) AS open_backlog_prev
    FROM {backlog}
)
SELECT * FROM counts CROSS JOIN backlog
""".replace("{opened}", _OPENED).replace("{closed}", _CLOSED)
# Days to close of the requests closed in each span (closed-before-opened left out), as dbt's
# agg_resolution_times defines them; quantiles do not add up, so these read the fact.
_CLOSE_TIMES_SQL = """
SELECT {days_to_close}
FROM {requests}
WHERE closed_date BETWEEN least($prev_start, $start) AND $end
  AND NOT coalesce(is_open, true) AND NOT is_closed_before_opened
""".replace(
    "{days_to_close}",
    _per_period(
        "quantile_cont(days_to_close, [0.5, 0.9])",
        "closed_date BETWEEN {start} AND {end}",
        "days_to_close",
    ),
)


def kpis(
    con: duckdb.DuckDBPyConnection, src: Source, filters: Filters, spans: Periods
) -> dict[str, float | None]:
    """Requests opened, closed, open at the end, median and p90 days to close (of requests
    closed in the range): each for the range, and with the suffixes `_cmp` and `_prev` for the
    compared days and the previous period (None when nothing can be compared)."""
    params = _params(filters, spans)
    counts = _run(con, src, _COUNTS_SQL, params).iloc[0]
    times = _run(con, src, _CLOSE_TIMES_SQL, params).iloc[0]
    result: dict[str, float | None] = {k: float(v) for k, v in counts.items()}
    for suffix in ("", "_cmp", "_prev"):
        quantiles = times[f"days_to_close{suffix}"]
        known = quantiles is not None and quantiles is not pd.NA and len(quantiles) == 2
        median, p90 = (float(q) for q in quantiles) if known else (None, None)
        result[f"median_days_to_close{suffix}"] = median
        result[f"p90_days_to_close{suffix}"] = p90
    if spans.comparison is None:
        result.update({k: None for k in result if k.endswith(("_cmp", "_prev"))})
    return result


_SERIES_SQL = """
WITH periods AS (
    SELECT CAST(p AS DATE) AS period_start
    FROM generate_series(
        CAST(date_trunc($grain, $start::DATE) AS DATE), $end::DATE,
        to_days(CASE WHEN $grain = 'week' THEN 7 ELSE 1 END)) AS g(p)
), counts AS (
    SELECT CAST(date_trunc($grain, date_local) AS DATE) AS period_start,
           sum(opened_count) AS opened, sum(closed_count) AS closed
    FROM {daily}
    WHERE date_local BETWEEN $start AND $end
    GROUP BY ALL
)
SELECT p.period_start, coalesce(c.opened, 0)::BIGINT AS opened,
       coalesce(c.closed, 0)::BIGINT AS closed
FROM periods AS p LEFT JOIN counts AS c USING (period_start)
ORDER BY p.period_start
"""


def opened_closed_series(
    con: duckdb.DuckDBPyConnection, src: Source, filters: Filters, spans: Periods, grain: Grain
) -> pd.DataFrame:
    """Requests opened and closed per day or week (from Monday) in the range, with `is_partial`
    marking periods the range cuts or that hold the partial newest day."""
    if grain not in ("day", "week"):
        raise ValueError(f"grain must be 'day' or 'week', not {grain!r}")
    frame = _run(con, src, _SERIES_SQL, _params(filters, grain=grain))
    starts = pd.to_datetime(frame["period_start"]).dt.date
    frame["is_partial"] = [spans.is_partial(d, grain) for d in starts]
    return frame


# Per area or per request type (`{key}`): opened in the range, the compared days and the
# previous period, closed in the range, and opened per complete period (the trend).
_RANKING_CTES = """
counts AS (
    SELECT {key} AS key,
           {opened},
           {closed}
    FROM {daily}
    WHERE date_local BETWEEN least($prev_start, $start) AND $end
    GROUP BY 1
), trend_periods AS (
    SELECT CAST(p AS DATE) AS period_start
    FROM generate_series($trend_start::DATE, $trend_end::DATE,
                         to_days(CASE WHEN $grain = 'week' THEN 7 ELSE 1 END)) AS g(p)
), trend_counts AS (
    SELECT {key} AS key, CAST(date_trunc($grain, date_local) AS DATE) AS period_start,
           sum(opened_count) AS n
    FROM {daily}
    WHERE date_local BETWEEN $trend_start AND $trend_end
    GROUP BY ALL
), trends AS (
    SELECT k.key, list(coalesce(c.n, 0)::BIGINT ORDER BY p.period_start) AS trend
    FROM (SELECT key FROM counts) AS k
    CROSS JOIN trend_periods AS p
    LEFT JOIN trend_counts AS c ON c.key = k.key AND c.period_start = p.period_start
    GROUP BY k.key
)
""".replace("{opened}", _OPENED).replace("{closed}", _CLOSED_IN_RANGE)
_AREAS_SQL = """
WITH {ranking}, medians AS (
    SELECT local_area_id AS key,
           quantile_cont(days_to_close, 0.5) AS median_days_to_close
    FROM {requests}
    WHERE closed_date BETWEEN $start AND $end
      AND NOT coalesce(is_open, true) AND NOT is_closed_before_opened
    GROUP BY 1
), backlog AS (
    SELECT local_area_id AS key, sum(open_backlog) AS open_backlog
    FROM {backlog} GROUP BY 1
)
SELECT a.local_area_name AS local_area, a.is_unknown,
       coalesce(c.opened, 0)::BIGINT AS opened,
       coalesce(c.opened_cmp, 0)::BIGINT AS opened_cmp,
       coalesce(c.opened_prev, 0)::BIGINT AS opened_prev,
       coalesce(b.open_backlog, 0)::BIGINT AS open_backlog,
       m.median_days_to_close, coalesce(t.trend, []) AS trend
FROM gold.dim_local_areas AS a
LEFT JOIN counts AS c ON c.key = a.local_area_id
LEFT JOIN trends AS t ON t.key = a.local_area_id
LEFT JOIN medians AS m ON m.key = a.local_area_id
LEFT JOIN backlog AS b ON b.key = a.local_area_id
WHERE len($areas::VARCHAR[]) = 0 OR list_contains($areas::VARCHAR[], a.local_area_name)
ORDER BY a.is_unknown, opened DESC, local_area
""".replace("{ranking}", _RANKING_CTES.replace("{key}", "local_area_id"))
_TYPES_SQL = """
WITH {ranking}, times AS (
    SELECT request_type_id AS key,
           quantile_cont(days_to_close, [0.5, 0.9]) AS days_to_close
    FROM {requests}
    WHERE closed_date BETWEEN $start AND $end
      AND NOT coalesce(is_open, true) AND NOT is_closed_before_opened
    GROUP BY 1
)
SELECT d.request_type, d.category, d.department, d.business_unit, d.is_deprecated,
       c.opened::BIGINT AS opened, c.opened_cmp::BIGINT AS opened_cmp,
       c.opened_prev::BIGINT AS opened_prev, c.closed::BIGINT AS closed,
       x.days_to_close[1] AS median_days_to_close, x.days_to_close[2] AS p90_days_to_close,
       coalesce(t.trend, []) AS trend, d.request_type_id
FROM counts AS c
JOIN gold.dim_request_types AS d ON d.request_type_id = c.key
LEFT JOIN trends AS t ON t.key = c.key
LEFT JOIN times AS x ON x.key = c.key
WHERE c.opened > 0 OR c.closed > 0
ORDER BY c.opened DESC, c.closed DESC, d.request_type
""".replace("{ranking}", _RANKING_CTES.replace("{key}", "request_type_id"))


# The Overview's top lists: counts and trends only, all from `daily`.
_TOP_TYPES_SQL = """
WITH {ranking}
SELECT d.category, c.opened::BIGINT AS opened, c.opened_cmp::BIGINT AS opened_cmp,
       c.opened_prev::BIGINT AS opened_prev, coalesce(t.trend, []) AS trend
FROM counts AS c
JOIN gold.dim_request_types AS d ON d.request_type_id = c.key
LEFT JOIN trends AS t ON t.key = c.key
WHERE c.opened > 0
ORDER BY c.opened DESC, c.closed DESC, d.request_type
LIMIT $top
""".replace("{ranking}", _RANKING_CTES.replace("{key}", "request_type_id"))
_TOP_AREAS_SQL = """
WITH {ranking}
SELECT a.local_area_name AS local_area, a.is_unknown, c.opened::BIGINT AS opened,
       c.opened_cmp::BIGINT AS opened_cmp, c.opened_prev::BIGINT AS opened_prev,
       coalesce(t.trend, []) AS trend
FROM counts AS c
JOIN gold.dim_local_areas AS a ON a.local_area_id = c.key
LEFT JOIN trends AS t ON t.key = c.key
WHERE c.opened > 0
ORDER BY a.is_unknown, c.opened DESC, local_area
""".replace("{ranking}", _RANKING_CTES.replace("{key}", "local_area_id"))


def _ranking_params(filters: Filters, spans: Periods) -> dict[str, Any]:
    grain = trend_grain(filters)
    complete = spans.complete_periods(grain) or (filters.start, filters.start - timedelta(days=1))
    return _params(filters, spans, grain=grain, trend_start=complete[0], trend_end=complete[1])


def area_ranking(
    con: duckdb.DuckDBPyConnection, src: Source, filters: Filters, spans: Periods
) -> pd.DataFrame:
    """Every local area the filters choose (the unknown one last), ranked by requests opened,
    with the compared and previous counts, the open backlog at the end, median days to close
    and opened per complete period (`trend`)."""
    return _run(con, src, _AREAS_SQL, _ranking_params(filters, spans))


def top_types(
    con: duckdb.DuckDBPyConnection, src: Source, filters: Filters, spans: Periods
) -> pd.DataFrame:
    """The `TOP` request types by requests opened, with compared and previous counts and the
    trend (what the Overview shows of `type_ranking`, without its fact scans)."""
    return _run(con, src, _TOP_TYPES_SQL, {**_ranking_params(filters, spans), "top": TOP})


def top_areas(
    con: duckdb.DuckDBPyConnection, src: Source, filters: Filters, spans: Periods
) -> pd.DataFrame:
    """The areas with requests opened (the unknown one last), ranked, with compared and
    previous counts and the trend (the Overview's part of `area_ranking`)."""
    return _run(con, src, _TOP_AREAS_SQL, _ranking_params(filters, spans))


def type_ranking(
    con: duckdb.DuckDBPyConnection, src: Source, filters: Filters, spans: Periods
) -> pd.DataFrame:
    """Every request type opened or closed in the range, ranked by requests opened, with the
    compared and previous counts, closed, median and p90 days to close, and the trend."""
    return _run(con, src, _TYPES_SQL, _ranking_params(filters, spans))


_CHANNELS_SQL = """
WITH counts AS (
    SELECT coalesce(channel, 'Unknown') AS channel,
           {opened}
    FROM {requests}
    WHERE opened_date_local BETWEEN least($prev_start, $start) AND $end
    GROUP BY ALL
)
SELECT channel, opened,
       opened / nullif(sum(opened) OVER (), 0) AS share,
       opened_cmp / nullif(sum(opened_cmp) OVER (), 0) AS share_cmp,
       opened_prev / nullif(sum(opened_prev) OVER (), 0) AS share_prev
FROM counts
WHERE opened > 0 OR opened_prev > 0
ORDER BY opened DESC, channel
""".replace(
    "{opened}", _per_period("count(*)", "opened_date_local BETWEEN {start} AND {end}", "opened")
)


def channel_shares(
    con: duckdb.DuckDBPyConnection, src: Source, filters: Filters, spans: Periods
) -> pd.DataFrame:
    """Requests opened per channel with their share in the range, the compared days and the
    previous period (channels are only on the fact)."""
    return _run(con, src, _CHANNELS_SQL, _params(filters, spans))


_DEPARTMENTS_SQL = """
SELECT coalesce(department, 'Unknown') AS department, count(*) AS opened,
       count(*) / sum(count(*)) OVER () AS share
FROM {requests}
WHERE opened_date_local BETWEEN $start AND $end
GROUP BY ALL
ORDER BY opened DESC, department
"""


def department_summary(
    con: duckdb.DuckDBPyConnection, src: Source, filters: Filters
) -> pd.DataFrame:
    """Requests opened per department (the request's own) in the range, with their share."""
    return _run(con, src, _DEPARTMENTS_SQL, _params(filters))


# Median and p90 days to close per month of closing: dbt's agg_resolution_times, or the same
# definition over the matching requests when an area, department or channel filter is set.
_RESOLUTION_AGG_SQL = """
SELECT month_start, request_type_id, closed_count, median_days_to_close, p90_days_to_close
FROM gold.agg_resolution_times
WHERE list_contains($type_ids::VARCHAR[], request_type_id)
  AND month_start BETWEEN CAST(date_trunc('month', $start::DATE) AS DATE) AND $end
ORDER BY month_start, request_type_id
"""
_RESOLUTION_FACT_SQL = """
SELECT CAST(date_trunc('month', closed_date) AS DATE) AS month_start, request_type_id,
       count(*) AS closed_count,
       quantile_cont(CASE WHEN NOT is_closed_before_opened THEN days_to_close END, 0.5)
           AS median_days_to_close,
       quantile_cont(CASE WHEN NOT is_closed_before_opened THEN days_to_close END, 0.9)
           AS p90_days_to_close
FROM {requests}
WHERE list_contains($type_ids::VARCHAR[], request_type_id)
  AND NOT coalesce(is_open, true) AND closed_date IS NOT NULL
  AND closed_date >= CAST(date_trunc('month', $start::DATE) AS DATE)
  AND closed_date < CAST(date_trunc('month', $end::DATE) AS DATE) + INTERVAL 1 MONTH
GROUP BY ALL
ORDER BY month_start, request_type_id
"""


def resolution_by_month(
    con: duckdb.DuckDBPyConnection, src: Source, filters: Filters, type_ids: list[str]
) -> pd.DataFrame:
    """Median and p90 days to close per whole month of closing overlapping the range, for the
    request types `type_ids`: from the aggregate when `src` reads aggregates and no area is
    chosen (agg_resolution_times has no area)."""
    aggregate = src.aggregates and not filters.areas
    sql = _RESOLUTION_AGG_SQL if aggregate else _RESOLUTION_FACT_SQL
    return _run(con, src, sql, _params(filters, type_ids=type_ids))


# Requests opened again after being closed, on a Pacific day of the range: a status version
# `Open` starting where a `Closed` one ends (dbt's fct_request_status_changes), per request type.
# Both versions are first cut to the range's instants, which spares sorting every history.
_REOPENED_SQL = """
WITH reopened AS (
    SELECT o.service_request_id, count(*) AS times
    FROM gold.fct_request_status_changes AS o
    JOIN gold.fct_request_status_changes AS c
      ON c.service_request_id = o.service_request_id AND c.valid_to = o.valid_from
    WHERE o.status = 'Open' AND c.status = 'Closed'
      AND o.valid_from >= timezone('America/Vancouver', $start::TIMESTAMP)
      AND o.valid_from < timezone('America/Vancouver', ($end::DATE + 1)::TIMESTAMP)
      AND c.valid_to >= timezone('America/Vancouver', $start::TIMESTAMP)
      AND c.valid_to < timezone('America/Vancouver', ($end::DATE + 1)::TIMESTAMP)
    GROUP BY 1
)
SELECT d.category, d.department, count(*) AS reopened, sum(r.times)::BIGINT AS reopenings
FROM reopened AS r
JOIN {requests} AS f USING (service_request_id)
JOIN gold.dim_request_types AS d ON d.request_type_id = f.request_type_id
GROUP BY ALL
ORDER BY reopened DESC, d.category, d.department
"""


def reopened_requests(
    con: duckdb.DuckDBPyConnection, src: Source, filters: Filters
) -> pd.DataFrame:
    """Requests matching the filters reopened in the range (closed, then open again), per
    request type: how many requests, and how many reopenings."""
    return _run(con, src, _REOPENED_SQL, _params(filters))


_MAP_POINTS_SQL = """
SELECT round(latitude / $cell) * $cell AS latitude,
       round(longitude / $cell) * $cell AS longitude,
       count(*) AS requests
FROM {requests}
WHERE has_location AND latitude IS NOT NULL AND longitude IS NOT NULL
  AND opened_date_local BETWEEN $start AND $end
GROUP BY ALL
"""


def map_points(con: duckdb.DuckDBPyConnection, src: Source, filters: Filters) -> pd.DataFrame:
    """Located requests opened in the range, counted per cell of `MAP_CELL_DEGREES`."""
    return _run(con, src, _MAP_POINTS_SQL, _params(filters, cell=MAP_CELL_DEGREES))


@dataclass(frozen=True)
class OverviewData:
    """Everything the Overview page shows."""

    publish: Publish
    periods: Periods
    kpis: dict[str, float | None]
    series: pd.DataFrame
    types: pd.DataFrame
    areas: pd.DataFrame
    channels: pd.DataFrame


@dataclass(frozen=True)
class NeighbourhoodsData:
    """Everything the Neighbourhoods page shows: every area (the area filter only zooms), and
    the located requests of the chosen areas when few are chosen."""

    periods: Periods
    areas: pd.DataFrame
    points: pd.DataFrame | None


@dataclass(frozen=True)
class RequestTypesData:
    """Everything the Request types page shows."""

    periods: Periods
    types: pd.DataFrame
    departments: pd.DataFrame
    resolution: pd.DataFrame
    reopened: pd.DataFrame


POINT_DETAIL_MAX_AREAS = 3
RESOLUTION_TYPES = 5


def load_overview(
    con: duckdb.DuckDBPyConnection, filters: Filters, partial_day: date | None
) -> OverviewData:
    """The queries behind the Overview page."""
    spans = periods(filters, partial_day)
    src = source(con, filters)
    return OverviewData(
        publish=publish_info(con),
        periods=spans,
        kpis=kpis(con, src, filters, spans),
        series=opened_closed_series(con, src, filters, spans, series_grain(filters)),
        types=top_types(con, src, filters, spans),
        areas=top_areas(con, src, filters, spans),
        channels=channel_shares(con, src, filters, spans),
    )


def load_neighbourhoods(
    con: duckdb.DuckDBPyConnection, filters: Filters, partial_day: date | None
) -> NeighbourhoodsData:
    """The queries behind the Neighbourhoods page."""
    spans = periods(filters, partial_day)
    everywhere = filters.without_areas()
    areas = area_ranking(con, source(con, everywhere), everywhere, spans)
    points = None
    if 0 < len(filters.areas) <= POINT_DETAIL_MAX_AREAS:
        points = map_points(con, source(con, filters), filters)
    return NeighbourhoodsData(periods=spans, areas=areas, points=points)


def load_request_types(
    con: duckdb.DuckDBPyConnection, filters: Filters, partial_day: date | None
) -> RequestTypesData:
    """The queries behind the Request types page."""
    spans = periods(filters, partial_day)
    src = source(con, filters)
    types = type_ranking(con, src, filters, spans)
    top = list(types["request_type_id"].head(RESOLUTION_TYPES))
    return RequestTypesData(
        periods=spans,
        types=types,
        departments=department_summary(con, src, filters),
        resolution=resolution_by_month(con, src, filters, top).merge(
            types[["request_type_id", "category"]], on="request_type_id"
        ),
        reopened=reopened_requests(con, src, filters),
    )

"""One definition of "opened per day": the pages read dbt's aggregates where they answer the
question, and the same definition over the fact where they do not (channel or department
filters); both give the same numbers, and those equal direct counts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pandas as pd
import pytest
from mmds_dashboard import queries
from mmds_dashboard.filters import Filters
from mmds_dashboard.periods import periods
from mmds_dashboard.serving import read_only_connection

# (days before the newest, days in the range)
RANGES = {
    "default": (0, 90),  # the newest 90 days, the last one partial
    "everything": (0, 600),
    "one-day": (300, 1),
}


@pytest.fixture
def con(serving_file):
    with read_only_connection(serving_file) as connection:
        yield connection


def _both(con, filters, run):
    """`run(src)` from the aggregate and from the fact."""
    queries.source(con, filters)  # prepares the macros
    return run(queries.Source(aggregates=True)), run(queries.Source(aggregates=False))


@pytest.mark.parametrize("span", RANGES.values(), ids=RANGES.keys())
@pytest.mark.parametrize(
    "choice",
    [{}, {"areas": ("Downtown", "Unknown")}, {"request_types": ("Pothole Case",)}],
    ids=["all", "areas", "type"],
)
def test_aggregate_and_fact_agree(con, newest_day, span, choice) -> None:
    before, days = span
    end = newest_day - timedelta(days=before)
    filters = Filters(end - timedelta(days=days - 1), end, **choice)
    spans = periods(filters, newest_day)
    kpis = _both(con, filters, lambda src: queries.kpis(con, src, filters, spans))
    assert kpis[0] == kpis[1]
    for build in (
        lambda src: queries.opened_closed_series(con, src, filters, spans, "week"),
        lambda src: queries.area_ranking(con, src, filters, spans),
        lambda src: queries.type_ranking(con, src, filters, spans),
        lambda src: queries.top_types(con, src, filters, spans),
        lambda src: queries.top_areas(con, src, filters, spans),
    ):
        from_aggregate, from_fact = _both(con, filters, build)
        pd.testing.assert_frame_equal(from_aggregate, from_fact)


def test_aggregates_are_read_unless_the_filters_need_the_fact(con) -> None:
    everything = Filters(date(2026, 1, 1), date(2026, 3, 31))
    assert queries.source(con, everything).aggregates
    assert queries.source(con, replace(everything, areas=("Downtown",))).aggregates
    assert not queries.source(con, replace(everything, channels=("WEB",))).aggregates
    assert not queries.source(
        con, replace(everything, departments=("311 Contact Centre",))
    ).aggregates


def test_fact_path_counts_equal_direct_queries(con, sql) -> None:
    filters = Filters(date(2026, 1, 1), date(2026, 3, 31), channels=("WEB",))
    spans = periods(filters, None)
    src = queries.source(con, filters)
    kpis = queries.kpis(con, src, filters, spans)
    (opened, closed, backlog) = sql(
        """
        SELECT count(*) FILTER (WHERE opened_date_local BETWEEN '2026-01-01' AND '2026-03-31'),
               count(*) FILTER (WHERE closed_date BETWEEN '2026-01-01' AND '2026-03-31'
                                  AND NOT is_open),
               count(*) FILTER (WHERE opened_date_local <= '2026-03-31'
                                  AND (is_open OR closed_date > '2026-03-31'))
        FROM gold.fct_service_requests WHERE channel = 'WEB'
        """
    )[0]
    assert (kpis["opened"], kpis["closed"], kpis["open_backlog"]) == (opened, closed, backlog)


def test_resolution_times_by_month_agree_and_equal_direct_quantiles(con, sql) -> None:
    filters = Filters(date(2026, 3, 10), date(2026, 6, 20))
    types = [row[0] for row in sql("SELECT request_type_id FROM gold.dim_request_types")]
    from_aggregate, from_fact = _both(
        con, filters, lambda src: queries.resolution_by_month(con, src, filters, types)
    )
    pd.testing.assert_frame_equal(from_aggregate, from_fact, check_dtype=False)
    months = sorted({str(m)[:7] for m in from_aggregate["month_start"]})
    assert months == ["2026-03", "2026-04", "2026-05", "2026-06"]  # whole months
    ((most_requested,),) = sql(
        "SELECT request_type_id FROM gold.fct_service_requests GROUP BY 1 "
        "ORDER BY count(*) DESC, 1 LIMIT 1"
    )
    (median,) = sql(
        "SELECT quantile_cont(days_to_close, 0.5) FROM gold.fct_service_requests "
        "WHERE request_type_id = $1 AND NOT is_open AND NOT is_closed_before_opened "
        "AND closed_date BETWEEN '2026-04-01' AND '2026-04-30'",
        [most_requested],
    )[0]
    april = from_aggregate[
        (from_aggregate["request_type_id"] == most_requested)
        & (pd.to_datetime(from_aggregate["month_start"]) == "2026-04-01")
    ]
    assert april["median_days_to_close"].iloc[0] == pytest.approx(median)


def test_the_overview_lists_are_the_heads_of_the_rankings(con, default_range) -> None:
    filters = Filters(*default_range)
    spans = periods(filters, default_range[1])
    src = queries.source(con, filters)
    ranked = queries.type_ranking(con, src, filters, spans).head(queries.TOP)
    top = queries.top_types(con, src, filters, spans)
    columns = ["category", "opened", "opened_cmp", "opened_prev"]
    pd.testing.assert_frame_equal(top[columns], ranked[columns])
    areas = queries.area_ranking(con, src, filters, spans)
    listed = queries.top_areas(con, src, filters, spans)
    assert list(listed["local_area"]) == list(areas.loc[areas["opened"] > 0, "local_area"])

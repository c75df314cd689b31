"""Every page against the fixture serving file: the numbers shown equal direct queries."""

from __future__ import annotations

import pytest

PAGES = [
    "views/overview.py",
    "views/neighbourhoods.py",
    "views/request_types.py",
    "views/data_health.py",
]


def _metric(app, label: str) -> str:
    return next(m for m in app.metric if m.label == label).value


@pytest.fixture
def app(make_app, serving_file):
    return make_app(serving_file).run()


def test_every_page_renders_without_exception(app) -> None:
    for page in PAGES:
        app.switch_page(page).run()
        assert not app.exception, page
        assert app.title, page


def test_filtered_tables_offer_a_csv_download(app) -> None:
    for page in PAGES[:3]:
        app.switch_page(page).run()
        assert any("CSV" in button.proto.label for button in app.get("download_button")), page


def test_overview_kpis_equal_direct_queries(app, sql, default_range) -> None:
    start, end = default_range
    (opened, closed, backlog, median, p90) = sql(
        """
        SELECT count(*) FILTER (WHERE opened_date_local BETWEEN $1 AND $2),
               count(*) FILTER (WHERE closed_date BETWEEN $1 AND $2),
               count(*) FILTER (WHERE opened_date_local <= $2
                                  AND (closed_date IS NULL OR closed_date > $2)),
               quantile_cont(days_to_close, 0.5) FILTER (
                   WHERE closed_date BETWEEN $1 AND $2 AND days_to_close >= 0),
               quantile_cont(days_to_close, 0.9) FILTER (
                   WHERE closed_date BETWEEN $1 AND $2 AND days_to_close >= 0)
        FROM gold.fct_service_requests
        """,
        [start, end],
    )[0]
    assert _metric(app, "Requests opened") == f"{opened:,}"
    assert _metric(app, "Requests closed") == f"{closed:,}"
    assert _metric(app, "Open backlog at end") == f"{backlog:,}"
    assert _metric(app, "Median days to close") == f"{median:,.1f}"
    assert _metric(app, "P90 days to close") == f"{p90:,.1f}"


def test_overview_change_is_versus_the_previous_period(app, sql, default_range) -> None:
    start, _ = default_range
    (previous,) = sql(
        "SELECT count(*) FROM gold.fct_service_requests "
        "WHERE opened_date_local BETWEEN $1::DATE - 90 AND $1::DATE - 1",
        [start],
    )[0]
    current = int(_metric(app, "Requests opened").replace(",", ""))
    delta = next(m for m in app.metric if m.label == "Requests opened").delta
    assert delta.startswith(f"{current - previous:+,}")


def test_overview_banner_series_and_channels(app, sql, default_range, shown_text) -> None:
    start, end = default_range
    (published_at, load_id) = sql("SELECT published_at, load_id FROM meta.publish")[0]
    assert f"Published {published_at:%Y-%m-%d %H:%M} UTC" in shown_text(app)
    assert load_id in shown_text(app)
    assert len(app.get("vega_lite_chart")) == 2
    channels = app.dataframe[0].value
    expected = dict(
        sql(
            "SELECT channel, count(*) FROM gold.fct_service_requests "
            "WHERE opened_date_local BETWEEN $1 AND $2 GROUP BY 1",
            [start, end],
        )
    )
    shown = dict(zip(channels["channel"], channels["opened"], strict=True))
    assert {channel: n for channel, n in shown.items() if n} == expected
    assert channels["share"].sum() == pytest.approx(1.0)


def test_neighbourhoods_ranks_the_22_areas(app, sql, default_range, shown_text) -> None:
    start, end = default_range
    app.switch_page("views/neighbourhoods.py").run()
    table = app.dataframe[0].value
    expected = sql(
        """
        SELECT a.local_area_name, count(f.service_request_id)
        FROM gold.dim_local_areas a
        LEFT JOIN gold.fct_service_requests f
          ON f.local_area_id = a.local_area_id AND f.opened_date_local BETWEEN $1 AND $2
        WHERE NOT a.is_unknown GROUP BY 1 ORDER BY 2 DESC, 1
        """,
        [start, end],
    )
    assert len(table) == 22
    assert list(zip(table["local_area"], table["opened"], strict=True)) == expected
    assert list(table["rank"]) == list(range(1, 23))
    sparklines = zip(table["weekly_opened"], table["opened"], strict=True)
    assert all(sum(weekly) == opened for weekly, opened in sparklines)
    (unknown,) = sql(
        "SELECT count(*) FROM gold.fct_service_requests "
        "WHERE local_area_id = 0 AND opened_date_local BETWEEN $1 AND $2",
        [start, end],
    )[0]
    assert f"{unknown:,} requests in the range have no local area" in shown_text(app)
    assert app.get("deck_gl_json_chart")


def test_request_types_marks_deprecated_and_times(app, sql, default_range) -> None:
    start, end = default_range
    app.switch_page("views/request_types.py").run()
    table = app.dataframe[0].value.set_index("request_type")
    expected = sql(
        """
        SELECT d.request_type, d.is_deprecated,
               count(*) FILTER (WHERE f.opened_date_local BETWEEN $1 AND $2),
               quantile_cont(f.days_to_close, 0.5) FILTER (
                   WHERE f.closed_date BETWEEN $1 AND $2 AND f.days_to_close >= 0),
               quantile_cont(f.days_to_close, 0.9) FILTER (
                   WHERE f.closed_date BETWEEN $1 AND $2 AND f.days_to_close >= 0)
        FROM gold.fct_service_requests f JOIN gold.dim_request_types d USING (request_type_id)
        GROUP BY ALL
        HAVING count(*) FILTER (WHERE f.opened_date_local BETWEEN $1 AND $2
                                   OR f.closed_date BETWEEN $1 AND $2) > 0
        """,
        [start, end],
    )
    assert len(table) == len(expected)
    for request_type, deprecated, opened, median, p90 in expected:
        row = table.loc[request_type]
        assert (bool(row["is_deprecated"]), int(row["opened"])) == (deprecated, opened)
        if median is not None:
            assert row["median_days_to_close"] == pytest.approx(median)
            assert row["p90_days_to_close"] == pytest.approx(p90)
    assert table["is_deprecated"].any(), "the fixture has deprecated types in range"
    assert len(app.get("vega_lite_chart")) == 2


def test_data_health_shows_loads_layers_flags_and_tests(app, sql) -> None:
    app.switch_page("views/data_health.py").run()
    loads, quality, tests = (frame.value for frame in app.dataframe)
    assert list(loads["load_id"]) == [
        r[0] for r in sql("SELECT load_id FROM meta.loads ORDER BY started_at DESC")
    ]
    (closed_before_opened, no_area) = sql(
        "SELECT count(*) FILTER (WHERE is_closed_before_opened), "
        "count(*) FILTER (WHERE local_area_id = 0) FROM gold.fct_service_requests"
    )[0]
    flags = dict(zip(quality["flag"], quality["requests"], strict=True))
    assert flags["Closed before opened"] == closed_before_opened
    assert flags["Without a local area"] == no_area
    statuses = dict(sql("SELECT status, count(*) FROM meta.test_results GROUP BY 1"))
    for status in ("pass", "warn", "fail"):
        assert _metric(app, f"Tests {status}") == str(statuses.get(status, 0))
    assert len(tests) == sum(statuses.values())

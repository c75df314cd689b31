"""The Outlook page over the forecast the real pipeline published: the chosen series' forecast
beside its recent actuals, the backtest's error in plain words, a clear message for a file
without a forecast; in AppTest and in Chromium."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from mmds_dashboard import outlook

PAGE = "views/outlook.py"
CHROMIUM = Path("/usr/bin/chromium")


def _off_by(value: float) -> str:
    shown = f"{value:,.0f}" if value >= 10 else f"{value:,.1f}"
    return f"{shown} {'request' if shown == '1' else 'requests'}"


def _expected_words(mae_model: float, mae_baseline: float, weeks: int) -> str:
    """The sentence a reader should see, from the backtest's own figures."""
    share = 1 - mae_model / mae_baseline
    versus = f"{abs(share):.0%} {'better than' if share > 0 else 'worse than'}"
    return (
        f"Over the last {weeks} weeks the forecast was off by {_off_by(mae_model)} a day on "
        f"average, {versus} 'same as last week' (off by {_off_by(mae_baseline)})."
    )


def _backtest(sql, area: int | None, group: str | None) -> tuple:
    """The backtest of one series (None: all areas, all groups): MAEs, and its weeks."""
    [row] = sql(
        "SELECT mae_model, mae_baseline, date_diff('day', first_origin, last_origin) // 7 + 1"
        " FROM gold.forecast_backtest WHERE NOT is_overall"
        " AND local_area_id IS NOT DISTINCT FROM ? AND demand_group IS NOT DISTINCT FROM ?",
        [area, group],
    )
    return row


def test_the_city_forecast_is_shown_with_its_error_in_plain_words(
    make_app, serving_file, sql, shown_text
):
    app = make_app(serving_file).run()
    app.switch_page(PAGE).run()

    assert not app.exception
    text = shown_text(app)
    mae_model, mae_baseline, weeks = _backtest(sql, None, None)
    assert weeks == 8
    assert _expected_words(mae_model, mae_baseline, weeks) in text
    [(mase_model, mase_baseline, series)] = sql(
        "SELECT mase_model, mase_baseline,"
        " (SELECT count(mase_model) FROM gold.forecast_backtest WHERE NOT is_overall)"
        " FROM gold.forecast_backtest WHERE is_overall"
    )
    assert (
        f"Across all {series} series, the forecast's scaled error (MASE) was {mase_model:.2f} "
        f"against {mase_baseline:.2f}" in text
    )
    (chart,) = app.get("vega_lite_chart")
    assert {dataset.name for dataset in chart.proto.datasets} == {"forecast", "actuals"}
    # The first of the four weeks ahead: the sum of the city's point forecast over 7 days.
    [(through, first_week)] = sql(
        "SELECT max(trained_through), sum(requests_forecast) FILTER"
        " (WHERE date_local <= trained_through + 7) FROM gold.forecast_demand_daily"
        " WHERE local_area_id IS NULL AND demand_group IS NULL"
    )
    days = f"{through + timedelta(days=1)} to {through + timedelta(days=7)} (7 days)"
    assert days in text
    assert f"about {first_week:,.0f}" in text


def test_an_area_and_a_group_show_their_own_series(make_app, serving_file, sql, shown_text):
    [(area_name, area_id)] = sql(
        "SELECT local_area_name, local_area_id FROM gold.dim_local_areas"
        " WHERE NOT is_unknown ORDER BY local_area_name LIMIT 1"
    )
    [(group,)] = sql(
        "SELECT min(demand_group) FROM gold.forecast_demand_daily WHERE demand_group IS NOT NULL"
    )
    app = make_app(serving_file).run()
    app.switch_page(PAGE).run()

    app.selectbox(key="outlook_area").select(area_name).run()
    app.selectbox(key="outlook_group").select(group).run()

    assert not app.exception
    mae_model, mae_baseline, weeks = _backtest(sql, area_id, group)
    if mae_baseline:
        assert _expected_words(mae_model, mae_baseline, weeks) in shown_text(app)
    (chart,) = app.get("vega_lite_chart")
    assert chart is not None


def test_the_series_data_equal_direct_queries_and_the_chart_validates(serving_file, sql):
    with duckdb.connect(str(serving_file), read_only=True) as con:
        choices = outlook.outlook_choices(con)
        assert choices is not None
        data = outlook.load_outlook(con, (None, None), choices.trained_through)
    [(through, total)] = sql(
        "SELECT max(date_local), sum(requests_opened) FILTER (WHERE date_local > "
        "(SELECT max(date_local) FROM gold.agg_demand_features_daily WHERE is_complete_day) - 56"
        " AND is_complete_day) FROM gold.agg_demand_features_daily WHERE is_complete_day"
    )
    assert choices.trained_through == through
    assert data.actuals["requests_opened"].sum() == total
    assert len(data.actuals) == outlook.HISTORY_DAYS
    assert len(data.forecast) == 28
    assert data.forecast["date_local"].min().date() == through + timedelta(days=1)
    outlook.outlook_chart(data).chart.to_dict()  # validates against Vega-Lite's schema


def test_a_file_without_a_forecast_says_so(make_app, serving_copy, shown_text):
    path = serving_copy()
    with duckdb.connect(str(path)) as con:  # as publish wrote it before the forecast existed
        con.execute("DROP TABLE gold.forecast_demand_daily")
        con.execute("DROP TABLE gold.forecast_backtest")

    app = make_app(path).run()
    app.switch_page(PAGE).run()

    assert not app.exception
    assert outlook.NO_FORECAST in shown_text(app)
    assert not app.get("vega_lite_chart")


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium")
@pytest.mark.parametrize("width", ["wide", "phone"])
def test_the_page_renders_in_chromium(driver, serving_file, tmp_path, width):
    viewport = driver.WIDE if width == "wide" else driver.PHONE
    with (
        driver.serve(serving_file, tmp_path / "server.log") as server,
        driver.chromium() as browser,
        driver.session(browser, server.url, viewport) as tab,
    ):
        driver.settle(tab.page, f"{server.url}/outlook", "Outlook", ["stVegaLiteChart"])
        visit = tab.inspect(tmp_path / f"outlook-{width}.png")
        assert visit.exceptions == 0
        assert visit.charts == 1
        assert visit.overflow == [], visit.overflow
        assert tab.page.get_by_text("Over the last 8 weeks the forecast was off by").count() == 1
        assert tab.requested_hosts <= driver.ALLOWED_HOSTS, tab.requested_hosts

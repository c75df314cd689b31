"""The Outlook page: the forecast of the chosen series beside its recent actuals, the backtest's
error in words, a clear message for a file without a forecast; in AppTest and in Chromium."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from mmds_dashboard import outlook

PAGE = "views/outlook.py"
SCRIPT = Path(__file__).parents[2] / "packages" / "dashboard" / "scripts" / "screenshots.py"
CHROMIUM = Path("/usr/bin/chromium")

# The backtest of the fixture's forecast: the city's total, and the overall score.
CITY_MAE, CITY_BASELINE = 12.0, 15.0  # 20% better than 'same as last week'
OVERALL_MASE, OVERALL_BASELINE = 0.64, 0.97


def _add_forecast(path: Path) -> None:
    """Give a copy of the fixture serving file the forecast's tables, as publish copies them:
    the features (demand group: the department), a forecast of every series and a backtest."""
    with duckdb.connect(str(path)) as con:
        con.execute(
            """
            CREATE OR REPLACE TABLE gold.agg_demand_features_daily AS
            WITH counts AS (
                SELECT opened_date_local AS date_local, local_area_id,
                       department AS demand_group, count(*) AS requests_opened
                FROM gold.fct_service_requests GROUP BY ALL)
            SELECT days.date_local, a.local_area_id, g.demand_group,
                   coalesce(c.requests_opened, 0)::BIGINT AS requests_opened,
                   days.date_local < (SELECT max(date_local) FROM counts) AS is_complete_day
            FROM (SELECT DISTINCT date_local FROM counts) AS days
            CROSS JOIN (SELECT local_area_id FROM gold.dim_local_areas) AS a
            CROSS JOIN (SELECT DISTINCT demand_group FROM counts) AS g
            LEFT JOIN counts AS c USING (date_local, local_area_id, demand_group)
            """
        )
        con.execute(
            """
            CREATE OR REPLACE TABLE gold.forecast_demand_daily AS
            WITH through AS (
                SELECT max(date_local) AS day FROM gold.agg_demand_features_daily
                WHERE is_complete_day),
            series AS (
                SELECT DISTINCT local_area_id, demand_group FROM gold.agg_demand_features_daily
                UNION ALL SELECT DISTINCT local_area_id, NULL FROM gold.agg_demand_features_daily
                UNION ALL SELECT DISTINCT NULL, demand_group FROM gold.agg_demand_features_daily
                UNION ALL SELECT NULL, NULL),
            days AS (SELECT day + h::INTEGER AS date_local, h FROM through, range(1, 29) r(h))
            SELECT date_local, local_area_id::INTEGER AS local_area_id, demand_group,
                   (10 + h % 7)::DOUBLE AS requests_forecast,
                   (8 + h % 7)::DOUBLE AS lower_80, (12 + h % 7)::DOUBLE AS upper_80,
                   (6 + h % 7)::DOUBLE AS lower_95, (14 + h % 7)::DOUBLE AS upper_95,
                   (SELECT day FROM through) AS trained_through
            FROM series CROSS JOIN days
            """
        )
        con.execute(
            """
            CREATE OR REPLACE TABLE gold.forecast_backtest AS
            SELECT local_area_id::INTEGER AS local_area_id, demand_group,
                   false AS is_overall, DATE '2026-01-05' AS first_origin,
                   DATE '2026-02-23' AS last_origin, 56 AS days, 20.0 AS mean_actual,
                   CASE WHEN local_area_id IS NULL AND demand_group IS NULL THEN $city
                        ELSE 2.0 END AS mae_model,
                   CASE WHEN local_area_id IS NULL AND demand_group IS NULL THEN $baseline
                        ELSE 1.5 END AS mae_baseline,
                   0.7 AS mase_model, 0.9 AS mase_baseline,
                   DATE '2026-03-01' AS trained_through
            FROM (SELECT DISTINCT local_area_id, demand_group FROM gold.forecast_demand_daily)
            UNION ALL
            SELECT NULL, NULL, true, DATE '2026-01-05', DATE '2026-02-23', 56, 3.0, 1.0, 1.2,
                   $mase, $mase_baseline, DATE '2026-03-01'
            """,
            {
                "city": CITY_MAE,
                "baseline": CITY_BASELINE,
                "mase": OVERALL_MASE,
                "mase_baseline": OVERALL_BASELINE,
            },
        )


@pytest.fixture(scope="module")
def forecast_file(serving_file, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("outlook") / "serving.duckdb"
    shutil.copy(serving_file, path)
    _add_forecast(path)
    return path


def choices_day(path: Path, ahead: int) -> str:
    """The day `ahead` days after the day the fixture's forecast was trained through."""
    [(day,)] = _query(path, "SELECT max(trained_through) FROM gold.forecast_demand_daily")
    return (day + timedelta(days=ahead)).isoformat()


def _query(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def test_the_city_forecast_is_shown_with_its_error_in_plain_words(
    make_app, forecast_file, shown_text
):
    app = make_app(forecast_file).run()
    app.switch_page(PAGE).run()

    assert not app.exception
    text = shown_text(app)
    assert (
        "Over the last 8 weeks the forecast was off by 12 requests a day on average, "
        "20% better than 'same as last week' (off by 15 requests)." in text
    )
    assert "(MASE) was 0.64 against 0.97 for 'same as last week' (34% lower)." in text
    (chart,) = app.get("vega_lite_chart")
    assert {dataset.name for dataset in chart.proto.datasets} == {"forecast", "actuals"}
    # The four weeks ahead, as sums of the city's point forecast.
    [(first_week,)] = _query(
        forecast_file,
        "SELECT sum(requests_forecast) FROM gold.forecast_demand_daily"
        " WHERE local_area_id IS NULL AND demand_group IS NULL"
        " AND date_local <= (SELECT max(trained_through) + 7 FROM gold.forecast_demand_daily)",
    )
    assert f"about {first_week:,.0f}" in text
    week = f"{choices_day(forecast_file, 1)} to {choices_day(forecast_file, 7)} (7 days)"
    assert week in text


def test_an_area_and_a_group_show_their_own_series(make_app, forecast_file, shown_text):
    [(area_name, area_id)] = _query(
        forecast_file,
        "SELECT local_area_name, local_area_id FROM gold.dim_local_areas"
        " WHERE NOT is_unknown ORDER BY local_area_name LIMIT 1",
    )
    [(group,)] = _query(
        forecast_file,
        "SELECT min(demand_group) FROM gold.forecast_demand_daily WHERE demand_group IS NOT NULL",
    )
    app = make_app(forecast_file).run()
    app.switch_page(PAGE).run()

    app.selectbox(key="outlook_area").select(area_name).run()
    app.selectbox(key="outlook_group").select(group).run()

    assert not app.exception
    text = shown_text(app)
    assert "off by 2.0 requests a day on average, 33% worse than 'same as last week'" in text
    assert len(app.get("vega_lite_chart")) == 1
    [(actual_days,)] = _query(
        forecast_file,
        "SELECT count(*) FROM gold.agg_demand_features_daily WHERE local_area_id = ?"
        " AND demand_group = ? AND is_complete_day AND date_local > (SELECT max(date_local)"
        " FROM gold.agg_demand_features_daily WHERE is_complete_day) - 56",
        [area_id, group],
    )
    assert actual_days == outlook.HISTORY_DAYS


def test_the_series_data_and_chart_equal_direct_queries(forecast_file):
    with duckdb.connect(str(forecast_file), read_only=True) as con:
        choices = outlook.outlook_choices(con)
        assert choices is not None
        data = outlook.load_outlook(con, (None, None), choices.trained_through)
    [(through, total)] = _query(
        forecast_file,
        "SELECT max(date_local), sum(requests_opened) FILTER (WHERE date_local > "
        "(SELECT max(date_local) FROM gold.agg_demand_features_daily WHERE is_complete_day) - 56"
        " AND is_complete_day) FROM gold.agg_demand_features_daily WHERE is_complete_day",
    )
    assert choices.trained_through == through
    assert data.actuals["requests_opened"].sum() == total
    assert len(data.forecast) == 28
    assert data.forecast["date_local"].min().date() == through + timedelta(days=1)
    outlook.outlook_chart(data).chart.to_dict()  # validates against Vega-Lite's schema


def test_a_file_without_a_forecast_says_so(make_app, serving_copy, shown_text):
    path = serving_copy()
    with duckdb.connect(str(path)) as con:
        con.execute("DROP TABLE gold.forecast_demand_daily")
        con.execute("DROP TABLE gold.forecast_backtest")
    app = make_app(path).run()
    app.switch_page(PAGE).run()

    assert not app.exception
    assert outlook.NO_FORECAST in shown_text(app)
    assert not app.get("vega_lite_chart")


def _driver():
    spec = importlib.util.spec_from_file_location("dashboard_screenshots", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium")
@pytest.mark.parametrize("width", ["wide", "phone"])
def test_the_page_renders_in_chromium(forecast_file, tmp_path, width):
    driver = _driver()
    viewport = driver.WIDE if width == "wide" else driver.PHONE
    with (
        driver.serve(forecast_file, tmp_path / "server.log") as server,
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

"""The Outlook page's data and chart: the next 28 days of one series (an area, a demand group,
or their totals) with its intervals, the recent actuals beside them, and the backtest's error in
plain words. Reads `gold.forecast_demand_daily`, `gold.forecast_backtest` and
`gold.agg_demand_features_daily`; a null area or group in them means all areas or all groups.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import altair as alt
import duckdb
import pandas as pd

from mmds_dashboard.charts import Figure
from mmds_dashboard.formatting import number, plural

FORECAST_TABLES = ("forecast_demand_daily", "forecast_backtest")
FEATURES_TABLE = "agg_demand_features_daily"
HISTORY_DAYS = 56  # the actuals shown before the forecast: the backtest's 8 weeks
ACTUAL_COLOUR = "#4c78a8"
FORECAST_COLOUR = "#f58518"
NO_FORECAST = (
    "This serving file holds no forecast: it was published before mmds forecast demand. "
    "Publish again with `uv run mmds run` (the forecast needs about six months of complete "
    "days), then reload this page."
)

# A series: (local_area_id, demand_group); None stands for all of them.
SeriesKey = tuple[int | None, str | None]


@dataclass(frozen=True)
class OutlookChoices:
    """The series the forecast covers: areas (name, id) and demand groups, and the day the
    model was trained through."""

    areas: tuple[tuple[str, int], ...]
    groups: tuple[str, ...]
    trained_through: date


@dataclass(frozen=True)
class BacktestError:
    """The backtest's figures for one series (or, `overall`, their mean over every series)."""

    weeks: int
    mean_actual: float
    mae_model: float
    mae_baseline: float
    mase_model: float | None
    mase_baseline: float | None
    series: int = 1


@dataclass(frozen=True)
class OutlookData:
    """One series: its forecast, its recent actuals and its backtest, and the overall one."""

    forecast: pd.DataFrame  # date_local, requests_forecast, lower/upper_80/95
    actuals: pd.DataFrame  # date_local, requests_opened
    error: BacktestError | None
    overall: BacktestError | None
    trained_through: date


def outlook_choices(con: duckdb.DuckDBPyConnection) -> OutlookChoices | None:
    """What the reader can choose, or None when the file holds no forecast."""
    if not set(FORECAST_TABLES) <= _readable_gold_tables(con):
        return None
    row = con.execute("SELECT max(trained_through) FROM gold.forecast_demand_daily").fetchone()
    if not row or row[0] is None:
        return None
    areas = con.execute(
        "SELECT DISTINCT coalesce(a.local_area_name, 'Area ' || f.local_area_id), f.local_area_id"
        " FROM gold.forecast_demand_daily AS f"
        " LEFT JOIN gold.dim_local_areas AS a USING (local_area_id)"
        " WHERE f.local_area_id IS NOT NULL ORDER BY 1"
    ).fetchall()
    groups = con.execute(
        "SELECT DISTINCT demand_group FROM gold.forecast_demand_daily"
        " WHERE demand_group IS NOT NULL ORDER BY 1"
    ).fetchall()
    return OutlookChoices(
        areas=tuple((str(name), int(area_id)) for name, area_id in areas),
        groups=tuple(str(group) for (group,) in groups),
        trained_through=row[0],
    )


_FORECAST = """
SELECT date_local, requests_forecast, lower_80, upper_80, lower_95, upper_95
FROM gold.forecast_demand_daily
WHERE local_area_id IS NOT DISTINCT FROM $area AND demand_group IS NOT DISTINCT FROM $group
ORDER BY date_local
"""
_ACTUALS = """
SELECT date_local, sum(requests_opened)::DOUBLE AS requests_opened
FROM gold.agg_demand_features_daily
WHERE ($area IS NULL OR local_area_id = $area) AND ($group IS NULL OR demand_group = $group)
  AND date_local > $through - $days AND date_local <= $through
GROUP BY date_local ORDER BY date_local
"""
_BACKTEST = """
SELECT date_diff('day', first_origin, last_origin) // 7 + 1, mean_actual, mae_model,
       mae_baseline, mase_model, mase_baseline,
       (SELECT count(mase_model) FROM gold.forecast_backtest WHERE NOT is_overall)
FROM gold.forecast_backtest
WHERE is_overall = $overall
  AND local_area_id IS NOT DISTINCT FROM $area AND demand_group IS NOT DISTINCT FROM $group
"""


def load_outlook(
    con: duckdb.DuckDBPyConnection, series: SeriesKey, trained_through: date
) -> OutlookData:
    """The forecast, the last `HISTORY_DAYS` complete days and the backtest of `series`."""
    area, group = series
    params = {"area": area, "group": group}
    forecast = con.execute(_FORECAST, params).df()
    actuals = pd.DataFrame({"date_local": [], "requests_opened": []})
    if FEATURES_TABLE in _readable_gold_tables(con):
        actuals = con.execute(
            _ACTUALS, {**params, "through": trained_through, "days": HISTORY_DAYS}
        ).df()
    error = _backtest(con, series, overall=False)
    overall = _backtest(con, (None, None), overall=True)
    return OutlookData(forecast, actuals, error, overall, trained_through)


def _readable_gold_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The gold tables the file both declares in its contract and holds (the forecast's are
    optional: a file published before the forecast has none, and only this page needs them)."""
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'gold'"
        " INTERSECT SELECT table_name FROM meta.serving_contract WHERE schema_name = 'gold'"
    ).fetchall()
    return {name for (name,) in rows}


def _backtest(
    con: duckdb.DuckDBPyConnection, series: SeriesKey, *, overall: bool
) -> BacktestError | None:
    area, group = series
    row = con.execute(_BACKTEST, {"overall": overall, "area": area, "group": group}).fetchone()
    if row is None:
        return None
    weeks, mean_actual, mae_model, mae_baseline, mase_model, mase_baseline, scored = row
    return BacktestError(
        weeks=int(weeks),
        mean_actual=float(mean_actual),
        mae_model=float(mae_model),
        mae_baseline=float(mae_baseline),
        mase_model=mase_model,
        mase_baseline=mase_baseline,
        series=int(scored) if overall else 1,
    )


def error_in_words(error: BacktestError) -> str:
    """How far off the forecast was over the backtest, against "same as last week"."""
    off = _requests_a_day(error.mae_model)
    text = (
        f"Over the last {plural(error.weeks, 'week')} the forecast was off by {off} a day on "
        "average"
    )
    if error.mae_baseline == 0:
        return f"{text}; 'same as last week' was never off."
    return f"{text}, {_versus(error.mae_model, error.mae_baseline)} 'same as last week' " + (
        f"(off by {_requests_a_day(error.mae_baseline)})."
    )


def overall_in_words(overall: BacktestError) -> str:
    """The overall MASE of the model against the seasonal naive's, in words."""
    if overall.mase_model is None or not overall.mase_baseline:
        return "The backtest has no overall score."
    return (
        f"Across all {number(overall.series)} series, the forecast's scaled error (MASE) was "
        f"{overall.mase_model:.2f} against {overall.mase_baseline:.2f} for 'same as last week' "
        f"({_lower(overall.mase_model, overall.mase_baseline)})."
    )


def _requests_a_day(value: float) -> str:
    shown = number(value, decimals=0 if value >= 10 else 1)
    return f"{shown} {'request' if shown == '1' else 'requests'}"


def _versus(model: float, baseline: float) -> str:
    share = 1 - model / baseline
    if abs(share) < 0.005:
        return "as good as"
    return f"{abs(share):.0%} {'better than' if share > 0 else 'worse than'}"


def _lower(model: float, baseline: float) -> str:
    share = 1 - model / baseline
    return f"{abs(share):.0%} {'lower' if share >= 0 else 'higher'}"


def weekly_totals(forecast: pd.DataFrame) -> pd.DataFrame:
    """The point forecast summed over each of the four weeks ahead: week (its first day),
    requests."""
    days = forecast.reset_index(drop=True)
    return (
        days.assign(week=days.index // 7, date_local=pd.to_datetime(days["date_local"]).dt.date)
        .groupby("week")
        .agg(
            first_day=("date_local", "min"),
            last_day=("date_local", "max"),
            requests=("requests_forecast", "sum"),
        )
        .reset_index(drop=True)
    )


def outlook_chart(data: OutlookData) -> Figure:
    """The recent actuals as a line, the forecast as a dashed line within its 95% and 80%
    bands."""
    day = alt.X("utcyearmonthdate(date_local):T", title=None, axis=alt.Axis(format="%b %d"))
    forecast = alt.Chart(alt.NamedData(name="forecast"))
    band = forecast.mark_area(color=FORECAST_COLOUR)
    layers = [
        band.encode(x=day, y="lower_95:Q", y2="upper_95:Q", opacity=alt.value(0.15)),
        band.encode(x=day, y="lower_80:Q", y2="upper_80:Q", opacity=alt.value(0.3)),
        forecast.mark_line(color=FORECAST_COLOUR, strokeDash=[6, 3]).encode(
            x=day,
            y=alt.Y("requests_forecast:Q", title="Requests a day"),
            tooltip=[
                alt.Tooltip("utcyearmonthdate(date_local):T", title="Day"),
                alt.Tooltip("requests_forecast:Q", title="Forecast", format=".1f"),
                alt.Tooltip("lower_80:Q", title="80% from", format=".1f"),
                alt.Tooltip("upper_80:Q", title="80% to", format=".1f"),
            ],
        ),
        alt.Chart(alt.NamedData(name="actuals"))
        .mark_line(color=ACTUAL_COLOUR, point=True)
        .encode(
            x=day,
            y="requests_opened:Q",
            tooltip=[
                alt.Tooltip("utcyearmonthdate(date_local):T", title="Day"),
                alt.Tooltip("requests_opened:Q", title="Requests opened", format=",.0f"),
            ],
        ),
    ]
    chart = alt.layer(*layers).properties(height=320)
    return Figure(chart, {"forecast": data.forecast, "actuals": data.actuals})

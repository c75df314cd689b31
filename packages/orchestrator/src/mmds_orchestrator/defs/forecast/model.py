"""The demand forecast itself: one global LightGBM model over every series, through mlforecast.

No Dagster here: plain functions from the features (polars frames, as the warehouse IO manager
loads them) to the forecast and its backtest. A series is one local area and one demand group,
plus each area's total, each group's total and the city's total (null area or group: all of
them), so that the dashboard can show any of those with a forecast of its own.

Only complete days are used. The model sees lags of 7, 14, 21 and 28 days, rolling means of the
week and of the last four weeks, the ISO weekday, week of year and British Columbia's statutory
holidays; it forecasts the 28 days after the last complete day recursively. Intervals are
mlforecast's conformal intervals (the model's own errors on the last windows before it).

mlforecast, LightGBM and scikit-learn take seconds to import: only training imports them.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from mlforecast import MLForecast

HORIZON_DAYS = 28
SEASON_DAYS = 7  # the baseline: the same weekday last week
BACKTEST_WEEKS = 8  # rolling origins, one a week, each forecasting the next 7 days
TRAINING_DAYS = 2 * 365  # the newest two years: the level moves, older years add cost only
INTERVAL_WINDOWS = 4  # 28-day windows whose errors give the conformal intervals
LEVELS = (80, 95)
MODEL = "model"
EXOGENOUS = ("day_of_week", "week_of_year", "is_holiday")
SERIES_KEYS = ("local_area_id", "demand_group")
ALL = "*"  # unique_id part of a total over all areas or all groups


@dataclass(frozen=True)
class ModelSettings:
    """What the model optimises: `point_quantile` is the quantile its point forecast aims at
    (0.5, the median, minimises the absolute error MASE measures); `trees` its boosting rounds."""

    point_quantile: float = 0.5
    trees: int = 100


class ForecastError(ValueError):
    """The features cannot be forecast (too short a history); the message says why."""


def demand_series(features: pl.DataFrame) -> pl.DataFrame:
    """The complete days of every series: `unique_id`, `ds`, `y`, the exogenous features and
    the series' keys (null `local_area_id` / `demand_group`: all areas / all groups)."""
    days = features.filter(pl.col("is_complete_day"))
    calendar = days.group_by("date_local").agg(
        # typed as `future_calendar` types them, whatever integers the warehouse returns
        pl.col("day_of_week").first().cast(pl.Int32),
        pl.col("week_of_year").first().cast(pl.Int32),
        pl.col("is_holiday").first(),
    )
    levels = [
        days.select("date_local", *SERIES_KEYS, "requests_opened"),
        _total(days, ["local_area_id"]).with_columns(demand_group=pl.lit(None, pl.String)),
        _total(days, ["demand_group"]).with_columns(local_area_id=pl.lit(None, pl.Int32)),
        _total(days, []).with_columns(
            local_area_id=pl.lit(None, pl.Int32), demand_group=pl.lit(None, pl.String)
        ),
    ]
    columns = ["date_local", *SERIES_KEYS, "requests_opened"]
    series = pl.concat(
        [
            level.select(columns).with_columns(
                pl.col("local_area_id").cast(pl.Int32),
                pl.col("demand_group").cast(pl.String),
                pl.col("requests_opened").cast(pl.Float64),
            )
            for level in levels
        ]
    )
    return (
        series.join(calendar, on="date_local")
        .with_columns(
            unique_id=pl.concat_str(
                pl.col("local_area_id").cast(pl.String).fill_null(ALL),
                pl.col("demand_group").fill_null(ALL),
                separator="|",
            ),
            is_holiday=pl.col("is_holiday").cast(pl.Int8),
        )
        .rename({"date_local": "ds", "requests_opened": "y"})
        .sort("unique_id", "ds")
    )


def _total(days: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    by = ["date_local", *keys]
    return days.group_by(by).agg(pl.col("requests_opened").sum())


def newest_complete_day(features: pl.DataFrame) -> date | None:
    """The newest day of the features that is over in the data (None: not one yet)."""
    return features.filter(pl.col("is_complete_day"))["date_local"].max()  # type: ignore[return-value]


def trained_through(series: pl.DataFrame) -> date:
    """The newest complete day: the last day the model learns from."""
    newest = series["ds"].max()
    if newest is None:
        raise ForecastError("the features hold no complete day yet: nothing to forecast")
    return newest  # type: ignore[return-value]


def forecast(
    series: pl.DataFrame, holidays: Sequence[date], settings: ModelSettings
) -> pl.DataFrame:
    """The next `HORIZON_DAYS` of every series after its last complete day: point forecast
    and 80% / 95% intervals (never below zero), with the series' keys."""
    from mlforecast.utils import PredictionIntervals

    history = _recent(series, TRAINING_DAYS + INTERVAL_WINDOWS * HORIZON_DAYS)
    _check_length(history, INTERVAL_WINDOWS * HORIZON_DAYS)
    model = _model(settings)
    model.fit(
        _training_frame(history),
        static_features=[],
        prediction_intervals=PredictionIntervals(n_windows=INTERVAL_WINDOWS, h=HORIZON_DAYS),
    )
    last = trained_through(history)
    predicted = model.predict(
        HORIZON_DAYS, level=list(LEVELS), X_df=future_calendar(history, last, holidays)
    )
    bounds = {
        f"{side}_{level}": f"{MODEL}-{short}-{level}"
        for level in LEVELS
        for side, short in (("lower", "lo"), ("upper", "hi"))
    }
    return (
        predicted.select(
            "unique_id",
            pl.col("ds").alias("date_local"),
            pl.col(MODEL).clip(lower_bound=0).alias("requests_forecast"),
            *(pl.col(column).clip(lower_bound=0).alias(name) for name, column in bounds.items()),
        )
        .join(_keys(history), on="unique_id")
        .with_columns(trained_through=pl.lit(last))
    )


def future_calendar(series: pl.DataFrame, last: date, holidays: Sequence[date]) -> pl.DataFrame:
    """The exogenous features of the `HORIZON_DAYS` after `last`, for every series."""
    days = pl.DataFrame({"ds": [last + timedelta(days=d) for d in range(1, HORIZON_DAYS + 1)]})
    calendar = days.with_columns(
        day_of_week=pl.col("ds").dt.weekday().cast(pl.Int32),  # ISO: Monday 1 .. Sunday 7
        week_of_year=pl.col("ds").dt.week().cast(pl.Int32),  # ISO week
        is_holiday=pl.col("ds").is_in(list(holidays)).cast(pl.Int8),
    )
    return series.select("unique_id").unique().join(calendar, how="cross")


def backtest(series: pl.DataFrame, settings: ModelSettings) -> pl.DataFrame:
    """Rolling-origin forecasts over the last `BACKTEST_WEEKS` weeks: at each weekly origin,
    the next 7 days as the model would have forecast them then, beside the actuals and the
    seasonal naive's forecast (the same weekday a week before).

    The model is trained once, on the days up to the first origin; at each later origin its
    lags are the actuals up to that origin. Nothing after an origin reaches its forecasts.
    Columns: unique_id, ds, cutoff (the origin), y, model, naive.
    """
    window = BACKTEST_WEEKS * SEASON_DAYS
    history = _recent(series, TRAINING_DAYS + window)
    _check_length(history, window)
    predictions = _model(settings).cross_validation(
        _training_frame(history),
        n_windows=BACKTEST_WEEKS,
        h=SEASON_DAYS,
        step_size=SEASON_DAYS,
        refit=False,
        static_features=[],
    )
    naive = history.select(
        "unique_id",
        (pl.col("ds") + pl.duration(days=SEASON_DAYS)).alias("ds"),
        pl.col("y").alias("naive"),
    )
    return predictions.join(naive, on=["unique_id", "ds"]).sort("unique_id", "cutoff", "ds")


def backtest_errors(predictions: pl.DataFrame, series: pl.DataFrame) -> pl.DataFrame:
    """MASE per series of the model and of the seasonal naive over the backtest, scaled by the
    naive's mean absolute error on the days before the first origin (null where that is zero:
    a series with no requests then), with their mean absolute errors and mean actuals."""
    first_origin = predictions["cutoff"].min()
    scale = (
        series.filter(pl.col("ds") <= first_origin)
        .with_columns(
            naive_error=(pl.col("y") - pl.col("y").shift(SEASON_DAYS).over("unique_id")).abs()
        )
        .group_by("unique_id")
        .agg(pl.col("naive_error").mean().alias("scale"))
    )
    errors = predictions.group_by("unique_id").agg(
        pl.len().alias("days"),
        pl.col("y").mean().alias("mean_actual"),
        (pl.col("y") - pl.col(MODEL)).abs().mean().alias("mae_model"),
        (pl.col("y") - pl.col("naive")).abs().mean().alias("mae_baseline"),
        pl.col("cutoff").min().alias("first_origin"),
        pl.col("cutoff").max().alias("last_origin"),
    )
    positive = pl.when(pl.col("scale") > 0)
    return (
        errors.join(scale, on="unique_id", how="left")
        .with_columns(
            mase_model=positive.then(pl.col("mae_model") / pl.col("scale")),
            mase_baseline=positive.then(pl.col("mae_baseline") / pl.col("scale")),
        )
        .drop("scale")
        .join(_keys(series), on="unique_id")
        .sort("unique_id")
    )


@dataclass(frozen=True)
class OverallError:
    """The backtest's overall MASE (the mean over the series that have one) of the model and of
    the seasonal naive, and over how many series."""

    mase_model: float
    mase_baseline: float
    series: int

    @property
    def ratio(self) -> float:
        """The model's MASE as a share of the baseline's (below 1: the model is better)."""
        return self.mase_model / self.mase_baseline if self.mase_baseline else float("inf")


def overall_error(errors: pl.DataFrame) -> OverallError:
    """The mean MASE over the series with a defined one."""
    scored = errors.filter(pl.col("mase_model").is_not_null())
    if scored.is_empty():
        raise ForecastError("no series had any request before the backtest: MASE is undefined")
    return OverallError(
        mase_model=float(scored["mase_model"].mean()),  # type: ignore[arg-type]
        mase_baseline=float(scored["mase_baseline"].mean()),  # type: ignore[arg-type]
        series=scored.height,
    )


def backtest_table(errors: pl.DataFrame, overall: OverallError, through: date) -> pl.DataFrame:
    """The errors of every series and one overall row (`is_overall`): the means over the
    series, and the overall MASE of both; every row with the day the model was trained through."""
    summary = pl.DataFrame(
        {
            "is_overall": [True],
            "days": [errors["days"].max()],
            "first_origin": [errors["first_origin"].min()],
            "last_origin": [errors["last_origin"].max()],
            **{
                column: [errors[column].mean()]
                for column in ("mean_actual", "mae_model", "mae_baseline")
            },
            "mase_model": [overall.mase_model],
            "mase_baseline": [overall.mase_baseline],
        }
    )
    return pl.concat(
        [errors.with_columns(is_overall=pl.lit(False)), summary], how="diagonal_relaxed"
    ).with_columns(trained_through=pl.lit(through))


def _model(settings: ModelSettings) -> "MLForecast":
    from lightgbm import LGBMRegressor
    from mlforecast import MLForecast
    from mlforecast.lag_transforms import RollingMean

    regressor = LGBMRegressor(
        objective="quantile",
        alpha=settings.point_quantile,
        n_estimators=settings.trees,
        learning_rate=0.1,
        num_leaves=31,
        # one thread: two threads fought over the 2 busy cores (8x slower, measured)
        n_jobs=1,
        verbosity=-1,
        random_state=0,
    )
    return MLForecast(
        models={MODEL: regressor},
        freq="1d",
        lags=[7, 14, 21, 28],
        lag_transforms={7: [RollingMean(window_size=7), RollingMean(window_size=28)]},
        num_threads=1,
    )


def _training_frame(series: pl.DataFrame) -> pl.DataFrame:
    return series.select("unique_id", "ds", "y", *EXOGENOUS)


def _recent(series: pl.DataFrame, days: int) -> pl.DataFrame:
    last = trained_through(series)
    return series.filter(pl.col("ds") > last - timedelta(days=days))


def _check_length(history: pl.DataFrame, held_out_days: int) -> None:
    """Lags of 28 days and a rolling mean of 28 need 56 days before the held-out ones."""
    needed = held_out_days + 2 * HORIZON_DAYS + SEASON_DAYS
    have = history["ds"].n_unique()
    if have < needed:
        raise ForecastError(
            f"the features hold {have} complete days; the forecast needs at least {needed}"
        )


def _keys(series: pl.DataFrame) -> pl.DataFrame:
    return series.select("unique_id", *SERIES_KEYS).unique()

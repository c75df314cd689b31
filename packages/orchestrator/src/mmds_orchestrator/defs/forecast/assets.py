"""The forecast asset: the features in, next month's forecast and its backtest out, both through
the warehouse's IO manager; the backtest's verdict against the seasonal naive as a check."""

from collections.abc import Iterator
from typing import Any

from dagster import (
    AssetCheckKey,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetIn,
    AssetKey,
    AssetOut,
    Failure,
    Output,
    multi_asset,
)
from pydantic import Field

from mmds_orchestrator.defs.forecast.tables import (
    BACKTEST_KEY,
    FEATURES_KEY,
    FORECAST_KEY,
    HOLIDAYS_KEY,
    UNCHANGED,
)
from mmds_orchestrator.defs.pools import WAREHOUSE_POOL
from mmds_orchestrator.defs.refresh import FORECAST_OP, RefreshConfig

WAREHOUSE_TABLES = "warehouse_tables"
CHECK_NAME = "forecast_beats_seasonal_naive"
FORECAST_CHECK = AssetCheckKey(BACKTEST_KEY, CHECK_NAME)
# Metadata of the backtest's materialization that the next run compares and re-reports.
VERSION = "model_version"
TRAINED_THROUGH = "trained_through"
MASE_MODEL = "mase_model"
MASE_BASELINE = "mase_baseline"
SERIES_SCORED = "series_scored"
FIGURES = (VERSION, TRAINED_THROUGH, MASE_MODEL, MASE_BASELINE, SERIES_SCORED)


class ForecastConfig(RefreshConfig):
    """`full_refresh` retrains even without a new complete day; the model's settings."""

    point_quantile: float = Field(
        default=0.5,
        gt=0,
        lt=1,
        description="The quantile the point forecast aims at (0.5: the median, which "
        "minimises the absolute error).",
    )
    trees: int = Field(default=100, ge=1, le=2000, description="LightGBM's boosting rounds.")

    def version(self, trained_through: str) -> str:
        """What the forecast depends on: the last complete day and the model's settings."""
        return f"{trained_through}|q={self.point_quantile}|trees={self.trees}"


def _gold_table(key: AssetKey, description: str) -> AssetOut:
    """An output of the forecast: a gold table of the warehouse, through its IO manager."""
    return AssetOut(
        key=key,
        io_manager_key=WAREHOUSE_TABLES,
        group_name="gold",
        kinds={"python", "polars"},
        description=description,
    )


@multi_asset(
    name=FORECAST_OP,
    ins={
        "features": AssetIn(FEATURES_KEY, input_manager_key=WAREHOUSE_TABLES),
        "holidays": AssetIn(
            HOLIDAYS_KEY, input_manager_key=WAREHOUSE_TABLES, metadata={"columns": ["holiday_date"]}
        ),
    },
    outs={
        "forecast": _gold_table(
            FORECAST_KEY,
            "The next 28 days of requests per local area and demand group (and their totals), "
            "with 80% and 95% intervals.",
        ),
        "backtest": _gold_table(
            BACKTEST_KEY,
            "The forecast's error over the last 8 weeks (rolling origin), per series and "
            "overall, beside the seasonal naive's (same weekday last week).",
        ),
    },
    check_specs=[
        AssetCheckSpec(
            CHECK_NAME,
            asset=BACKTEST_KEY,
            description="Over the backtest, the model's overall MASE is no worse than the "
            "seasonal naive's (the same weekday last week).",
        )
    ],
    pool=WAREHOUSE_POOL,
)
def forecast_demand(
    context: AssetExecutionContext,
    config: ForecastConfig,
    features: Any,  # polars frames, as the IO manager loads them (polars is imported lazily)
    holidays: Any,
) -> Iterator[Output | AssetCheckResult]:
    """Train on the complete days, forecast 28 days, backtest over the last 8 weeks.

    Trains only when a new day is complete (or the model's settings changed, or
    `full_refresh`): otherwise both tables stay as they are, their materialization says so
    (`retrained: false`), and the check repeats the figures of the model in use. The outputs
    are still yielded, so that publish, downstream, runs with the rest of gold.
    """
    # Imported here: see `model` and `polars_tables`; `mmds run` imports this module every run.
    from mmds_orchestrator.defs.forecast import model

    complete = model.newest_complete_day(features)
    if complete is None:
        raise Failure("no complete day in gold.agg_demand_features_daily: nothing to forecast")
    version = config.version(str(complete))
    previous = _previous_backtest(context)
    if not config.full_refresh and previous.get(VERSION) == version:
        context.log.info(f"No new complete day since {complete}: the forecast is kept.")
        yield from _kept(previous)
        return
    yield from _trained(context, config, features, holidays, version)


def _trained(
    context: AssetExecutionContext,
    config: ForecastConfig,
    features: Any,
    holidays: Any,
    version: str,
) -> Iterator[Output | AssetCheckResult]:
    from mmds_orchestrator.defs.forecast import model
    from mmds_orchestrator.defs.forecast.polars_tables import conform

    settings = model.ModelSettings(point_quantile=config.point_quantile, trees=config.trees)
    try:
        series = model.demand_series(features)
        predictions = model.backtest(series, settings)
        errors = model.backtest_errors(predictions, series)
        overall = model.overall_error(errors)
        forecast = model.forecast(series, holidays["holiday_date"].to_list(), settings)
    except model.ForecastError as error:
        raise Failure(f"forecast failed: {error}", allow_retries=False) from error
    through = model.trained_through(series)
    context.log.info(
        f"Trained through {through}: MASE {overall.mase_model:.3f}, seasonal naive "
        f"{overall.mase_baseline:.3f} over {overall.series} series."
    )
    figures: dict[str, Any] = {
        VERSION: version,
        TRAINED_THROUGH: str(through),
        MASE_MODEL: overall.mase_model,
        MASE_BASELINE: overall.mase_baseline,
        SERIES_SCORED: overall.series,
    }
    backtest = model.backtest_table(errors, overall, through)
    yield Output(
        conform(forecast, FORECAST_KEY),
        output_name="forecast",
        metadata={"retrained": True, TRAINED_THROUGH: str(through)},
    )
    yield Output(
        conform(backtest, BACKTEST_KEY),
        output_name="backtest",
        metadata={"retrained": True, **figures},
    )
    yield _verdict(figures)


def _kept(previous: dict[str, Any]) -> Iterator[Output | AssetCheckResult]:
    figures = {key: previous[key] for key in FIGURES}
    for name in ("forecast", "backtest"):
        metadata = figures if name == "backtest" else {TRAINED_THROUGH: figures[TRAINED_THROUGH]}
        yield Output(UNCHANGED, output_name=name, metadata={"retrained": False, **metadata})
    yield _verdict(figures)


def _verdict(figures: dict[str, Any]) -> AssetCheckResult:
    """Passes when the model's overall MASE is at most the seasonal naive's."""
    model_mase, baseline_mase = float(figures[MASE_MODEL]), float(figures[MASE_BASELINE])
    return AssetCheckResult(
        asset_key=BACKTEST_KEY,
        check_name=CHECK_NAME,
        passed=model_mase <= baseline_mase,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            MASE_MODEL: model_mase,
            MASE_BASELINE: baseline_mase,
            "ratio": model_mase / baseline_mase if baseline_mase else float("inf"),
            SERIES_SCORED: int(figures[SERIES_SCORED]),
            TRAINED_THROUGH: str(figures[TRAINED_THROUGH]),
        },
    )


def _previous_backtest(context: AssetExecutionContext) -> dict[str, Any]:
    """The metadata of the backtest's newest materialization (empty: never materialized)."""
    event = context.instance.get_latest_materialization_event(BACKTEST_KEY)
    materialization = event.asset_materialization if event else None
    if materialization is None:
        return {}
    return {key: value.value for key, value in materialization.metadata.items()}

"""A warehouse holding what the forecast reads, generated: `gold.agg_demand_features_daily` (as
dbt's contract types it) and the holiday seed `silver.bc_statutory_holidays`.

Requests are Poisson draws around a level per series, with a weekly pattern (weekends a third
of weekdays, as the fake portal's generator has it) and a slow yearly swing. The draws are fixed
per day from `START`, so a longer history is the shorter one plus new days.
"""

from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

START = date(2025, 1, 1)
AREAS = (1, 2, 3)
GROUPS = ("Streets", "Parks and trees")
LEVELS = np.array([[12.0, 4.0], [6.0, 2.0], [3.0, 0.6]])  # area x group, requests a weekday
WEEKDAY = np.array([1.0, 1.0, 0.95, 0.95, 0.9, 0.35, 0.3])  # Monday first
HOLIDAYS = (date(2025, 7, 1), date(2025, 12, 25), date(2026, 1, 1), date(2026, 7, 1))
MAX_DAYS = 2000


def features(days: int, seed: int = 5) -> pl.DataFrame:
    """The first `days` days from `START` of every series; the last day is not complete."""
    dates = [START + timedelta(days=d) for d in range(days)]
    weekday = np.array([d.weekday() for d in dates])
    season = 1 + 0.15 * np.sin(2 * np.pi * np.arange(days) / 365.25)
    rng = np.random.default_rng(seed)
    draws = rng.random((MAX_DAYS, len(AREAS), len(GROUPS)))[:days]
    rows = []
    for a, area in enumerate(AREAS):
        for g, group in enumerate(GROUPS):
            rate = LEVELS[a, g] * WEEKDAY[weekday] * season
            counts = _poisson_quantile(draws[:, a, g], rate)
            rows.append(
                pl.DataFrame(
                    {
                        "date_local": dates,
                        "local_area_id": [area] * days,
                        "demand_group": [group] * days,
                        "requests_opened": counts,
                    }
                )
            )
    frame = pl.concat(rows)
    return frame.with_columns(
        local_area_id=pl.col("local_area_id").cast(pl.Int32),
        requests_opened=pl.col("requests_opened").cast(pl.Int64),
        day_of_week=pl.col("date_local").dt.weekday().cast(pl.Int32),
        week_of_year=pl.col("date_local").dt.week().cast(pl.Int32),
        is_weekend=pl.col("date_local").dt.weekday() >= 6,
        is_holiday=pl.col("date_local").is_in(list(HOLIDAYS)),
        holiday_name=pl.when(pl.col("date_local").is_in(list(HOLIDAYS))).then(pl.lit("Holiday")),
        is_complete_day=pl.col("date_local") < dates[-1],
    )


def _poisson_quantile(uniform: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Poisson draws by inversion, so that a day's draw depends on its own uniform only."""
    counts = np.zeros(uniform.shape, dtype=np.int64)
    probability = np.exp(-rate)
    cumulative = probability.copy()
    while (remaining := uniform > cumulative).any():
        counts += remaining
        probability = probability * rate / (counts + (~remaining))
        cumulative = np.where(remaining, cumulative + probability, cumulative)
    return counts


def write_warehouse(warehouse: Path, frame: pl.DataFrame) -> None:
    """Replace the features and the holiday seed in `warehouse` (created if missing)."""
    holidays = pl.DataFrame({"holiday_date": list(HOLIDAYS), "holiday_name": ["Holiday"] * 4})
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema if not exists gold")
        con.execute("create schema if not exists silver")
        con.register("features_frame", frame.to_arrow())
        con.execute(
            "create or replace table gold.agg_demand_features_daily as select * from features_frame"
        )
        con.register("holidays_frame", holidays.to_arrow())
        con.execute(
            "create or replace table silver.bc_statutory_holidays as select * from holidays_frame"
        )

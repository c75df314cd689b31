"""Which days and weeks of a range are complete, and what a change compares.

The newest day of the published data is partial when the data was taken before that day ended
(its newest source change falls on that day, Pacific time): it would show as a cliff. Weeks at
the edges of a range are partial when the range cuts them. Partial periods are shown, marked,
and left out of every change ("versus the previous period") and every trend line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from mmds_dashboard.filters import Filters

Grain = Literal["day", "week"]
DAILY_SERIES_MAX_DAYS = 92
DAILY_TREND_MAX_DAYS = 31


def series_grain(filters: Filters) -> Grain:
    """The opened-vs-closed series: days for ranges up to 92 days, weeks beyond."""
    return "day" if filters.days <= DAILY_SERIES_MAX_DAYS else "week"


def trend_grain(filters: Filters) -> Grain:
    """Trend lines beside a figure: days for ranges up to 31 days, weeks beyond."""
    return "day" if filters.days <= DAILY_TREND_MAX_DAYS else "week"


def period_start(day: date, grain: Grain) -> date:
    """The first day of the day or week (weeks start on Monday) holding `day`."""
    return day if grain == "day" else day - timedelta(days=day.weekday())


def period_end(start: date, grain: Grain) -> date:
    """The last day of the period starting on `start`."""
    return start if grain == "day" else start + timedelta(days=6)


@dataclass(frozen=True)
class Periods:
    """A range as the pages compare it.

    `comparison` is the range without its partial newest day, and `previous` the range of the
    same length that ends the day before `start`; both are None when the range holds no complete
    day.
    """

    start: date
    end: date
    partial_day: date | None
    comparison: tuple[date, date] | None
    previous: tuple[date, date] | None

    @property
    def comparison_days(self) -> int:
        """Days compared (0 when nothing can be compared)."""
        return 0 if self.comparison is None else (self.comparison[1] - self.comparison[0]).days + 1

    def is_partial(self, start: date, grain: Grain) -> bool:
        """Whether the period starting on `start` is cut by the range or holds the partial day."""
        end = period_end(start, grain)
        cut = start < self.start or end > self.end
        return cut or (self.partial_day is not None and start <= self.partial_day <= end)

    def complete_periods(self, grain: Grain) -> tuple[date, date] | None:
        """First and last day of the complete periods in the comparison range, or None."""
        if self.comparison is None:
            return None
        first = period_start(self.comparison[0], grain)
        if first < self.comparison[0]:
            first += timedelta(days=7)
        last = period_start(self.comparison[1], grain)
        if period_end(last, grain) > self.comparison[1]:
            last -= timedelta(days=7)
        return (first, period_end(last, grain)) if first <= last else None


def periods(filters: Filters, partial_day: date | None) -> Periods:
    """The periods of `filters`' range when `partial_day` (if any) is the partial newest day."""
    partial = partial_day if partial_day and filters.start <= partial_day <= filters.end else None
    # The partial day is the newest day of the data, so it can only be the range's last day.
    compared_end = filters.end - timedelta(days=1) if partial else filters.end
    if compared_end < filters.start:
        return Periods(filters.start, filters.end, partial, None, None)
    days = (compared_end - filters.start).days + 1
    previous = (filters.start - timedelta(days=days), filters.start - timedelta(days=1))
    return Periods(filters.start, filters.end, partial, (filters.start, compared_end), previous)

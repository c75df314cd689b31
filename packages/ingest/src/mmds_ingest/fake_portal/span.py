"""The span of time the fake portal's data covers unless told otherwise (no numpy here: the
`fake-portal` command reads these defaults before it knows whether the extra is installed)."""

from datetime import UTC, date, datetime, timedelta

DEFAULT_START = date(2022, 1, 1)
"""The first local date of the generated requests (the dataset's first year)."""

DEFAULT_END = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
"""The data's "now", fixed so that a seed always gives the same rows."""


def span_days(start: date, end: datetime) -> float:
    """Length of the span in days (used to pace new arrivals when time moves)."""
    begin = datetime(start.year, start.month, start.day, tzinfo=UTC)
    return max((end - begin) / timedelta(days=1), 1.0)

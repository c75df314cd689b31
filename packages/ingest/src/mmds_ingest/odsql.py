"""Building ODSQL `where` text for the portal: literals, filters, and batches of filters."""

import re
from datetime import UTC, date, datetime, time, timedelta

MAX_WHERE_CHARS = 3_000
"""Bound on one batch's `where` text: percent-encoded in the query string it stays far below
the 8 KB request lines common servers accept (the portal's own limit is not documented)."""

MAX_LITERAL_CHARS = 200
"""Longer text is left out of filters (a filter may match more; callers narrow it down)."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def instant_literal(instant: datetime) -> str:
    """A `date'...'` literal with an explicit UTC offset (the portal's reading of bare dates
    is unsure), to the second."""
    return f"date'{instant.astimezone(UTC).isoformat(timespec='seconds')}'"


def since(field: str, instant: datetime) -> str:
    """`field >= <instant>` (never `>`: records stamped exactly then are included)."""
    return f"{field} >= {instant_literal(instant)}"


def day_range(field: str, first: date, last: date) -> str:
    """Records whose `field` lies on the UTC days `first` to `last`, both included."""
    start = datetime.combine(first, time(), UTC)
    end = datetime.combine(last + timedelta(days=1), time(), UTC)
    return f"{field} >= {instant_literal(start)} AND {field} < {instant_literal(end)}"


def text_literal(value: str) -> str | None:
    """A quoted ODSQL literal needing no escape, or None (ODSQL's escaping is not documented,
    and long text or control characters would make a filter fragile: such a field is left out)."""
    if "\\" in value or len(value) > MAX_LITERAL_CHARS or _CONTROL.search(value):
        return None
    if '"' not in value:
        return f'"{value}"'
    if "'" not in value:
        return f"'{value}'"
    return None


def batch_filters(
    filters: dict[str, str | None], max_chars: int | None = None
) -> list[tuple[str | None, list[str]]]:
    """Group keyed filters into requests: (`where` OR-ing their filters, keys), each `where` at
    most `max_chars` (default `MAX_WHERE_CHARS`) long unless one filter alone is longer.
    A None filter matches everything, so it takes every key into one unfiltered request."""
    max_chars = max_chars or MAX_WHERE_CHARS
    if any(text is None for text in filters.values()):
        return [(None, sorted(filters))]
    by_filter: dict[str, list[str]] = {}
    for key, text in sorted(filters.items()):
        by_filter.setdefault(f"({text})", []).append(key)
    batches: list[tuple[list[str], list[str]]] = []
    length = 0
    for clause, keys in by_filter.items():
        if batches and length + len(" OR ") + len(clause) <= max_chars:
            batches[-1][0].append(clause)
            batches[-1][1].extend(keys)
            length += len(" OR ") + len(clause)
        else:
            batches.append(([clause], list(keys)))
            length = len(clause)
    return [(" OR ".join(clauses), keys) for clauses, keys in batches]

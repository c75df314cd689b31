"""The dashboard's filters, their defaults, and their round trip through a shareable URL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from mmds_dashboard.formatting import pacific

DEFAULT_RANGE_DAYS = 90
MAX_URL_VALUE_CHARS = 200

# URL query parameter per filter field (repeated keys for lists: ?area=Downtown&area=Kitsilano).
URL_KEYS = {
    "areas": "area",
    "departments": "department",
    "request_types": "type",
    "channels": "channel",
}
_LABELS = {
    "areas": "local area",
    "departments": "department",
    "request_types": "request type",
    "channels": "channel",
}


@dataclass(frozen=True)
class FilterOptions:
    """The values a filter can take in the published data, and when that data ends."""

    first_date: date
    last_date: date
    areas: tuple[str, ...]
    departments: tuple[str, ...]
    request_types: tuple[str, ...]
    channels: tuple[str, ...]
    data_until: datetime | None = None  # the newest source change the data holds

    @property
    def partial_day(self) -> date | None:
        """`last_date` when the data was taken before that day ended (Pacific time)."""
        until = pacific(self.data_until)
        return self.last_date if until is not None and until.date() <= self.last_date else None


@dataclass(frozen=True)
class Filters:
    """What the reader selected: an inclusive local date range and optional value lists.

    An empty list means "all". Values are only ever bound as SQL parameters.
    """

    start: date
    end: date
    areas: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    request_types: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()

    @property
    def days(self) -> int:
        """Number of days in the range, both ends included."""
        return (self.end - self.start).days + 1

    def without_areas(self) -> Filters:
        """The same filters for every local area."""
        return replace(self, areas=())


@dataclass
class ParsedFilters:
    """Filters read from a URL, with notes on the values that had to be ignored."""

    filters: Filters
    notes: list[str] = field(default_factory=list)


def default_filters(options: FilterOptions) -> Filters:
    """The newest `DEFAULT_RANGE_DAYS` days of data, everything else unfiltered."""
    start = max(options.first_date, options.last_date - timedelta(days=DEFAULT_RANGE_DAYS - 1))
    return Filters(start=start, end=options.last_date)


def filters_to_query_params(filters: Filters) -> dict[str, str | list[str]]:
    """URL query parameters that reproduce `filters` (empty lists are left out)."""
    params: dict[str, str | list[str]] = {
        "start": filters.start.isoformat(),
        "end": filters.end.isoformat(),
    }
    for name, key in URL_KEYS.items():
        values = getattr(filters, name)
        if values:
            params[key] = list(values)
    return params


def filters_from_query_params(
    params: Mapping[str, Sequence[str]], options: FilterOptions
) -> ParsedFilters:
    """Read filters from URL query parameters, keeping only values that exist in the data.

    Anything else (unknown names, malformed or out-of-range dates, oversized values) is ignored
    and reported in `notes`, which never repeat the offending value.
    """
    defaults = default_filters(options)
    notes: list[str] = []
    start = _parse_date(params.get("start", ()), "start", defaults.start, options, notes)
    end = _parse_date(params.get("end", ()), "end", defaults.end, options, notes)
    if start > end:
        notes.append("The link's start date was after its end date; the two were swapped.")
        start, end = end, start
    chosen: dict[str, tuple[str, ...]] = {}
    for name, key in URL_KEYS.items():
        allowed = set(getattr(options, name))
        given = list(params.get(key, ()))
        kept = tuple(dict.fromkeys(v for v in given if v in allowed))
        ignored = len(given) - sum(1 for v in given if v in allowed)
        if ignored:
            notes.append(
                f"Ignored {ignored} `{key}` value(s) in the link that match no {_LABELS[name]} "
                "in the published data."
            )
        chosen[name] = kept
    return ParsedFilters(Filters(start=start, end=end, **chosen), notes)


def _parse_date(
    values: Sequence[str], key: str, default: date, options: FilterOptions, notes: list[str]
) -> date:
    if not values:
        return default
    raw = values[-1]
    try:
        if len(raw) > MAX_URL_VALUE_CHARS:
            raise ValueError(raw)
        parsed = date.fromisoformat(raw)
    except ValueError:
        notes.append(f"The link's `{key}` is not a date (YYYY-MM-DD); using the default.")
        return default
    clamped = min(max(parsed, options.first_date), options.last_date)
    if clamped != parsed:
        notes.append(
            f"The link's `{key}` lies outside the published data "
            f"({options.first_date} to {options.last_date}); it was moved inside."
        )
    return clamped

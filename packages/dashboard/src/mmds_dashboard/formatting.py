"""Words and numbers as a person reads them: plurals, thousands separators, changes, and
instants in Pacific time (America/Vancouver), the time zone of every date the dashboard shows."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

PACIFIC = ZoneInfo("America/Vancouver")
PACIFIC_NAME = "Pacific time"
DASH = "—"
NO_CHANGE = "no change"


def plural(count: float, singular: str, plural_form: str | None = None) -> str:
    """`count` with its noun: "1 day", "2 days", "1,234 requests" ("0 days" too)."""
    noun = singular if count == 1 else plural_form or f"{singular}s"
    return f"{number(count)} {noun}"


def number(value: float | None, *, decimals: int = 0) -> str:
    """`value` with thousands separators, or an em dash when there is none."""
    return DASH if value is None or value != value else f"{value:,.{decimals}f}"


def change(current: float | None, previous: float | None, *, decimals: int = 0) -> str | None:
    """The change from `previous` to `current` as `+12 (+3.4%)`, `no change`, or None if not
    comparable."""
    if current is None or previous is None:
        return None
    difference = current - previous
    if round(difference, decimals) == 0:
        return NO_CHANGE
    text = f"{difference:+,.{decimals}f}"
    if previous:
        text += f" ({difference / previous:+.1%})"
    return text


def relative_change(current: float | None, previous: float | None) -> float | None:
    """(current - previous) / previous, or None when there is nothing to compare with."""
    if current is None or not previous:
        return None
    return (current - previous) / previous


def signed_percent(value: float | None) -> str:
    """A relative change as `+3.4%` (`0.0%` when it rounds to nothing), or an em dash."""
    if value is None or value != value:
        return DASH
    return "0.0%" if round(value, 3) == 0 else f"{value:+.1%}"


def signed_points(value: float | None) -> str:
    """A change of a share, in percentage points: `+1.2 points`, `0.0 points`, or an em dash."""
    if value is None or value != value:
        return DASH
    return "0.0 points" if round(value, 1) == 0 else f"{value:+.1f} points"


def pacific(instant: datetime | None) -> datetime | None:
    """`instant` in Pacific time (a naive instant is read as UTC, as the serving file stores)."""
    if instant is None:
        return None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(PACIFIC)


def pacific_time(instant: datetime | None) -> str:
    """`instant` as `2026-11-27 14:30 PST` (PDT in summer), or an em dash."""
    local = pacific(instant)
    return DASH if local is None else f"{local:%Y-%m-%d %H:%M %Z}"


def day(value: date) -> str:
    """A calendar date as `2026-11-27`."""
    return value.isoformat()


def date_range(start: date, end: date) -> str:
    """`2026-08-30 to 2026-11-27 (90 days)`, or `2026-11-27 (1 day)`."""
    days = (end - start).days + 1
    span = day(start) if start == end else f"{day(start)} to {day(end)}"
    return f"{span} ({plural(days, 'day')})"


def duration(seconds: float | None) -> str:
    """`41 s`, `3 min 05 s`, `1 h 02 min`, or an em dash."""
    if seconds is None:
        return DASH
    whole = round(seconds)
    if whole < 60:
        return f"{seconds:.0f} s" if seconds >= 1 else f"{seconds:.1f} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"

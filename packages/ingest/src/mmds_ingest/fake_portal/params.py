"""Reading REST parameters the way the portal does; refusals carry the portal's wording."""

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Params = dict[str, list[str]]
_ZONE_NAME = re.compile(r"^[A-Za-z0-9_+\-/]{1,64}$")


class ParameterError(ValueError):
    """A REST parameter the portal would refuse with `InvalidRESTParameterError`."""

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(f"Invalid value for {name} API parameter: {detail}")


def last(params: Params, name: str, default: str | None = None) -> str | None:
    """The last value given for `name` (the portal reads repeated parameters that way)."""
    values = params.get(name)
    return values[-1] if values else default


def integer(params: Params, name: str, default: int, low: int, high: int | None) -> int:
    """An integer parameter within `low..high` (no upper bound when `high` is None)."""
    raw = last(params, name)
    if raw is None or raw == "":
        return default
    expected = f"{low} <= {name} <= {high}" if high is not None else f"{name} >= {low}"
    try:
        value = int(raw)
    except ValueError:
        raise ParameterError(name, f"{raw} was found but {expected} is expected.") from None
    if value < low or (high is not None and value > high):
        raise ParameterError(name, f"{value} was found but {expected} is expected.")
    return value


def zone_name(params: Params) -> str:
    """The `timezone` parameter (UTC by default), checked against the IANA database."""
    name = last(params, "timezone", "UTC") or "UTC"
    try:
        if not _ZONE_NAME.match(name):
            raise ValueError(name)
        ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        raise ParameterError("timezone", f"{name} is not a known time zone.") from None
    return name


def boolean(params: Params, name: str, default: bool) -> bool:
    """A `true`/`false` parameter."""
    raw = (last(params, name) or "").lower()
    if raw == "":
        return default
    if raw not in ("true", "false"):
        raise ParameterError(name, f"{raw} was found but true or false is expected.")
    return raw == "true"

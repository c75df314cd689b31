"""A hostile mix: the records a portal run by people will send one day.

    hostile_records(now, wall_clock, seed)  # {kind: [record, ...]}, portal-shaped JSON dicts

Each kind is a realistic generated record with one thing wrong (two records for
`exact_duplicate`). Records are stamped in the minutes before `now` (the dataset's clock), as
fresh publications are, except where the kind is about the stamp itself. The same arguments
always give the same records; only `modified_near_future` depends on `wall_clock` (the real
clock, which the portal's `Date` header carries).
"""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from mmds_ingest.fake_portal.generator import LOCAL_TZ, generate_records

FAR_FUTURE = datetime(2999, 1, 1, tzinfo=UTC)
ANCIENT = datetime(1900, 1, 1, 8, tzinfo=UTC)  # midnight in Vancouver
NEAR_FUTURE = timedelta(hours=2)
"""How far ahead of the real clock `modified_near_future` is stamped: an hour past the
connector's default skew allowance (`MMDS_CLOCK_SKEW_MINUTES`, 60)."""

NEW_STATUS = "Reopened"
NEW_DEPARTMENT = "ENG - Drone Inspections"
NEW_CHANNEL = "Text Message"
NEW_CLOSURE_REASON = "Resolved by automation"
RENAMED_LOCAL_AREA = "Cedar Cottage"
"""Today part of Kensington-Cedar Cottage: a neighbourhood renamed or split one day."""

HUGE_TEXT_CHARS = 100_000
CONTROL_TEXT = "12\x07 MAIN ST\n\tUNIT\x1b3\x00\x7f"
FORMULA = '=HYPERLINK("http://example.com/x","click me")'
LOCATION = (49.2634, -123.1007)  # inside Mount Pleasant: where a crafted address is placed

Record = dict[str, object]


def _iso(instant: datetime) -> str:
    """As the portal writes instants: UTC, to the second."""
    return instant.astimezone(UTC).replace(microsecond=0).isoformat()


def _local_date(instant: str) -> date:
    return datetime.fromisoformat(instant).astimezone(ZoneInfo(LOCAL_TZ)).date()


def _closed(record: Record, close_date: date, reason: str = "Service provided") -> Record:
    return record | {
        "status": "Close",
        "closure_reason": reason,
        "service_request_close_date": close_date.isoformat(),
    }


def _open(record: Record) -> Record:
    return record | {"status": "Open", "closure_reason": "N/A", "service_request_close_date": None}


def _addressed(record: Record, address: str) -> Record:
    latitude, longitude = LOCATION
    return record | {
        "address": address,
        "latitude": latitude,
        "longitude": longitude,
        "geom": {"lon": longitude, "lat": latitude},
    }


def _kinds(wall_clock: datetime) -> dict[str, Callable[[Record], list[Record]]]:
    opened = "service_request_open_timestamp"
    modified = "last_modified_timestamp"
    return {
        "modified_far_future": lambda r: [r | {modified: _iso(FAR_FUTURE)}],
        "modified_near_future": lambda r: [r | {modified: _iso(wall_clock + NEAR_FUTURE)}],
        "opened_far_future": lambda r: [_open(r) | {opened: _iso(FAR_FUTURE)}],
        "closed_far_future": lambda r: [_closed(r, FAR_FUTURE.date())],
        "opened_ancient": lambda r: [
            _closed(r, _local_date(str(r[modified]))) | {opened: _iso(ANCIENT)}
        ],
        "modified_ancient": lambda r: [r | {modified: _iso(ANCIENT)}],
        "new_status": lambda r: [r | {"status": NEW_STATUS}],
        "new_department": lambda r: [r | {"department": NEW_DEPARTMENT}],
        "new_channel": lambda r: [r | {"channel": NEW_CHANNEL}],
        "new_closure_reason": lambda r: [
            _closed(r, _local_date(str(r[opened])), NEW_CLOSURE_REASON)
        ],
        "renamed_local_area": lambda r: [
            _addressed(r, "2900 FRASER ST") | {"local_area": RENAMED_LOCAL_AREA}
        ],
        "huge_text": lambda r: [_addressed(r, "1 " + "A" * (HUGE_TEXT_CHARS - 2))],
        "control_characters": lambda r: [_addressed(r, CONTROL_TEXT)],
        "formula": lambda r: [_addressed(r, FORMULA)],
        "exact_duplicate": lambda r: [r, dict(r)],
        "closed_before_opened": lambda r: [
            _closed(r, _local_date(str(r[opened])) - timedelta(days=3))
        ],
    }


HOSTILE_KINDS: tuple[str, ...] = tuple(_kinds(datetime(2000, 1, 1, tzinfo=UTC)))
"""Every kind of the mix, in a fixed order."""


def hostile_records(now: datetime, wall_clock: datetime, seed: int = 0) -> dict[str, list[Record]]:
    """One (or, for `exact_duplicate`, two) crafted records per kind of `HOSTILE_KINDS`.

    Based on generated requests opened before `now`; each is stamped a minute apart in the
    hour before `now` unless its kind sets the stamp.
    """
    kinds = _kinds(wall_clock)
    bases = generate_records(len(kinds), seed, end=now)
    mix: dict[str, list[Record]] = {}
    for number, (kind, make) in enumerate(kinds.items()):
        stamp = now - timedelta(minutes=number + 1)
        generated = datetime.fromisoformat(str(bases[number]["service_request_open_timestamp"]))
        opened = min(generated, stamp - timedelta(hours=1))
        base = bases[number] | {
            "service_request_open_timestamp": _iso(opened),
            "last_modified_timestamp": _iso(stamp),
        }
        if base["status"] == "Close":
            base = _closed(base, _local_date(_iso(stamp)), str(base["closure_reason"]))
        mix[kind] = make(base)
    return mix

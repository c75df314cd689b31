"""The datasets mmds loads, each declared once: the portal's id, its fields as the portal
publishes them, the cursor field, the first year it covers and the roles fields play.

Everything else (the expected schema, staging, identity, the cursor, the quality checks and
the fake portal's field list) is derived from these declarations.
"""

from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from zoneinfo import ZoneInfo

KINDS = {"text": "text", "datetime": "instant", "date": "date", "double": "number"}
"""How a portal field type is loaded; any other type (`geo_point_2d`) is kept as JSON."""


@dataclass(frozen=True)
class SourceField:
    """One field as the portal publishes it, and the role it plays in mmds."""

    name: str
    label: str
    type: str  # the portal's type: text, datetime, date, double, geo_point_2d
    required: bool = False  # the portal always fills it
    identity: bool = False  # does not change over a record's life

    @property
    def kind(self) -> str:
        """`text`, `instant`, `date`, `number` or `geo_point` (how bronze types it)."""
        return KINDS.get(self.type, "geo_point")


@dataclass(frozen=True)
class Dataset:
    """A portal dataset: what the connector needs to know about it."""

    id: str
    fields: tuple[SourceField, ...]
    cursor_field: str  # the change cursor: a datetime the portal moves on every change
    first_year: int  # records are not older than 1 January of this year (local time)
    timezone: str  # the dataset's local time zone (close dates are local calendar dates)

    @cached_property
    def field_names(self) -> tuple[str, ...]:
        """Every field, in the portal's order."""
        return tuple(field.name for field in self.fields)

    def names(self, kind: str) -> tuple[str, ...]:
        """The fields of one kind (`text`, `instant`, `date`, `number`, `geo_point`)."""
        return tuple(field.name for field in self.fields if field.kind == kind)

    @cached_property
    def identity_fields(self) -> tuple[str, ...]:
        """Fields that do not change over a record's life."""
        return tuple(field.name for field in self.fields if field.identity)

    @cached_property
    def required_fields(self) -> tuple[str, ...]:
        """Fields the portal always fills."""
        return tuple(field.name for field in self.fields if field.required)

    @property
    def first_instant(self) -> datetime:
        """Midnight of 1 January of the first year, in the dataset's time zone."""
        return datetime(self.first_year, 1, 1, tzinfo=ZoneInfo(self.timezone))

    @property
    def first_date(self) -> date:
        """1 January of the first year."""
        return date(self.first_year, 1, 1)


SERVICE_REQUESTS = Dataset(
    id="3-1-1-service-requests",
    fields=(
        SourceField("department", "Department", "text", required=True, identity=True),
        SourceField(
            "service_request_type", "Service request type", "text", required=True, identity=True
        ),
        SourceField("status", "Status", "text", required=True),
        SourceField("closure_reason", "Closure reason", "text"),
        SourceField(
            "service_request_open_timestamp",
            "Service request open timestamp",
            "datetime",
            required=True,
            identity=True,
        ),
        SourceField("service_request_close_date", "Service request close date", "date"),
        SourceField(
            "last_modified_timestamp", "Last modified timestamp", "datetime", required=True
        ),
        SourceField("address", "Address", "text", identity=True),
        SourceField("local_area", "Local area", "text", identity=True),
        SourceField("channel", "Channel", "text", identity=True),
        SourceField("latitude", "Latitude", "double", identity=True),
        SourceField("longitude", "Longitude", "double", identity=True),
        SourceField("geom", "geom", "geo_point_2d"),
    ),
    cursor_field="last_modified_timestamp",
    first_year=2022,  # 2009-2021 are another dataset (PORTAL.md)
    timezone="America/Vancouver",
)
"""The City of Vancouver's 3-1-1 service requests, 2022 to now."""

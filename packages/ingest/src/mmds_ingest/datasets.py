"""The datasets mmds loads, each declared once: the portal's id, the bronze table it lands in,
its fields as the portal publishes them, its change cursor (if it has one it can trust), the
first year it covers and the roles fields play.

Everything else (the bronze DDL, the expected schema, staging, identity, the cursor, the quality
checks, reconciliation and the fake portal's field lists) is derived from these declarations:
a new dataset is one more declaration here, plus its data in the fake portal.
"""

from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from zoneinfo import ZoneInfo

KINDS = {
    "text": "text",
    "datetime": "instant",
    "date": "date",
    "double": "number",
    "geo_point_2d": "geo_point",  # {"lon": .., "lat": ..}, kept as JSON
    "geo_shape": "geo_shape",  # a GeoJSON geometry (a Feature is unwrapped), kept as JSON
}
"""How each portal field type is loaded."""

DEFAULT_PORTAL_URL = "https://opendata.vancouver.ca"
"""The City of Vancouver's portal: the site root the datasets are read from by default."""

EXPLORE_API = "/api/explore/v2.1/catalog/datasets/"
"""Where a portal serves its datasets (Opendatasoft Explore v2.1), below its site root."""

BRONZE_SCHEMA = "bronze"


@dataclass(frozen=True)
class SourceField:
    """One field as the portal publishes it, and the role it plays in mmds."""

    name: str
    label: str
    type: str  # the portal's type: a key of KINDS
    required: bool = False  # the portal always fills it
    identity: bool = False  # does not change over a record's life

    @property
    def kind(self) -> str:
        """`text`, `instant`, `date`, `number`, `geo_point` or `geo_shape` (how bronze types
        it)."""
        return KINDS[self.type]


@dataclass(frozen=True)
class Dataset:
    """A portal dataset: what the connector needs to know about it."""

    id: str
    bronze_table: str  # its table in the bronze schema
    fields: tuple[SourceField, ...]
    # The change cursor, a datetime the portal moves on every change; None when the dataset
    # has none to trust: every load of it is then full (skipped when its change token holds).
    cursor_field: str | None
    first_year: int | None  # records are not older than 1 January of this year (local time)
    timezone: str  # the dataset's local time zone (close dates are local calendar dates)
    # Two number fields checked together as (latitude, longitude), if the dataset has them.
    coordinates: tuple[str, str] | None = None

    @property
    def table(self) -> str:
        """The bronze table, schema-qualified (`bronze.<bronze_table>`)."""
        return f"{BRONZE_SCHEMA}.{self.bronze_table}"

    @property
    def path(self) -> str:
        """The dataset's API path below the portal's site root."""
        return f"{EXPLORE_API}{self.id}"

    @property
    def cursor_sql(self) -> str:
        """SQL giving a row's cursor (a typed NULL for a dataset without one)."""
        return self.cursor_field or "CAST(NULL AS TIMESTAMPTZ)"

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
    def first_instant(self) -> datetime | None:
        """Midnight of 1 January of the first year, in the dataset's time zone."""
        if self.first_year is None:
            return None
        return datetime(self.first_year, 1, 1, tzinfo=ZoneInfo(self.timezone))

    @property
    def first_date(self) -> date | None:
        """1 January of the first year."""
        return None if self.first_year is None else date(self.first_year, 1, 1)


SERVICE_REQUESTS = Dataset(
    id="3-1-1-service-requests",
    bronze_table="service_requests",
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
    coordinates=("latitude", "longitude"),
)
"""The City of Vancouver's 3-1-1 service requests, 2022 to now."""

LOCAL_AREA_BOUNDARIES = Dataset(
    id="local-area-boundary",
    bronze_table="local_area_boundaries",
    fields=(
        SourceField("name", "Name", "text", required=True, identity=True),
        SourceField("geom", "Geom", "geo_shape", required=True),
        SourceField("geo_point_2d", "geo_point_2d", "geo_point_2d"),
    ),
    cursor_field=None,  # 22 records, rarely changed: each load is full
    first_year=None,
    timezone="America/Vancouver",
)
"""The City's 22 local areas as polygons (`name` spelled as 3-1-1's `local_area`)."""

DATASETS = (SERVICE_REQUESTS, LOCAL_AREA_BOUNDARIES)
"""Every dataset `mmds-ingest load` loads, in order."""


def dataset_by_id(dataset_id: str) -> Dataset:
    """The declared dataset with this portal id; ValueError naming the known ones."""
    for dataset in DATASETS:
        if dataset.id == dataset_id:
            return dataset
    known = ", ".join(dataset.id for dataset in DATASETS)
    raise ValueError(f"unknown dataset {dataset_id!r}; mmds loads {known}")

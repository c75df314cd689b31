"""The dataset's public fields, how each is rendered per format, and schema-change faults."""

import re
from dataclasses import dataclass, replace

from mmds_ingest.datasets import SERVICE_REQUESTS

DATASET_ID = SERVICE_REQUESTS.id
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class Field:
    """One field as the portal publishes it; `column` is where the fake stores it."""

    name: str
    label: str
    type: str  # ODS type: text, datetime, date, double, geo_point_2d
    column: str | None  # None for a field a schema change added (served as a constant)


BASE_FIELDS: tuple[Field, ...] = tuple(
    # The geo point is not stored: it is rendered from latitude and longitude.
    Field(f.name, f.label, f.type, None if f.kind == "geo_point" else f.name)
    for f in SERVICE_REQUESTS.fields
)
ADDED_FIELD_VALUE = "Normal"
SCHEMA_CHANGES = ("added", "removed", "renamed")


def changed_fields(change: str, field: str, to: str) -> tuple[Field, ...]:
    """The field list after a schema change: `field` added, removed, or renamed to `to`."""
    if change not in SCHEMA_CHANGES:
        raise ValueError(
            f"schema change must be one of {', '.join(SCHEMA_CHANGES)}, got {change!r}"
        )
    names = [f.name for f in BASE_FIELDS]
    if change == "added":
        if not _NAME.match(field) or field in names:
            raise ValueError(f"an added field needs a new lower-case name, got {field!r}")
        return (*BASE_FIELDS, Field(field, field.replace("_", " ").capitalize(), "text", None))
    if field not in names:
        raise ValueError(f"cannot {change[:-1]} unknown field {field!r}; fields: {names}")
    if change == "removed":
        return tuple(f for f in BASE_FIELDS if f.name != field)
    if not _NAME.match(to) or to in names:
        raise ValueError(f"a renamed field needs a new lower-case name, got {to!r}")
    return tuple(replace(f, name=to) if f.name == field else f for f in BASE_FIELDS)


def _offset_timestamp(column: str) -> str:
    # DuckDB's %z gives "-07"; the portal writes "-07:00".
    return (
        f"regexp_replace(strftime(\"{column}\", '%Y-%m-%dT%H:%M:%S%z'), "
        f"'([+-][0-9][0-9])$', '\\1:00')"
    )


def _geom_struct() -> str:
    return "CASE WHEN latitude IS NULL THEN NULL ELSE {'lon': longitude, 'lat': latitude} END"


RENDER_STYLES = ("json", "csv", "parquet", "parquet_text")


def render(field: Field, style: str) -> str:
    """SQL expression giving a field's value in one output style.

    `json`: portal JSON values; `csv`: text, the geo point as `"lat, lon"`; `parquet`: native
    types (TIMESTAMPTZ, DATE, struct geo point); `parquet_text`: every value as text.
    Only field definitions from this module reach this SQL, never request text.
    """
    if field.type == "geo_point_2d":
        if style == "csv":
            return "CASE WHEN latitude IS NULL THEN NULL ELSE latitude || ', ' || longitude END"
        if style == "parquet_text":
            return f"to_json({_geom_struct()})::VARCHAR"
        return _geom_struct()
    if field.column is None:
        return f"'{ADDED_FIELD_VALUE}'"
    if field.type == "datetime" and style != "parquet":
        return _offset_timestamp(field.column)
    if field.type == "date" and style != "parquet":
        return f"strftime(\"{field.column}\", '%Y-%m-%d')"
    return f'"{field.column}"'

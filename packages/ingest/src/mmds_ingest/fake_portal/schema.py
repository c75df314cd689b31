"""The served datasets' public fields, how each is rendered per format, and schema-change
faults. The fields come from the connector's declarations (`mmds_ingest.datasets`)."""

import re
from dataclasses import dataclass, replace

from mmds_ingest.datasets import LOCAL_AREA_BOUNDARIES, SERVICE_REQUESTS, Dataset

DATASET_ID = SERVICE_REQUESTS.id
BOUNDARIES_ID = LOCAL_AREA_BOUNDARIES.id
SHAPE_STYLES = ("geometry", "feature")
"""How JSON bodies carry a geo_shape: a bare GeoJSON geometry, or one wrapped in a Feature
(PORTAL.md: the portal has been seen doing both)."""
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class Field:
    """One field as the portal publishes it; `column` is where the fake stores it."""

    name: str
    label: str
    type: str  # ODS type: text, datetime, date, double, geo_point_2d, geo_shape
    column: str | None  # None: rendered from other columns, or added by a schema change


def published_fields(dataset: Dataset) -> tuple[Field, ...]:
    """A dataset's fields as the fake publishes them, each stored under its name, but for a
    geo point of a dataset with coordinates (3-1-1's `geom`): rendered from them."""
    return tuple(
        Field(
            f.name,
            f.label,
            f.type,
            None if f.kind == "geo_point" and dataset.coordinates else f.name,
        )
        for f in dataset.fields
    )


BASE_FIELDS = published_fields(SERVICE_REQUESTS)
BOUNDARY_FIELDS = published_fields(LOCAL_AREA_BOUNDARIES)
FIELDS = {DATASET_ID: BASE_FIELDS, BOUNDARIES_ID: BOUNDARY_FIELDS}
"""The published fields of every served dataset, by id."""
ADDED_FIELD_VALUE = "Normal"
SCHEMA_CHANGES = ("added", "removed", "renamed")


def changed_fields(base: tuple[Field, ...], change: str, field: str, to: str) -> tuple[Field, ...]:
    """The field list `base` after a schema change: `field` added, removed, or renamed to
    `to`."""
    if change not in SCHEMA_CHANGES:
        raise ValueError(
            f"schema change must be one of {', '.join(SCHEMA_CHANGES)}, got {change!r}"
        )
    names = [f.name for f in base]
    if change == "added":
        if not _NAME.match(field) or field in names:
            raise ValueError(f"an added field needs a new lower-case name, got {field!r}")
        return (*base, Field(field, field.replace("_", " ").capitalize(), "text", None))
    if field not in names:
        raise ValueError(f"cannot {change[:-1]} unknown field {field!r}; fields: {names}")
    if change == "removed":
        return tuple(f for f in base if f.name != field)
    if not _NAME.match(to) or to in names:
        raise ValueError(f"a renamed field needs a new lower-case name, got {to!r}")
    return tuple(replace(f, name=to) if f.name == field else f for f in base)


def _offset_timestamp(column: str) -> str:
    # DuckDB's %z gives "-07"; the portal writes "-07:00".
    return (
        f"regexp_replace(strftime(\"{column}\", '%Y-%m-%dT%H:%M:%S%z'), "
        f"'([+-][0-9][0-9])$', '\\1:00')"
    )


def _geom_struct() -> str:
    return "CASE WHEN latitude IS NULL THEN NULL ELSE {'lon': longitude, 'lat': latitude} END"


RENDER_STYLES = ("json", "csv", "parquet", "parquet_text")


def _stored_json(column: str) -> str:
    # The cast: a row on its way in is read from Arrow text, not yet from the JSON column.
    return f'CAST("{column}" AS JSON)'


def _stored_point(column: str) -> str:
    value = _stored_json(column)
    return (
        f"CASE WHEN {value} IS NULL THEN NULL ELSE {{'lon': CAST({value} ->> 'lon' AS DOUBLE), "
        f"'lat': CAST({value} ->> 'lat' AS DOUBLE)}} END"
    )


def render(field: Field, style: str, shape_style: str = "geometry") -> str:
    """SQL expression giving a field's value in one output style.

    `json`: portal JSON values (a geo_shape as a bare geometry or, with `shape_style`
    "feature", wrapped in a Feature); `csv`: text, the geo point as `"lat, lon"`; `parquet`:
    native types (TIMESTAMPTZ, DATE, struct geo point, a shape as GeoJSON text);
    `parquet_text`: every value as text. Only field definitions from this module reach this
    SQL, never request text.
    """
    if field.type == "geo_point_2d":
        point = _geom_struct() if field.column is None else _stored_point(field.column)
        if style == "csv":
            text = f"({point}).lat || ', ' || ({point}).lon"
            return f"CASE WHEN {point} IS NULL THEN NULL ELSE {text} END"
        if style == "parquet_text":
            return f"to_json({point})::VARCHAR"
        return point
    if field.type == "geo_shape" and field.column is not None:
        shape = _stored_json(field.column)
        if style != "json":
            return f"CAST({shape} AS VARCHAR)"
        if shape_style == "feature":
            return (
                f"CASE WHEN {shape} IS NULL THEN NULL ELSE json_object('type', 'Feature', "
                f"'geometry', {shape}, 'properties', json_object()) END"
            )
        return shape
    if field.column is None:
        return f"'{ADDED_FIELD_VALUE}'"
    if field.type == "datetime" and style != "parquet":
        return _offset_timestamp(field.column)
    if field.type == "date" and style != "parquet":
        return f"strftime(\"{field.column}\", '%Y-%m-%d')"
    return f'"{field.column}"'


def geojson_feature(fields: tuple[Field, ...]) -> str:
    """SQL rendering a row as a GeoJSON Feature (one text line): its geometry from the first
    geo_shape field (else the geo point, as a Point), the other fields as properties."""
    shapes = [f for f in fields if f.type == "geo_shape" and f.column is not None]
    points = [f for f in fields if f.type == "geo_point_2d"]
    geometry, carrier = "NULL", None
    if shapes:
        carrier = shapes[0]
        assert carrier.column is not None  # shapes are the stored ones
        geometry = _stored_json(carrier.column)
    elif points:
        carrier = points[0]
        point = render(carrier, "json")
        geometry = (
            f"CASE WHEN {point} IS NULL THEN NULL ELSE json_object('type', 'Point', "
            f"'coordinates', json_array(({point}).lon, ({point}).lat)) END"
        )
    properties = ", ".join(f"'{f.name}', {render(f, 'json')}" for f in fields if f != carrier)
    return (
        f"json_object('type', 'Feature', 'geometry', {geometry}, "
        f"'properties', json_object({properties}))::VARCHAR || chr(10)"
    )

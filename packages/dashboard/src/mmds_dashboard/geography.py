"""The local areas' boundaries, prepared for the map: GeoJSON features wound the way Vega's
projections (d3-geo) read them, and the frame to zoom to.

d3-geo works on the sphere and reads a ring's direction: an exterior ring must run clockwise
(seen on a north-up map) or it means "the whole globe but this area". GeoJSON (RFC 7946) prefers
the opposite, so every ring is rewound here, whatever the source sent.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from dataclasses import dataclass

COORDINATE_DECIMALS = 5  # about 1 m: the shapes stay exact on screen and the chart stays small
ZOOM_MARGIN = 0.25  # of the chosen areas' extent, added on every side when zoomed in
CITY_MARGIN = 0.02  # around the whole city

Ring = list[list[float]]


@dataclass(frozen=True)
class AreaShape:
    """One local area on the map: its name, its feature, and its extent (west, south, east,
    north)."""

    name: str
    feature: dict
    bounds: tuple[float, float, float, float]


def _signed_area(ring: Ring) -> float:
    """Shoelace area in the lon/lat plane: positive when the ring runs counter-clockwise."""
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(ring)) / 2


def _wound(ring: Ring, *, exterior: bool) -> Ring:
    rounded = [[round(x, COORDINATE_DECIMALS), round(y, COORDINATE_DECIMALS)] for x, y in ring]
    clockwise = _signed_area(rounded) < 0
    return rounded if clockwise == exterior else rounded[::-1]


def _polygon(rings: list[Ring]) -> list[Ring]:
    return [_wound(ring, exterior=i == 0) for i, ring in enumerate(rings)]


def rewound(geometry: dict) -> dict:
    """A `Polygon` or `MultiPolygon` with exterior rings clockwise and holes counter-clockwise,
    coordinates rounded to `COORDINATE_DECIMALS`."""
    if geometry["type"] == "Polygon":
        return {"type": "Polygon", "coordinates": _polygon(geometry["coordinates"])}
    if geometry["type"] == "MultiPolygon":
        return {
            "type": "MultiPolygon",
            "coordinates": [_polygon(polygon) for polygon in geometry["coordinates"]],
        }
    raise ValueError(
        f"a local area's boundary must be a Polygon or MultiPolygon, not {geometry['type']}"
    )


def _points(geometry: dict) -> Iterable[list[float]]:
    polygons = (
        [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    )
    for polygon in polygons:
        for ring in polygon:
            yield from ring


def area_shapes(rows: Iterable[tuple[str, str | None]]) -> tuple[AreaShape, ...]:
    """The shapes of the areas in `rows` (name, boundary GeoJSON text); areas without a
    boundary (the unknown member) are left out."""
    shapes = []
    for name, text in rows:
        if not text:
            continue
        geometry = rewound(json.loads(text))
        xs, ys = zip(*_points(geometry), strict=True)
        feature = {"type": "Feature", "geometry": geometry, "properties": {"local_area": name}}
        shapes.append(AreaShape(name, feature, (min(xs), min(ys), max(xs), max(ys))))
    return tuple(shapes)


def zoom_frame(
    shapes: Iterable[AreaShape], names: Iterable[str], margin: float = ZOOM_MARGIN
) -> dict | None:
    """A rectangle (a GeoJSON feature) around the named areas with `margin` (a share of their
    extent) on every side, for the map's projection to fit; None when none has a shape."""
    chosen = set(names)
    bounds = [shape.bounds for shape in shapes if shape.name in chosen]
    if not bounds:
        return None
    west, south, east, north = (
        min(b[0] for b in bounds),
        min(b[1] for b in bounds),
        max(b[2] for b in bounds),
        max(b[3] for b in bounds),
    )
    dx, dy = (east - west) * margin, (north - south) * margin
    west, south, east, north = west - dx, south - dy, east + dx, north + dy
    ring = [[west, north], [east, north], [east, south], [west, south], [west, north]]
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {},
    }

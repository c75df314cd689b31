"""The City's 22 local areas as the fake portal knows them: the real boundaries committed in
`data/local-area-boundary.geojson` (OGL-Vancouver), served as the `local-area-boundary`
dataset, and which points lie inside each (ray casting), for the generator to place located
requests inside their area."""

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

BOUNDARY_FILE = "local-area-boundary.geojson"


@dataclass(frozen=True)
class Area:
    """One local area: its name (as 3-1-1 spells it), its polygon, its centroid."""

    name: str
    geometry: dict  # GeoJSON Polygon or MultiPolygon, WGS84
    centroid: tuple[float, float]  # (lon, lat): the portal's geo_point_2d

    @property
    def rings(self) -> list[np.ndarray]:
        """Every ring of the area (outer boundaries and holes) as an (n, 2) lon/lat array."""
        polygons = (
            [self.geometry["coordinates"]]
            if self.geometry["type"] == "Polygon"
            else self.geometry["coordinates"]
        )
        return [np.asarray(ring, dtype=np.float64) for polygon in polygons for ring in polygon]


@cache
def boundary_collection() -> dict:
    """The committed GeoJSON FeatureCollection (features with `name` and `geo_point_2d`)."""
    text = resources.files("mmds_ingest.fake_portal").joinpath("data", BOUNDARY_FILE).read_text()
    return json.loads(text)


@cache
def areas() -> dict[str, Area]:
    """The 22 areas by name, in the file's order."""
    found = {}
    for feature in boundary_collection()["features"]:
        properties = feature["properties"]
        point = properties["geo_point_2d"]
        found[properties["name"]] = Area(
            properties["name"], feature["geometry"], (point["lon"], point["lat"])
        )
    return found


def inside(area: Area, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Whether each point lies inside `area`: a ray cast towards +longitude crosses its rings
    an odd number of times (holes and the parts of a MultiPolygon count alike)."""
    crossings = np.zeros(lon.shape, dtype=bool)
    for ring in area.rings:
        x1, y1 = ring[:-1, 0], ring[:-1, 1]
        x2, y2 = ring[1:, 0], ring[1:, 1]
        spans = (y1[None, :] > lat[:, None]) != (y2[None, :] > lat[:, None])
        with np.errstate(divide="ignore", invalid="ignore"):
            at = (
                x1[None, :] + (lat[:, None] - y1[None, :]) * (x2 - x1)[None, :] / (y2 - y1)[None, :]
            )
        crossings ^= np.logical_xor.reduce(spans & (lon[:, None] < at), axis=1)
    return crossings

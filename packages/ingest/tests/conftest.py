"""Shared fixtures of the ingest tests."""

import itertools
import json
from collections.abc import Callable, Iterator
from importlib import resources

import pytest
from mmds_ingest.fake_portal import FakePortal


@pytest.fixture
def fake_portal() -> Iterator[FakePortal]:
    """A fresh fake portal serving 2,000 generated rows (seed 7) on 127.0.0.1."""
    with FakePortal(rows=2_000, seed=7) as portal:
        yield portal


@pytest.fixture
def ingest_settings(tmp_path, fake_portal):
    """Settings of a load from `fake_portal` into a warehouse under tmp_path, with short waits."""
    from mmds_ingest.settings import IngestSettings

    return IngestSettings(
        data_dir=tmp_path / "data",
        portal_url=fake_portal.url,
        retry_attempts=4,
        retry_budget_seconds=10,
        retry_initial_wait_seconds=0.01,
        retry_max_wait_seconds=0.2,
        read_timeout_seconds=5,
    )


@pytest.fixture
def query(ingest_settings):
    """Run one SQL query on the test warehouse (opened and closed around it) and fetch all."""
    import duckdb

    def run(sql: str, params: list | None = None) -> list[tuple]:
        con = duckdb.connect(str(ingest_settings.warehouse_path), read_only=True)
        try:
            con.execute("SET TimeZone = 'UTC'")
            return con.execute(sql, params).fetchall()
        finally:
            con.close()

    return run


@pytest.fixture
def snapshot_warehouse(query):
    """Everything a load may change: bronze rows (key, hash, load), the audit and the state."""

    def take() -> tuple:
        return (
            query(
                "SELECT _record_key, _row_hash, _load_id FROM bronze.service_requests ORDER BY 1"
            ),
            query("SELECT * FROM bronze._loads ORDER BY started_at"),
            query("SELECT * FROM bronze._state"),
        )

    return take


def _ray_cast(lon: float, lat: float, geometry: dict) -> bool:
    """Whether a point lies inside a GeoJSON (Multi)Polygon: a ray towards +longitude crosses
    its rings an odd number of times (how PORTAL.md measured the real extract)."""
    polygons = (
        [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    )
    inside = False
    for ring in (ring for polygon in polygons for ring in polygon):
        for (x1, y1), (x2, y2) in itertools.pairwise(ring):
            if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
    return inside


@pytest.fixture(scope="session")
def committed_polygons() -> dict[str, dict]:
    """The local areas' polygons the fake portal serves, by name, read from the file itself."""
    data = resources.files("mmds_ingest.fake_portal").joinpath("data")
    text = data.joinpath("local-area-boundary.geojson").read_text(encoding="utf-8")
    return {f["properties"]["name"]: f["geometry"] for f in json.loads(text)["features"]}


@pytest.fixture(scope="session")
def outside_their_area(committed_polygons) -> Callable[[list], list]:
    """Of (area, latitude, longitude) rows, those whose point is not inside that area's polygon."""

    def outside(rows: list[tuple[str, float, float]]) -> list[tuple[str, float, float]]:
        return [
            (area, lat, lon)
            for area, lat, lon in rows
            if not _ray_cast(lon, lat, committed_polygons[area])
        ]

    return outside

"""The fake portal serves `local-area-boundary` from the committed real GeoJSON through the same
API as the requests: metadata, records, exports in JSON lines, JSON and GeoJSON, the shapes as
bare geometries or wrapped in Features, and faults aimed at one dataset."""

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mmds_ingest.fake_portal import FakePortal, Fault

BOUNDARIES = "local-area-boundary"
COMMAND = str(Path(sys.executable).with_name("mmds-ingest"))


@pytest.fixture(scope="module")
def portal() -> Iterator[FakePortal]:
    with FakePortal(rows=500, seed=5) as running:
        yield running


def test_metadata_declares_the_three_fields_and_22_records(portal):
    body = httpx.get(portal.url_of(BOUNDARIES), timeout=10).json()

    assert [(f["name"], f["type"]) for f in body["fields"]] == [
        ("name", "text"),
        ("geom", "geo_shape"),
        ("geo_point_2d", "geo_point_2d"),
    ]
    assert body["metas"]["default"]["records_count"] == 22
    assert body["dataset_id"] == BOUNDARIES


def test_exports_are_the_committed_boundaries(portal, committed_polygons):
    url = f"{portal.url_of(BOUNDARIES)}/exports"

    lines = [json.loads(line) for line in httpx.get(f"{url}/jsonl", timeout=10).text.splitlines()]
    array = httpx.get(f"{url}/json", timeout=10).json()

    assert lines == array
    assert {record["name"]: record["geom"] for record in lines} == committed_polygons
    assert all(set(record["geo_point_2d"]) == {"lon", "lat"} for record in lines)


def test_the_geojson_export_is_a_feature_collection(portal, committed_polygons):
    body = httpx.get(f"{portal.url_of(BOUNDARIES)}/exports/geojson", timeout=10)

    collection = body.json()
    assert body.headers["content-type"].startswith("application/geo+json")
    assert collection["type"] == "FeatureCollection"
    assert {f["properties"]["name"]: f["geometry"] for f in collection["features"]} == (
        committed_polygons
    )
    assert all(set(f["properties"]) == {"name", "geo_point_2d"} for f in collection["features"])


def test_the_requests_export_as_geojson_points(portal):
    body = httpx.get(f"{portal.dataset_url}/exports/geojson", params={"limit": 50}, timeout=10)

    features = body.json()["features"]
    assert len(features) == 50
    located = [f for f in features if f["geometry"] is not None]
    assert located and all(f["geometry"]["type"] == "Point" for f in located)
    first = located[0]
    assert first["geometry"]["coordinates"] == [
        first["properties"]["longitude"],
        first["properties"]["latitude"],
    ]


def test_records_filter_and_select_like_the_requests(portal):
    body = httpx.get(
        f"{portal.url_of(BOUNDARIES)}/records",
        params={"where": "name = 'Downtown'", "select": "name", "timezone": "UTC"},
        timeout=10,
    ).json()

    assert body == {"total_count": 1, "results": [{"name": "Downtown"}]}


def test_shapes_can_come_wrapped_in_features(committed_polygons):
    with FakePortal(rows=10, geo_shape_style="feature") as portal:
        records = httpx.get(f"{portal.url_of(BOUNDARIES)}/exports/json", timeout=10).json()

    assert all(record["geom"]["type"] == "Feature" for record in records)
    assert {r["name"]: r["geom"]["geometry"] for r in records} == committed_polygons


def test_a_fault_can_aim_at_one_dataset():
    with FakePortal(rows=10, faults=[f"server_error:times=always,dataset={BOUNDARIES}"]) as portal:
        assert httpx.get(portal.url_of(BOUNDARIES), timeout=10).status_code == 500
        assert httpx.get(portal.dataset_url, timeout=10).status_code == 200
        assert [r.dataset for r in portal.requests_seen] == [BOUNDARIES, "3-1-1-service-requests"]


def test_fault_datasets_are_validated():
    with pytest.raises(ValueError, match="dataset must be one of any, 3-1-1-service-requests"):
        Fault.parse("server_error:dataset=parks")
    with pytest.raises(ValueError, match="cannot remove unknown field 'channel'"):
        Fault.parse(f"schema_change:change=removed,field=channel,dataset={BOUNDARIES}")


def test_the_command_takes_the_shape_style():
    process = subprocess.Popen(
        [COMMAND, "fake-portal", "--rows", "10", "--geo-shape-style", "feature"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = process.stdout.readline().strip()
        dataset = f"{url}/api/explore/v2.1/catalog/datasets/{BOUNDARIES}"
        first = httpx.get(f"{dataset}/exports/json", timeout=10).json()[0]
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    assert first["geom"]["type"] == "Feature"

"""The fake portal answers like the Explore v2.1 API of PORTAL.md (real HTTP, httpx)."""

import httpx
from mmds_ingest.fake_portal import FakePortal

FIELDS = [
    "department", "service_request_type", "status", "closure_reason",
    "service_request_open_timestamp", "service_request_close_date", "last_modified_timestamp",
    "address", "local_area", "channel", "latitude", "longitude", "geom",
]  # fmt: skip


def test_url_is_the_site_root_on_loopback(fake_portal: FakePortal):
    assert fake_portal.url.startswith("http://127.0.0.1:")
    assert fake_portal.dataset_url == (
        f"{fake_portal.url}/api/explore/v2.1/catalog/datasets/3-1-1-service-requests"
    )


def test_metadata_lists_fields_and_counts(fake_portal: FakePortal):
    body = httpx.get(fake_portal.dataset_url).json()
    assert [f["name"] for f in body["fields"]] == FIELDS
    assert {f["type"] for f in body["fields"]} == {
        "text", "datetime", "date", "double", "geo_point_2d",
    }  # fmt: skip
    assert body["metas"]["default"]["records_count"] == 2_000
    assert body["metas"]["default"]["modified"].endswith("+00:00")


def test_records_count_only_with_limit_zero(fake_portal: FakePortal):
    body = httpx.get(f"{fake_portal.dataset_url}/records", params={"limit": 0}).json()
    assert body == {"total_count": 2_000, "results": []}


def test_jsonl_export_streams_every_row(fake_portal: FakePortal):
    response = httpx.get(f"{fake_portal.dataset_url}/exports/jsonl", params={"timezone": "UTC"})
    lines = response.text.splitlines()
    assert response.status_code == 200
    assert len(lines) == fake_portal.total_count() == 2_000

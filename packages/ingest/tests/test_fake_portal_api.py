"""The fake portal answers like the Explore v2.1 API of PORTAL.md (real HTTP, httpx)."""

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from mmds_ingest.fake_portal import FakePortal

FIELDS = [
    "department", "service_request_type", "status", "closure_reason",
    "service_request_open_timestamp", "service_request_close_date", "last_modified_timestamp",
    "address", "local_area", "channel", "latitude", "longitude", "geom",
]  # fmt: skip
ROWS = 3_000


@pytest.fixture(scope="module")
def portal() -> Iterator[FakePortal]:
    """One portal shared by the read-only tests of this module."""
    with FakePortal(rows=ROWS, seed=11) as running:
        yield running


@pytest.fixture(scope="module")
def client(portal: FakePortal) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=portal.dataset_url, timeout=30) as http:
        yield http


def test_url_is_the_site_root_on_loopback(portal: FakePortal):
    assert portal.url.startswith("http://127.0.0.1:")
    assert portal.dataset_url == (
        f"{portal.url}/api/explore/v2.1/catalog/datasets/3-1-1-service-requests"
    )


def test_metadata_lists_fields_and_counts(client: httpx.Client):
    body = client.get("").json()
    assert [f["name"] for f in body["fields"]] == FIELDS
    assert all(f["label"] and f["type"] for f in body["fields"])
    assert {f["type"] for f in body["fields"]} == {
        "text", "datetime", "date", "double", "geo_point_2d",
    }  # fmt: skip
    meta = body["metas"]["default"]
    assert meta["records_count"] == ROWS
    assert datetime.fromisoformat(meta["modified"]).utcoffset().total_seconds() == 0
    assert datetime.fromisoformat(meta["data_processed"])


def test_unknown_dataset_is_a_404_with_a_json_body(portal: FakePortal):
    response = httpx.get(f"{portal.url}/api/explore/v2.1/catalog/datasets/nope/records")
    assert response.status_code == 404
    assert set(response.json()) == {"error_code", "message"}
    assert "nope" in response.json()["message"]
    assert httpx.get(f"{portal.url}/somewhere").status_code == 404


def test_rate_limit_headers_on_every_response(client: httpx.Client):
    responses = [client.get(""), client.get("/records", params={"limit": 500}), client.get("/x")]
    assert [r.status_code for r in responses] == [200, 400, 404]
    for response in responses:
        assert int(response.headers["X-RateLimit-Limit"]) > 0
        assert int(response.headers["X-RateLimit-Remaining"]) >= 0
        assert int(response.headers["X-RateLimit-Reset"]) > 1_700_000_000
    remaining = [int(r.headers["X-RateLimit-Remaining"]) for r in responses]
    assert remaining == sorted(remaining, reverse=True) and remaining[0] > remaining[-1]


def test_records_count_only_with_limit_zero(client: httpx.Client):
    assert client.get("/records", params={"limit": 0}).json() == {
        "total_count": ROWS, "results": [],
    }  # fmt: skip


def test_records_are_flat_with_portal_formats(client: httpx.Client):
    body = client.get("/records", params={"limit": 100, "order_by": "address desc"}).json()
    assert body["total_count"] == ROWS and len(body["results"]) == 100
    record = body["results"][0]
    assert list(record) == FIELDS
    assert record["geom"] == {"lon": record["longitude"], "lat": record["latitude"]}
    assert record["service_request_open_timestamp"].endswith("+00:00")
    assert datetime.fromisoformat(record["last_modified_timestamp"])
    assert len(client.get("/records").json()["results"]) == 10  # the default limit


def test_records_limit_cap_is_a_400_with_the_portal_body(client: httpx.Client):
    response = client.get("/records", params={"limit": 101})
    assert response.status_code == 400
    assert response.json() == {
        "error_code": "InvalidRESTParameterError",
        "message": "Invalid value for limit API parameter: 101 was found but -1 <= limit <= 100 "
        "is expected.",
    }
    assert client.get("/records", params={"limit": "ten"}).status_code == 400


def test_records_window_caps_offset_plus_limit_at_10000(client: httpx.Client):
    assert client.get("/records", params={"offset": 9_900, "limit": 100}).status_code == 200
    response = client.get("/records", params={"offset": 9_901, "limit": 100})
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "InvalidRESTParameterError"
    assert body["message"].startswith("Invalid value for offset API parameter: 9901")


def test_paging_with_order_by_covers_rows_once(client: httpx.Client):
    order = "last_modified_timestamp, service_request_open_timestamp, address"
    pages = [
        client.get("/records", params={"order_by": order, "limit": 100, "offset": offset}).json()
        for offset in (0, 100, 200)
    ]
    stamps = [r["last_modified_timestamp"] for page in pages for r in page["results"]]
    assert len(stamps) == 300
    assert stamps == sorted(stamps)


def test_select_picks_fields_in_the_order_asked(client: httpx.Client):
    body = client.get("/records", params={"select": "status, department", "limit": 3}).json()
    assert [list(r) for r in body["results"]] == [["status", "department"]] * 3
    response = client.get("/records", params={"select": "count(*) as n"})
    assert response.status_code == 400
    assert response.json()["error_code"] == "ODSQLError"


def test_timezone_is_honoured(client: httpx.Client):
    params = {"order_by": "service_request_open_timestamp", "limit": 100}
    utc = client.get("/records", params=params).json()["results"]
    local = client.get("/records", params={**params, "timezone": "America/Vancouver"}).json()
    offsets = {r["service_request_open_timestamp"][-6:] for r in local["results"]}
    assert offsets <= {"-08:00", "-07:00"} and offsets
    for a, b in zip(utc, local["results"], strict=True):
        a_at = datetime.fromisoformat(a["service_request_open_timestamp"])
        assert a_at == datetime.fromisoformat(b["service_request_open_timestamp"])
    response = client.get("/records", params={"timezone": "Mars/Olympus"})
    assert response.status_code == 400
    assert response.json()["error_code"] == "InvalidRESTParameterError"


@pytest.fixture(scope="module")
def every_row(client: httpx.Client) -> list[dict]:
    response = client.get("/exports/jsonl", params={"timezone": "UTC"})
    return [json.loads(line) for line in response.text.splitlines()]


def test_jsonl_export_streams_every_row(client: httpx.Client, every_row: list[dict]):
    response = client.get("/exports/jsonl")
    assert response.headers.get("transfer-encoding") == "chunked"
    assert len(every_row) == ROWS
    assert list(every_row[0]) == FIELDS


def test_json_export_is_a_bare_array_of_the_same_rows(client: httpx.Client, every_row):
    assert client.get("/exports/json").json() == every_row
    assert client.get("/exports/json", params={"where": "status = 'none'"}).json() == []


def test_csv_export_uses_semicolon_and_bom_by_default(client: httpx.Client):
    body = client.get("/exports/csv").content
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == FIELDS
    assert len(rows) == ROWS + 1
    plain = client.get("/exports/csv", params={"delimiter": ",", "with_bom": "false"}).content
    assert not plain.startswith("\ufeff".encode())
    assert plain.decode().splitlines()[0].split(",") == [f'"{name}"' for name in FIELDS]
    nothing = client.get("/exports/csv", params={"where": "status = 'none'"}).content
    assert nothing.decode("utf-8-sig").splitlines() == [";".join(f'"{n}"' for n in FIELDS)]


def test_parquet_export_carries_native_types(client: httpx.Client):
    table = pq.read_table(io.BytesIO(client.get("/exports/parquet").content))
    assert table.num_rows == ROWS
    assert table.column_names == FIELDS
    assert pa.types.is_timestamp(table.schema.field("last_modified_timestamp").type)
    assert table.schema.field("last_modified_timestamp").type.tz is not None
    assert pa.types.is_date(table.schema.field("service_request_close_date").type)
    assert pa.types.is_struct(table.schema.field("geom").type)


def test_parquet_can_be_served_as_text_too():
    with FakePortal(rows=50, seed=1, parquet_style="parquet_text") as portal:
        content = httpx.get(f"{portal.dataset_url}/exports/parquet").content
    table = pq.read_table(io.BytesIO(content))
    assert pa.types.is_string(table.schema.field("last_modified_timestamp").type)
    geom = next(g for g in table.column("geom").to_pylist() if g is not None)
    assert set(json.loads(geom)) == {"lon", "lat"}


def test_exports_honour_where_select_order_by_and_limit(client: httpx.Client, every_row):
    params = {
        "where": "status = 'Open'",
        "select": "status, last_modified_timestamp",
        "order_by": "last_modified_timestamp desc",
        "limit": 5,
    }
    rows = [json.loads(line) for line in client.get("/exports/jsonl", params=params).text.split()]
    newest_open = sorted(
        (r["last_modified_timestamp"] for r in every_row if r["status"] == "Open"), reverse=True
    )[:5]
    assert [r["last_modified_timestamp"] for r in rows] == newest_open
    assert all(list(r) == ["status", "last_modified_timestamp"] for r in rows)


def test_unsupported_export_options_are_refused(client: httpx.Client):
    assert client.get("/exports/xlsx").status_code == 400
    assert client.get("/exports/csv", params={"use_labels": "true"}).status_code == 400
    assert client.get("/exports/csv", params={"delimiter": ";;"}).status_code == 400
    assert client.get("/exports/jsonl", params={"limit": -2}).status_code == 400


def test_daily_quota_is_answered_with_429_once_spent():
    with FakePortal(rows=20, seed=1, quota=2) as portal:
        first, second, third = (httpx.get(portal.dataset_url) for _ in range(3))
    assert [first.status_code, second.status_code, third.status_code] == [200, 200, 429]
    assert second.headers["X-RateLimit-Remaining"] == "0"
    assert third.headers["X-RateLimit-Limit"] == "2"
    assert int(third.headers["Retry-After"]) > 0
    assert third.json()["error_code"] == "TooManyRequestsError"


def test_rate_limit_reset_can_be_an_iso_instant():
    with FakePortal(rows=5, rate_limit_reset="iso") as portal:
        reset = httpx.get(portal.dataset_url).headers["X-RateLimit-Reset"]
    midnight = datetime.fromisoformat(reset)
    assert midnight.utcoffset().total_seconds() == 0
    assert (midnight.hour, midnight.minute) == (0, 0)
    with pytest.raises(ValueError, match="rate_limit_reset must be one of"):
        FakePortal(rate_limit_reset="tomorrow")


def test_an_api_key_draws_on_its_own_larger_quota():
    with FakePortal(rows=20, seed=1, quota=1, api_key_quota=3) as portal:
        anonymous = [httpx.get(portal.dataset_url).status_code for _ in range(2)]
        header = {"Authorization": "Apikey secret-1"}
        keyed = [httpx.get(portal.dataset_url, headers=header).status_code for _ in range(2)]
        keyed.append(httpx.get(portal.dataset_url, params={"apikey": "secret-2"}).status_code)
        keyed.append(httpx.get(portal.dataset_url, headers=header).status_code)
        seen = portal.requests_seen
    assert anonymous == [200, 429]
    assert keyed == [200, 200, 200, 429]
    assert [r.api_key for r in seen] == [None, None, "secret-1", "secret-1", "secret-2", "secret-1"]
    assert all("apikey" not in r.params for r in seen)


def test_requests_seen_show_what_a_client_asked(client: httpx.Client, portal: FakePortal):
    params = {"where": "status = 'Open'", "order_by": "last_modified_timestamp", "timezone": "UTC"}
    client.get("/exports/jsonl", params=params)
    last = portal.requests_seen[-1]
    assert (last.endpoint, last.params) == ("exports", params)
    assert last.path.endswith("/exports/jsonl")


def test_serves_an_existing_csv_extract(client: httpx.Client, tmp_path, every_row):
    extract = tmp_path / "extract.csv"
    extract.write_bytes(client.get("/exports/csv").content)
    with FakePortal(from_csv=extract) as portal:
        assert portal.total_count() == ROWS
        rows = httpx.get(f"{portal.dataset_url}/exports/json").json()
    assert rows == every_row


def test_a_csv_without_the_portal_fields_is_refused_clearly(tmp_path):
    extract = tmp_path / "other.csv"
    extract.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="lacks the portal's fields"), FakePortal(from_csv=extract):
        pass

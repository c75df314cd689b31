"""Each injected fault shows up over real HTTP as the connector will meet it, and is counted."""

import json

import httpx
import pytest
from mmds_ingest.fake_portal import FakePortal, Fault, FaultKind


def _records(portal: FakePortal, **params) -> httpx.Response:
    return httpx.get(f"{portal.dataset_url}/records", params=params, timeout=10)


def test_rate_limit_answers_429_with_retry_after_then_recovers(fake_portal: FakePortal):
    fake_portal.inject("rate_limit", times=2, retry_after=7)
    first, second, third = (_records(fake_portal) for _ in range(3))
    assert [first.status_code, second.status_code, third.status_code] == [429, 429, 200]
    assert first.headers["Retry-After"] == "7"
    assert first.json()["error_code"] == "TooManyRequestsError"
    assert "X-RateLimit-Remaining" in first.headers
    assert fake_portal.faults_fired == {"rate_limit": 2}


def test_server_errors_come_in_bursts_of_the_statuses_asked(fake_portal: FakePortal):
    fake_portal.inject("server_error", times=4, statuses=(502, 503))
    codes = [_records(fake_portal).status_code for _ in range(5)]
    assert codes == [502, 503, 502, 503, 200]
    fake_portal.inject("server_error")
    response = _records(fake_portal)
    assert response.status_code == 500 and response.json()["error_code"] == "InternalServerError"
    assert fake_portal.faults_fired["server_error"] == 5


def test_dropped_connection_breaks_the_stream_mid_body(fake_portal: FakePortal):
    fake_portal.inject("drop_connection", after_bytes=10_000)
    received = bytearray()
    with (
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream("GET", f"{fake_portal.dataset_url}/exports/jsonl") as response,
    ):
        assert response.status_code == 200
        for chunk in response.iter_bytes():
            received += chunk
    assert 0 < len(received) <= 10_000
    assert httpx.get(f"{fake_portal.dataset_url}/exports/jsonl").text.count("\n") == 2_000
    assert fake_portal.faults_fired == {"drop_connection": 1}


def test_dropped_connection_cuts_a_sized_body_too(fake_portal: FakePortal):
    fake_portal.inject("drop_connection", endpoint="records")
    with pytest.raises(httpx.RemoteProtocolError):
        _records(fake_portal, limit=100)
    assert _records(fake_portal, limit=100).status_code == 200


def test_truncated_body_is_complete_http_with_a_cut_payload(fake_portal: FakePortal):
    fake_portal.inject("truncated_body", after_bytes=5_000)
    response = httpx.get(f"{fake_portal.dataset_url}/exports/jsonl")
    assert response.status_code == 200
    assert len(response.content) == 5_000
    last = response.text.splitlines()[-1]
    with pytest.raises(json.JSONDecodeError):
        json.loads(last)


def test_body_faults_cut_short_bodies_too(fake_portal: FakePortal):
    fake_portal.inject("truncated_body", endpoint="metadata")
    response = httpx.get(fake_portal.dataset_url)
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()
    fake_portal.inject("truncated_body", endpoint="exports", after_bytes=10**9)
    small = httpx.get(f"{fake_portal.dataset_url}/exports/json", params={"limit": 3})
    with pytest.raises(json.JSONDecodeError):
        small.json()


def test_slow_first_byte_trips_a_short_read_timeout(fake_portal: FakePortal):
    fake_portal.inject("slow_first_byte", seconds=1.0)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(fake_portal.dataset_url, timeout=httpx.Timeout(5, read=0.2))
    assert fake_portal.faults_fired == {"slow_first_byte": 1}


def test_html_error_page_comes_with_status_200(fake_portal: FakePortal):
    fake_portal.inject("html_error_page", endpoint="exports")
    assert httpx.get(fake_portal.dataset_url).status_code == 200  # metadata unaffected
    response = httpx.get(f"{fake_portal.dataset_url}/exports/jsonl")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("options", "present", "absent"),
    [
        ({"change": "added", "field": "priority"}, "priority", None),
        ({"change": "removed", "field": "local_area"}, None, "local_area"),
        ({"change": "renamed", "field": "channel", "to": "request_channel"}, "request_channel",
         "channel"),
    ],
)  # fmt: skip
def test_schema_change_alters_metadata_records_and_exports(fake_portal, options, present, absent):
    fake_portal.inject("schema_change", **options)
    names = [f["name"] for f in httpx.get(fake_portal.dataset_url).json()["fields"]]
    record = _records(fake_portal, limit=1).json()["results"][0]
    line = json.loads(httpx.get(f"{fake_portal.dataset_url}/exports/jsonl").text.splitlines()[0])
    for keys in (names, list(record), list(line)):
        assert present is None or present in keys
        assert absent is None or absent not in keys
    if absent:
        response = _records(fake_portal, where=f"{absent} is null")
        assert response.json()["message"] == f"ODSQL query is malformed: Unknown field: {absent}"
    fake_portal.clear_faults()
    assert len(httpx.get(fake_portal.dataset_url).json()["fields"]) == 13
    assert fake_portal.faults_fired["schema_change"] == (4 if absent else 3)


def test_faults_can_target_one_endpoint_and_last_until_cleared(fake_portal: FakePortal):
    fake_portal.inject("server_error", times=None, endpoint="records", statuses=(503,))
    assert httpx.get(fake_portal.dataset_url).status_code == 200
    assert [_records(fake_portal).status_code for _ in range(3)] == [503] * 3
    fake_portal.clear_faults()
    assert _records(fake_portal).status_code == 200
    assert fake_portal.faults_fired == {"server_error": 3}


def test_faults_can_hit_a_share_of_requests_for_soak_tests():
    sometimes = "server_error:times=always,probability=0.3"
    with FakePortal(rows=10, seed=3, faults=[sometimes]) as portal, httpx.Client() as client:
        codes = [client.get(portal.dataset_url).status_code for _ in range(60)]
        fired = portal.faults_fired["server_error"]
    assert fired == sum(code >= 500 for code in codes)
    assert 5 <= fired <= 35
    with pytest.raises(ValueError, match="probability must be above 0"):
        Fault.parse("rate_limit:probability=0")


def test_faults_given_at_start_and_over_http():
    with FakePortal(rows=10, faults=["server_error:times=1,statuses=502"]) as portal:
        assert httpx.get(portal.dataset_url).status_code == 502
        control = f"{portal.url}/__fake__/faults"
        assert httpx.post(control, params={"spec": "rate_limit:retry_after=0"}).status_code == 200
        assert httpx.get(portal.dataset_url).status_code == 429
        assert httpx.get(control).json() == {
            "fired": {"server_error": 1, "rate_limit": 1}, "active": [],
        }  # fmt: skip
        bad = httpx.post(control, params={"spec": "meteor_strike"})
        assert bad.status_code == 400 and "unknown fault" in bad.json()["message"]
        httpx.post(control, params={"spec": "html_error_page:times=always"})
        assert httpx.delete(control).json()["active"] == []
        assert httpx.get(portal.dataset_url).status_code == 200


def test_fault_specs_are_validated_with_useful_messages():
    fault = Fault.parse("drop_connection:times=2,after_bytes=100")
    assert (fault.kind, fault.times, fault.endpoint) == (FaultKind.DROP_CONNECTION, 2, "exports")
    assert fault.options == {"after_bytes": 100}
    assert Fault.parse("schema_change:change=removed,field=geom").times is None
    for spec, says in [
        ("nope", "unknown fault"),
        ("rate_limit:colour=red", "has no option"),
        ("rate_limit:retry_after=soon", "must be like"),
        ("server_error:times=0", "times must be 1 or more"),
        ("server_error:endpoint=everywhere", "endpoint must be one of"),
        ("truncated_body:after_bytes", "is not key=value"),
    ]:
        with pytest.raises(ValueError, match=says):
            Fault.parse(spec)
    with pytest.raises(ValueError, match="cannot remove unknown field 'nope'"):
        Fault.parse("schema_change:change=removed,field=nope")
    with pytest.raises(ValueError, match="schema change must be one of"):
        Fault.parse("schema_change:change=shuffled")

"""What tests can make a running fake portal do: publish crafted records, delete records,
count per day like Explore v2.1's `group_by`, change under a client (`churn`), and serve the
hostile mix. All over real HTTP."""

import json
from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest
from mmds_ingest.fake_portal import HOSTILE_KINDS, FakePortal, hostile_records
from mmds_ingest.fake_portal.hostile import FAR_FUTURE, HUGE_TEXT_CHARS, NEAR_FUTURE

PER_DAY = {
    "select": "count(*) as n",
    "group_by": "date_format(last_modified_timestamp, 'yyyy-MM-dd') as day",
    "timezone": "UTC",
}


def _export(portal: FakePortal, **params) -> list[dict]:
    response = httpx.get(
        f"{portal.dataset_url}/exports/jsonl", params={"timezone": "UTC", **params}, timeout=30
    )
    response.raise_for_status()
    return [json.loads(line) for line in response.text.splitlines()]


def _metas(portal: FakePortal) -> dict:
    return httpx.get(portal.dataset_url, timeout=10).json()["metas"]["default"]


def _crafted(**changes) -> dict:
    record = {
        "department": "ENG - Sanitation Services",
        "service_request_type": "Missed Garbage Pickup Case",
        "status": "Open",
        "closure_reason": "N/A",
        "service_request_open_timestamp": "2026-11-29T10:00:00+00:00",
        "service_request_close_date": None,
        "last_modified_timestamp": "2026-11-29T10:05:00+00:00",
        "address": "4375 ROSS ST",
        "local_area": "Kensington-Cedar Cottage",
        "channel": "WEB",
        "latitude": 49.2458,
        "longitude": -123.0818,
        "geom": {"lon": -123.0818, "lat": 49.2458},
    }
    return record | changes


def test_added_records_are_served_as_given_and_move_the_metadata(fake_portal):
    before, metas = fake_portal.total_count(), _metas(fake_portal)
    crafted = _crafted(address="=1+1", last_modified_timestamp="2999-01-01T00:00:00+00:00")

    assert fake_portal.add_records([crafted, _crafted()]) == 2

    assert fake_portal.total_count() == before + 2
    served = _export(fake_portal, where="last_modified_timestamp > date'2999-01-01T00:00:00Z'")
    assert served == []
    served = _export(fake_portal, where="address = '=1+1'")
    assert served == [crafted]
    after = _metas(fake_portal)
    assert after["records_count"] == before + 2
    assert after["modified"] > metas["modified"]
    assert after["data_processed"] > metas["data_processed"]
    assert after["data_processed"] < "2999"  # the portal's clock is not the records' stamps


@pytest.mark.parametrize(
    "changes, says",
    [
        ({"last_modified_timestamp": "2026-11-29T10:05:00"}, "last_modified_timestamp"),
        ({"latitude": "north"}, "latitude"),
        ({"status": 3}, "status"),
        ({"priority": "high"}, "priority"),
        ({"geom": {"lon": 0, "lat": 0}}, "geom"),
    ],
)
def test_a_record_the_portal_could_not_send_is_refused_and_nothing_is_added(
    fake_portal, changes, says
):
    before = fake_portal.total_count()
    with pytest.raises(ValueError, match=says):
        fake_portal.add_records([_crafted(), _crafted(**changes)])
    assert fake_portal.total_count() == before


def test_records_are_added_and_deleted_over_the_control_routes(fake_portal):
    before = fake_portal.total_count()
    added = httpx.post(f"{fake_portal.url}/__fake__/records", json=[_crafted()], timeout=10)
    assert added.json() == {"added": 1, "total_count": before + 1}
    refused = httpx.post(f"{fake_portal.url}/__fake__/records", content=b"{oops", timeout=10)
    assert refused.status_code == 400
    assert refused.json()["error_code"] == "InvalidControlCall"

    deleted = httpx.delete(f"{fake_portal.url}/__fake__/records?count=3", timeout=10).json()

    assert deleted["total_count"] == before - 2
    assert len(deleted["deleted"]) == 3
    remaining = _export(fake_portal)
    assert not [record for record in deleted["deleted"] if record in remaining]


def test_deletions_are_seeded_and_returned_as_served(tmp_path):
    runs = []
    for _ in range(2):
        with FakePortal(rows=500, seed=3) as portal:
            served = _export(portal)
            deleted = portal.delete_records(4)
            assert portal.total_count() == 496
            assert all(record in served for record in deleted)
            runs.append(deleted)
    assert runs[0] == runs[1]


def test_counts_per_day_are_grouped_like_explore_v2_1(fake_portal):
    records = _export(fake_portal)
    expected = Counter(record["last_modified_timestamp"][:10] for record in records)

    as_json = httpx.get(f"{fake_portal.dataset_url}/exports/json", params=PER_DAY, timeout=30)
    as_lines = httpx.get(f"{fake_portal.dataset_url}/exports/jsonl", params=PER_DAY, timeout=30)

    groups = as_json.json()
    assert groups == [json.loads(line) for line in as_lines.text.splitlines()]
    assert [set(group) for group in groups] == [{"day", "n"}] * len(groups)
    assert {group["day"]: group["n"] for group in groups} == expected
    assert [group["day"] for group in groups] == sorted(expected)  # ordered by the key
    assert fake_portal.requests_seen[-1].endpoint == "aggregates"


def test_groups_follow_the_request_time_zone_where_and_labels(fake_portal):
    params = PER_DAY | {"timezone": "America/Vancouver", "where": "status = 'Open'"}
    local = httpx.get(f"{fake_portal.dataset_url}/exports/json", params=params, timeout=30)
    opened = [
        record
        for record in _export(fake_portal, timezone="America/Vancouver")
        if record["status"] == "Open"
    ]
    assert {g["day"]: g["n"] for g in local.json()} == Counter(
        record["last_modified_timestamp"][:10] for record in opened
    )
    plain = {"select": "count(*)", "group_by": "status"}
    statuses = httpx.get(f"{fake_portal.dataset_url}/exports/json", params=plain, timeout=30)
    assert {g["status"]: g["count(*)"] for g in statuses.json()} == Counter(
        record["status"] for record in _export(fake_portal)
    )


@pytest.mark.parametrize(
    "endpoint, params, says",
    [
        ("exports/csv", PER_DAY, "json or jsonl only"),
        ("exports/json", PER_DAY | {"order_by": "n"}, "order_by"),
        ("exports/json", PER_DAY | {"group_by": "date_format(status, 'yyyy')"}, "date or datetime"),
        ("exports/json", PER_DAY | {"group_by": "date_format(last_modified_timestamp, 'EEE')"},
         "Unsupported date format pattern: EEE"),
        ("exports/json", PER_DAY | {"select": "avg(latitude)"}, "Unsupported select"),
        ("exports/json", PER_DAY | {"group_by": "year(last_modified_timestamp)"}, "Unsupported"),
        ("records", PER_DAY, "not supported by the fake portal"),
    ],
)  # fmt: skip
def test_aggregations_outside_the_subset_are_refused(fake_portal, endpoint, params, says):
    response = httpx.get(f"{fake_portal.dataset_url}/{endpoint}", params=params, timeout=10)
    assert response.status_code == 400
    assert says in response.json()["message"]


def test_churn_deletes_records_just_before_an_aggregation_answers(fake_portal):
    before = fake_portal.total_count()
    fake_portal.inject("churn", times=2, records=3)

    counted = httpx.get(f"{fake_portal.dataset_url}/exports/json", params=PER_DAY, timeout=30)
    plain = _export(fake_portal)  # not an aggregation: no churn

    assert sum(group["n"] for group in counted.json()) == before - 3 == len(plain)
    httpx.get(f"{fake_portal.dataset_url}/exports/json", params=PER_DAY, timeout=30)
    assert fake_portal.total_count() == before - 6
    assert fake_portal.faults_fired == {"churn": 2}


def test_the_hostile_mix_is_deterministic_and_has_every_kind():
    now = datetime(2026, 11, 29, 12, tzinfo=UTC)
    wall = datetime(2026, 12, 4, 9, 0, 0, 123_456, tzinfo=UTC)
    mix = hostile_records(now, wall, seed=5)

    assert mix == hostile_records(now, wall, seed=5)
    assert tuple(mix) == HOSTILE_KINDS
    assert len(mix["exact_duplicate"]) == 2
    assert mix["exact_duplicate"][0] == mix["exact_duplicate"][1]
    assert all(len(mix[kind]) == 1 for kind in HOSTILE_KINDS if kind != "exact_duplicate")
    assert mix["modified_near_future"][0]["last_modified_timestamp"] == (
        (wall + NEAR_FUTURE).replace(microsecond=0).isoformat()
    )
    assert mix["opened_far_future"][0]["service_request_open_timestamp"] == FAR_FUTURE.isoformat()
    assert len(mix["huge_text"][0]["address"]) == HUGE_TEXT_CHARS
    assert mix["formula"][0]["address"].startswith("=HYPERLINK(")
    closed = mix["closed_before_opened"][0]
    assert closed["service_request_close_date"] < closed["service_request_open_timestamp"][:10]


def test_a_hostile_portal_serves_the_mix_exactly():
    with FakePortal(rows=300, seed=4, hostile=True) as portal:
        served = _export(portal)
        mix = hostile_records(portal.now, datetime.now(UTC), seed=4)
    crafted = [record for records in mix.values() for record in records]
    assert len(served) == 300 + len(crafted)
    stable = [r for kind, records in mix.items() if kind != "modified_near_future" for r in records]
    assert all(record in served for record in stable)
    assert len([record for record in served if record == mix["exact_duplicate"][0]]) == 2

"""Time moves on the fake portal the way the real dataset changes from day to day."""

import json
from datetime import datetime, timedelta

import httpx
import pytest
from mmds_ingest.fake_portal import FakePortal


def _rows(portal: FakePortal) -> list[dict]:
    text = httpx.get(f"{portal.dataset_url}/exports/jsonl").text
    return [json.loads(line) for line in text.splitlines()]


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_advance_brings_new_closes_open_edits_old_and_moves_metadata():
    with FakePortal(rows=20_000, seed=3) as portal:
        before_rows, before_now = _rows(portal), portal.now
        meta_before = httpx.get(portal.dataset_url).json()["metas"]["default"]
        summary = portal.advance(days=7)
        after_rows = _rows(portal)
        meta_after = httpx.get(portal.dataset_url).json()["metas"]["default"]
    assert summary.now == before_now + timedelta(days=7) == _at(meta_after["data_processed"])
    assert summary.added > 0 and summary.closed > 0 and summary.edited > 0
    assert summary.total_count == len(after_rows)
    assert len(after_rows) == len(before_rows) + summary.added - summary.deleted
    assert meta_after["records_count"] == len(after_rows)
    assert _at(meta_after["modified"]) > _at(meta_before["modified"])

    changed = [r for r in after_rows if _at(r["last_modified_timestamp"]) > before_now]
    assert len(changed) >= summary.added + summary.closed + summary.edited - summary.deleted
    assert all(_at(r["last_modified_timestamp"]) <= summary.now for r in after_rows)
    newly_closed = [
        r for r in changed
        if r["status"] == "Close" and _at(r["service_request_open_timestamp"]) < before_now
        and r["service_request_close_date"] >= before_now.date().isoformat()
    ]  # fmt: skip
    assert newly_closed
    assert all(r["closure_reason"] != "N/A" for r in newly_closed)
    late_edits = [
        r for r in changed
        if r["status"] == "Close"
        and r["service_request_close_date"] < (before_now - timedelta(days=60)).date().isoformat()
    ]  # fmt: skip
    assert late_edits  # an old closed request edited months later


def test_rows_occasionally_disappear():
    with FakePortal(rows=2_000, seed=9) as portal:
        deleted = sum(portal.advance(days=5).deleted for _ in range(6))
    assert deleted > 0


def test_time_moves_the_same_way_for_the_same_seed():
    summaries = []
    for _ in range(2):
        with FakePortal(rows=3_000, seed=4) as portal:
            summaries.append([portal.advance(days=2), portal.advance(days=1)])
            summaries[-1].append(_rows(portal))
    assert summaries[0] == summaries[1]


def test_advance_over_http_and_refusal_of_going_back(fake_portal: FakePortal):
    response = httpx.post(f"{fake_portal.url}/__fake__/advance", params={"days": 2})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"now", "added", "closed", "edited", "deleted", "total_count"}
    assert body["total_count"] == fake_portal.total_count()
    state = httpx.get(f"{fake_portal.url}/__fake__/state").json()
    assert state["now"] == body["now"] == fake_portal.now.isoformat()
    refused = httpx.post(f"{fake_portal.url}/__fake__/advance", params={"days": -1})
    assert refused.status_code == 400 and "forward" in refused.json()["message"]
    with pytest.raises(ValueError, match="forward"):
        fake_portal.advance(days=0)

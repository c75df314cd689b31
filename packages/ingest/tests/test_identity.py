"""Identity and content hashing of records, through the real staging SQL on DuckDB."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from mmds_ingest import bronze
from mmds_ingest.datasets import SERVICE_REQUESTS
from mmds_ingest.staging import Staging

STAGING = Staging(SERVICE_REQUESTS, datetime(2026, 12, 1, tzinfo=UTC))

BASE = {
    "department": "ENG - Sanitation Services",
    "service_request_type": "Missed Garbage Pickup Case",
    "status": "Open",
    "closure_reason": "N/A",
    "service_request_open_timestamp": "2025-03-04T17:05:00+00:00",
    "service_request_close_date": None,
    "last_modified_timestamp": "2025-03-04T17:05:00+00:00",
    "address": "4375 ROSS ST",
    "local_area": "Kensington-Cedar Cottage",
    "channel": "WEB",
    "latitude": 49.24588847779,
    "longitude": -123.08183124972,
    "geom": {"lon": -123.08183124972, "lat": 49.24588847779},
}


def _stage(tmp_path: Path, records: list[dict]) -> list[tuple]:
    path = tmp_path / "export.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    con = bronze.connect(tmp_path / "w.duckdb")
    STAGING.stage(con, path)
    rows = con.execute("SELECT _identity, _row_hash FROM staged ORDER BY rowid").fetchall()
    con.close()
    return rows


def test_lifecycle_changes_keep_identity_but_change_content(tmp_path: Path) -> None:
    closed = BASE | {
        "status": "Close",
        "closure_reason": "Service provided",
        "service_request_close_date": "2025-03-06",
        "last_modified_timestamp": "2025-03-06T20:00:00+00:00",
    }
    (open_id, open_hash), (closed_id, closed_hash) = _stage(tmp_path, [BASE, closed])
    assert open_id == closed_id
    assert open_hash != closed_hash


@pytest.mark.parametrize(
    "field, value",
    [
        ("department", "ENG - Streets Operations"),
        ("service_request_type", "Street Repair Case"),
        ("service_request_open_timestamp", "2025-03-04T17:05:01+00:00"),
        ("address", "4377 ROSS ST"),
        ("local_area", None),
        ("channel", "Phone"),
        ("latitude", 49.2),
        ("longitude", -123.1),
    ],
)
def test_each_descriptive_field_is_part_of_identity(
    tmp_path: Path, field: str, value: object
) -> None:
    (first_id, _), (second_id, _) = _stage(tmp_path, [BASE, BASE | {field: value}])
    assert first_id != second_id


def test_same_instant_in_another_offset_is_the_same_record(tmp_path: Path) -> None:
    local = BASE | {
        "service_request_open_timestamp": "2025-03-04T09:05:00-08:00",
        "last_modified_timestamp": "2025-03-04T09:05:00-08:00",
    }
    (utc_id, utc_hash), (local_id, local_hash) = _stage(tmp_path, [BASE, local])
    assert (utc_id, utc_hash) == (local_id, local_hash)


def test_null_is_not_the_empty_string(tmp_path: Path) -> None:
    (null_id, _), (empty_id, _) = _stage(
        tmp_path, [BASE | {"address": None}, BASE | {"address": ""}]
    )
    assert null_id != empty_id

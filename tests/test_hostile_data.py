"""Data nobody wrote for the happy path, end to end: `mmds run` against a portal that serves the
hostile mix. Odd records are loaded, flagged, quarantined as the contract documents, and the good
ones publish; a systemic share of odd records stops publishing and leaves the serving file as it
was. (Each package tests its own half; this proves the halves fit.)
"""

import os
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from mmds_ingest.fake_portal import FakePortal
from mmds_ingest.fake_portal.generator import generate_records
from mmds_ingest.fake_portal.hostile import (
    NEW_CHANNEL,
    NEW_CLOSURE_REASON,
    NEW_DEPARTMENT,
    NEW_STATUS,
    RENAMED_LOCAL_AREA,
)

pytestmark = pytest.mark.slow

END = datetime(2026, 6, 30, 12, tzinfo=UTC)
ROWS = 1_500

# kind of the hostile mix -> (reason code, treatment, raw value when the reason is about a value)
EXPECTED = {
    "modified_far_future": ("last_modified_timestamp_in_future", "nulled", None),
    "modified_near_future": ("last_modified_timestamp_in_future", "nulled", None),
    "opened_far_future": ("service_request_open_timestamp_in_future", "excluded", None),
    "closed_far_future": ("service_request_close_date_in_future", "nulled", None),
    "opened_ancient": ("service_request_open_timestamp_before_first_year", "excluded", None),
    "modified_ancient": ("last_modified_timestamp_before_first_year", "nulled", None),
    "new_status": ("unknown_status", "excluded", NEW_STATUS),
    "new_department": ("unknown_department", "mapped_to_other", NEW_DEPARTMENT),
    "new_channel": ("unknown_channel", "mapped_to_other", NEW_CHANNEL),
    "new_closure_reason": ("unknown_closure_reason", "mapped_to_other", NEW_CLOSURE_REASON),
    "renamed_local_area": ("unknown_local_area", "mapped_to_unknown", RENAMED_LOCAL_AREA),
    "huge_text": ("address_too_long", "cleaned", None),
    "control_characters": ("address_control_characters", "cleaned", None),
    "formula": ("address_formula_like", "kept", None),
    "exact_duplicate": ("exact_duplicate", "kept", None),
    "closed_before_opened": ("closed_before_opened", "kept", None),
}


def mmds_run(data_dir: Path, portal_url: str, **settings: str) -> subprocess.CompletedProcess:
    """`mmds run` in a process of its own, as a user runs it."""
    env = {
        **os.environ,
        "MMDS_DATA_DIR": str(data_dir),
        "MMDS_PORTAL_URL": portal_url,
        "MMDS_RETRY_INITIAL_WAIT_SECONDS": "0.01",
        **settings,
    }
    env.pop("MMDS_PORTAL_API_KEY", None)
    command = [str(Path(sys.executable).with_name("mmds")), "run"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)


def query(path: Path, sql: str, parameters: list | None = None) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(sql, parameters).fetchall()


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """One `mmds run` against a portal serving generated requests plus the hostile mix."""
    data_dir = tmp_path_factory.mktemp("hostile") / "data"
    with FakePortal(rows=ROWS, seed=5, end=END, hostile=True) as portal:
        result = mmds_run(data_dir, portal.url)
        portal_rows = portal.total_count()
    return data_dir, result, portal_rows


def test_the_hostile_mix_is_loaded_whole_and_the_run_publishes(hostile_run):
    data_dir, result, portal_rows = hostile_run
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    warehouse, serving = data_dir / "warehouse.duckdb", data_dir / "serving.duckdb"
    assert query(warehouse, "select count(*) from bronze.service_requests") == [(portal_rows,)]
    assert serving.exists()


def test_each_odd_record_carries_its_reason_and_gold_treats_it_as_documented(hostile_run):
    data_dir = hostile_run[0]
    serving = data_dir / "serving.duckdb"
    quarantined = query(
        serving,
        "select quality_reason, treatment, raw_value, service_request_id "
        "from gold.fct_quarantined_requests",
    )
    for kind, (reason, treatment, raw_value) in EXPECTED.items():
        rows = [
            row
            for row in quarantined
            if row[0] == reason and (raw_value is None or row[2] == raw_value)
        ]
        assert rows, f"{kind}: no quarantined row with reason {reason}"
        assert {row[1] for row in rows} == {treatment}, kind
        in_fact = query(
            serving,
            "select department, channel, closure_reason, local_area_id, last_modified_at, "
            "closed_date from gold.fct_service_requests where list_contains(?, service_request_id)",
            [[row[3] for row in rows]],
        )
        if treatment == "excluded":
            assert in_fact == [], kind
            continue
        assert len(in_fact) == len(rows), kind
        department, channel, closure_reason, area_id, modified, closed = in_fact[0]
        if reason == "unknown_department":
            assert department == "Other"
        elif reason == "unknown_channel":
            assert channel == "Other"
        elif reason == "unknown_closure_reason":
            assert closure_reason == "Other"
        elif reason == "unknown_local_area":
            assert area_id == 0
        elif reason.startswith("last_modified_timestamp"):
            assert modified is None
        elif reason == "service_request_close_date_in_future":
            assert closed is None


def test_no_series_stretches_to_1900_or_2999(hostile_run):
    serving = hostile_run[0] / "serving.duckdb"
    first, last = query(
        serving, "select min(date_local), max(date_local) from gold.agg_requests_daily"
    )[0]
    assert first >= date(2022, 1, 1)
    assert last <= END.date() + timedelta(days=1)
    (opened_before,) = query(
        serving,
        "select count(*) from gold.fct_service_requests where opened_date_local < '2022-01-01'",
    )[0]
    assert opened_before == 0


def test_a_future_stamp_does_not_stop_later_records_from_arriving(tmp_path):
    data_dir = tmp_path / "data"
    with FakePortal(rows=ROWS, seed=6, end=END) as portal:
        assert mmds_run(data_dir, portal.url).returncode == 0
        future = generate_records(1, seed=61, end=END)[0] | {
            "last_modified_timestamp": "2999-01-01T00:00:00+00:00"
        }
        portal.add_records([future])
        assert mmds_run(data_dir, portal.url).returncode == 0
        later = generate_records(30, seed=62, end=END + timedelta(days=1))
        stamp = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
        for record in later:
            record["last_modified_timestamp"] = stamp.isoformat()
        portal.add_records(later)
        result = mmds_run(data_dir, portal.url)
        total = portal.total_count()
    assert result.returncode == 0, result.stdout[-3000:]
    warehouse = data_dir / "warehouse.duckdb"
    assert query(warehouse, "select count(*) from bronze.service_requests") == [(total,)]
    (cursor,) = query(warehouse, "select max(cursor) from bronze._state")[0]
    assert cursor < datetime(2999, 1, 1, tzinfo=UTC)
    serving = data_dir / "serving.duckdb"
    assert query(serving, "select count(*) from gold.fct_service_requests") == [(total,)]


CLEAN_SEED = 7


@pytest.fixture(scope="module")
def after_a_clean_run(tmp_path_factory) -> Path:
    """A data dir after one clean `mmds run` of the portal of `CLEAN_SEED` (read-only: copy it)."""
    data_dir = tmp_path_factory.mktemp("clean") / "data"
    with FakePortal(rows=ROWS, seed=CLEAN_SEED, end=END) as portal:
        assert mmds_run(data_dir, portal.url).returncode == 0
    return data_dir


@pytest.mark.parametrize(
    ("min_rows", "max_share", "publishes"),
    [("40", "0.05", True), ("10", "1.0", True), ("10", "0.05", False)],
    ids=["fewer-rows-than-the-minimum", "share-under-the-maximum", "over-both-thresholds"],
)
def test_a_systemic_share_of_odd_records_stops_publishing(
    after_a_clean_run, tmp_path, min_rows, max_share, publishes
):
    """30 requests with a status the City never sent, after a clean first run: the newest load
    is nothing but them. Systemic only when both thresholds are passed."""
    data_dir = tmp_path / "data"
    shutil.copytree(after_a_clean_run, data_dir)
    with FakePortal(rows=ROWS, seed=CLEAN_SEED, end=END) as portal:  # the same portal again
        serving = data_dir / "serving.duckdb"
        before = serving.read_bytes()
        odd = generate_records(30, seed=71, end=END)
        stamp = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
        for record in odd:
            record |= {"status": NEW_STATUS, "last_modified_timestamp": stamp.isoformat()}
        portal.add_records(odd)
        result = mmds_run(
            data_dir, portal.url, MMDS_MAX_FLAGGED_SHARE=max_share, MMDS_MIN_FLAGGED_ROWS=min_rows
        )
    output = result.stdout + result.stderr
    if publishes:
        assert result.returncode == 0, output[-3000:]
        assert serving.read_bytes() != before
    else:
        assert result.returncode != 0
        assert serving.read_bytes() == before
        assert "flagged_share_of_newest_load_within_threshold" in output, output[-3000:]
        assert "max_flagged_share 0.05" in output

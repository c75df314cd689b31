"""The hostile mix over real HTTP: whatever the City sends, the load succeeds, bronze equals
the portal (count and content, the raw record byte for byte) and the odd row carries its
reason code. Values only reference data can judge (a new status, a renamed area, ...) are
loaded unflagged here: silver flags them (docs/contracts.md)."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import duckdb
import httpx
import pytest
from mmds_ingest import IngestSettings, run_load
from mmds_ingest.fake_portal import HOSTILE_KINDS, FakePortal, hostile_records

EXPECTED_ISSUES = {
    "modified_far_future": "last_modified_timestamp_in_future",
    "modified_near_future": "last_modified_timestamp_in_future",
    "opened_far_future": "service_request_open_timestamp_in_future",
    "closed_far_future": "service_request_close_date_in_future",
    "opened_ancient": "service_request_open_timestamp_before_first_year",
    "modified_ancient": "last_modified_timestamp_before_first_year",
    "huge_text": "address_too_long",
    "control_characters": "address_control_characters",
    "formula": "address_formula_like",
    "new_status": None,
    "new_department": None,
    "new_channel": None,
    "new_closure_reason": None,
    "renamed_local_area": None,
    "exact_duplicate": None,
    "closed_before_opened": None,
}


def test_every_kind_has_an_expectation():
    assert set(EXPECTED_ISSUES) == set(HOSTILE_KINDS)


@pytest.fixture
def portal() -> Iterator[FakePortal]:
    with FakePortal(rows=400, seed=9) as running:
        yield running


def _settings(tmp_path, portal: FakePortal) -> IngestSettings:
    return IngestSettings(data_dir=tmp_path / "data", portal_url=portal.url)


def _portal_lines(portal: FakePortal) -> list[str]:
    """Every record exactly as the portal's JSON-lines export sends it."""
    response = httpx.get(
        f"{portal.dataset_url}/exports/jsonl", params={"timezone": "UTC"}, timeout=30
    )
    return sorted(response.content.decode("utf-8").splitlines())


def _bronze(settings: IngestSettings, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(sql, params).fetchall()


def _assert_bronze_equals_portal(settings: IngestSettings, portal: FakePortal) -> None:
    raw = _bronze(settings, "SELECT CAST(_raw AS VARCHAR) FROM bronze.service_requests")
    assert sorted(line for (line,) in raw) == _portal_lines(portal)
    keys = _bronze(settings, "SELECT count(DISTINCT _record_key) FROM bronze.service_requests")
    assert keys == [(portal.total_count(),)]


@pytest.mark.parametrize("kind", HOSTILE_KINDS)
def test_a_hostile_record_is_loaded_equal_and_flagged(tmp_path, portal, kind):
    settings = _settings(tmp_path, portal)
    run_load(settings)
    crafted = hostile_records(portal.now, datetime.now(UTC), seed=3)[kind]
    portal.add_records(crafted)

    result = run_load(settings)

    assert (result.mode, result.status) == ("incremental", "succeeded")
    assert result.bronze_count == result.portal_total == portal.total_count()
    _assert_bronze_equals_portal(settings, portal)
    flags = _bronze(
        settings,
        "SELECT _quality_issues FROM bronze.service_requests "
        "WHERE list_contains($raw, CAST(_raw AS VARCHAR))",
        {"raw": _crafted_lines(portal, crafted)},
    )
    assert flags == [(EXPECTED_ISSUES[kind],)] * len(crafted)
    assert result.cursor_after <= portal.now  # no crafted stamp moved it past the clock


def _crafted_lines(portal: FakePortal, crafted: list[dict]) -> list[str]:
    return [line for line in _portal_lines(portal) if json.loads(line) in crafted]


def test_a_first_load_of_the_whole_mix_equals_the_portal_and_later_loads_keep_it(tmp_path):
    with FakePortal(rows=1_000, seed=2, hostile=True) as portal:
        settings = _settings(tmp_path, portal)
        first = run_load(settings)
        _assert_bronze_equals_portal(settings, portal)
        portal.advance(days=2)
        again = run_load(settings)
        _assert_bronze_equals_portal(settings, portal)
        fresh = IngestSettings(data_dir=tmp_path / "fresh", portal_url=portal.url)
        run_load(fresh)

    flagged = {code for kind, code in EXPECTED_ISSUES.items() if code}
    found = _bronze(settings, "SELECT DISTINCT _quality_issues FROM bronze.service_requests")
    assert flagged <= {issues for (issues,) in found}
    assert first.rows_flagged >= len(flagged) + 1  # two records stamped in the future
    assert again.status == "succeeded"
    columns = "_record_key, _row_hash, _quality_issues, CAST(_raw AS VARCHAR)"
    query = f"SELECT {columns} FROM bronze.service_requests ORDER BY 1"  # noqa: S608 -- constants
    assert _bronze(settings, query) == _bronze(fresh, query)

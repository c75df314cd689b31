"""Hostile records reach bronze: the build still passes, each record carries its reason in
silver and the quarantine, and gold treats it as docs/contracts.md says."""

import sys
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import hostile_bronze
import seeded_warehouse

pytestmark = pytest.mark.slow

# kind -> (reason in silver, field it concerns, treatment in gold)
EXPECTED = {
    "open_in_future": (
        "service_request_open_timestamp_in_future",
        "service_request_open_timestamp",
        "excluded",
    ),
    "open_in_1900": (
        "service_request_open_timestamp_before_first_year",
        "service_request_open_timestamp",
        "excluded",
    ),
    "modified_in_future": (
        "last_modified_timestamp_in_future",
        "last_modified_timestamp",
        "nulled",
    ),
    "closed_in_future": (
        "service_request_close_date_in_future",
        "service_request_close_date",
        "nulled",
    ),
    "reopened": ("unknown_status", "status", "excluded"),
    "new_department": ("unknown_department", "department", "mapped_to_other"),
    "new_channel": ("unknown_channel", "channel", "mapped_to_other"),
    "new_closure_reason": ("unknown_closure_reason", "closure_reason", "mapped_to_other"),
    "renamed_area": ("unknown_local_area", "local_area", "mapped_to_unknown"),
    "address_100kb": ("address_too_long", "address", "cleaned"),
    "control_characters": ("address_control_characters", "address", "cleaned"),
    "formula": ("address_formula_like", "address", "kept"),
    "closed_before_opened": (
        "closed_before_opened",
        "service_request_close_date",
        "kept",
    ),
    "outside_city": ("outside_city", "latitude, longitude", "nulled"),
    "exact_duplicate": ("exact_duplicate", None, "kept"),
}
EXCLUDED = {"open_in_future", "open_in_1900", "reopened"}
TRANSFORM_REASONS = {
    "unknown_status",
    "unknown_channel",
    "unknown_department",
    "unknown_closure_reason",
    "unknown_local_area",
    "closed_before_opened",
    "outside_city",
    "exact_duplicate",
}


@dataclass(frozen=True)
class HostileWarehouse:
    data_dir: Path
    template_key: str
    clean_build: dict
    hostile_build: dict

    def query(self, sql: str, parameters: list | None = None) -> list[tuple]:
        with closing(
            duckdb.connect(str(self.data_dir / "warehouse.duckdb"), read_only=True)
        ) as con:
            con.execute("set TimeZone = 'UTC'")
            return con.execute(sql, parameters).fetchall()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> HostileWarehouse:
    """A clean warehouse built once, then a load of hostile records and an incremental build."""
    data_dir = tmp_path_factory.mktemp("hostile-warehouse")
    seeded_warehouse.load_generated(data_dir, rows=300, seed=5)
    clean_build = seeded_warehouse.dbt_build(data_dir)
    key = hostile_bronze.insert_rows(data_dir, hostile_bronze.hostile_mix(), "hostile-load")
    hostile_build = seeded_warehouse.dbt_build(data_dir)  # raises if any node errors or fails
    return HostileWarehouse(data_dir, key, clean_build, hostile_build)


def _statuses(run_results: dict) -> dict[str, int]:
    counts: dict[str, int] = {}
    for result in run_results["results"]:
        counts[result["status"]] = counts.get(result["status"], 0) + 1
    return counts


def test_hostile_records_build_with_warnings_only(hostile):
    statuses = _statuses(hostile.hostile_build)
    assert set(statuses) <= {"success", "pass", "warn", "no-op"}, statuses
    warned = {
        result["unique_id"].split(".")[2]: result["failures"]
        for result in hostile.hostile_build["results"]
        if result["status"] == "warn"
    }
    # the domain tests report how many rows they found
    assert warned["stg_portal__service_requests_status_is_known"] == 1
    assert warned["stg_portal__service_requests_local_area_is_known"] == 1
    assert warned["int_service_requests_flagged_no_exact_duplicates"] == 2
    # the rebuild proofs ran on this incremental build and passed
    proofs = [
        result["status"]
        for result in hostile.hostile_build["results"]
        if "matches_full_rebuild" in result["unique_id"]
    ]
    assert proofs == ["pass", "pass"]


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_each_hostile_record_carries_its_reason_in_silver_and_the_quarantine(hostile, kind):
    reason, field_name, treatment = EXPECTED[kind]
    (reasons,) = hostile.query(
        "select quality_reasons from silver.int_service_requests_flagged"
        " where service_request_id = ?",
        [f"hostile-{kind}"],
    )[0]
    assert reason in reasons.split(",")
    assert reasons.split(",") == sorted(reasons.split(","))
    quarantined = hostile.query(
        "select field_name, treatment, is_excluded_from_fact, flagged_by"
        " from gold.fct_quarantined_requests where service_request_id = ? and quality_reason = ?",
        [f"hostile-{kind}", reason],
    )
    flagged_by = "transform" if reason in TRANSFORM_REASONS else "ingest"
    assert quarantined == [(field_name, treatment, kind in EXCLUDED, flagged_by)]


def test_the_template_and_its_exact_copy_are_both_kept_and_flagged(hostile):
    rows = hostile.query(
        "select service_request_id, quality_reasons from gold.fct_service_requests"
        " where service_request_id in (?, ?) order by 1",
        [hostile.template_key, "hostile-exact_duplicate"],
    )
    assert [reasons for _, reasons in rows] == ["exact_duplicate", "exact_duplicate"]


def test_excluded_records_are_absent_from_the_fact_and_every_total(hostile):
    excluded = [f"hostile-{kind}" for kind in sorted(EXCLUDED)]
    in_fact = hostile.query(
        "select count(*) from gold.fct_service_requests where service_request_id in (?, ?, ?)",
        excluded,
    )
    assert in_fact == [(0,)]
    (bronze_rows,) = hostile.query("select count(*) from bronze.service_requests")[0]
    (fact_rows, opened, earliest, latest) = hostile.query(
        "select count(*), count(opened_date_local), min(opened_date_local),"
        " max(opened_date_local) from gold.fct_service_requests"
    )[0]
    assert fact_rows == opened == bronze_rows - len(EXCLUDED)
    (daily_opened, first_day, last_day) = hostile.query(
        "select sum(opened_count), min(date_local), max(date_local) from gold.agg_requests_daily"
    )[0]
    assert daily_opened == fact_rows
    # an opening in 1900 or 2999 no longer stretches the daily series
    assert date(2022, 1, 1) <= earliest == first_day
    assert last_day <= date.today()
    assert latest <= date.today()


def test_values_outside_their_domain_are_mapped_with_the_value_as_sent_in_quarantine(hostile):
    mapped = dict(
        hostile.query(
            "select service_request_id, department || '|' || channel || '|' || closure_reason"
            " || '|' || local_area_id from gold.fct_service_requests"
            " where service_request_id in"
            " ('hostile-new_department', 'hostile-new_channel', 'hostile-new_closure_reason',"
            "  'hostile-renamed_area')"
        )
    )
    assert mapped["hostile-new_department"].split("|")[0] == "Other"
    assert mapped["hostile-new_channel"].split("|")[1] == "Other"
    assert mapped["hostile-new_closure_reason"].split("|")[2] == "Other"
    assert mapped["hostile-renamed_area"].split("|")[3] == "0"
    new_values = hostile.query(
        "select field_name, field_value, request_count, treatment"
        " from gold.agg_new_domain_values order by field_name"
    )
    assert new_values == [
        ("channel", "Fax", 1, "mapped_to_other"),
        ("closure_reason", "Resolved by robot", 1, "mapped_to_other"),
        ("department", "ENG - Drone Services", 1, "mapped_to_other"),
        ("local_area", "Kitsilano-Point Grey", 1, "mapped_to_unknown"),
        ("status", "Reopened", 1, "excluded"),
    ]
    assert hostile.query(
        "select count(*) from gold.dim_request_types where department = 'ENG - Drone Services'"
    ) == [(0,)]


def test_unusable_dates_and_coordinates_are_nulled_in_gold(hostile):
    rows = dict(
        hostile.query(
            "select service_request_id, [cast(closed_date as varchar), cast(days_to_close as"
            " varchar), cast(last_modified_at as varchar), cast(latitude as varchar),"
            " cast(has_location as varchar)] from gold.fct_service_requests"
            " where service_request_id like 'hostile-%'"
        )
    )
    assert rows["hostile-closed_in_future"][:2] == [None, None]
    assert rows["hostile-modified_in_future"][2] is None
    assert rows["hostile-outside_city"][3:] == [None, "false"]
    (newest,) = hostile.query("select max(last_modified_at) from gold.fct_service_requests")[0]
    assert newest.year < 2999
    assert hostile.query(
        "select days_to_close, is_closed_before_opened from gold.fct_service_requests"
        " where service_request_id = 'hostile-closed_before_opened'"
    ) == [(-3, True)]


def test_text_is_cleaned_in_silver_and_shown_as_sent_in_quarantine(hostile):
    addresses = dict(
        hostile.query(
            "select service_request_id, address from silver.int_service_requests_flagged"
            " where service_request_id in ('hostile-address_100kb',"
            " 'hostile-control_characters', 'hostile-formula')"
        )
    )
    # cut to max_text_length (1,000) characters, then trimmed
    assert 990 < len(addresses["hostile-address_100kb"]) <= 1_000
    assert addresses["hostile-control_characters"] == "4375 ROSS ST  [31m"
    assert addresses["hostile-formula"] == '=HYPERLINK("http://example.invalid","click")'
    shown = dict(
        hostile.query(
            "select service_request_id, [raw_value, cast(raw_value_length as varchar)]"
            " from gold.fct_quarantined_requests where field_name = 'address'"
        )
    )
    assert shown["hostile-address_100kb"][1] == "100000"
    assert len(shown["hostile-address_100kb"][0]) == 200
    assert shown["hostile-control_characters"][0] == "4375 ROSS\tST\x07\x1b[31m"
    assert shown["hostile-formula"][0] == '=HYPERLINK("http://example.invalid","click")'
    assert hostile.query(
        "select raw_value from gold.fct_quarantined_requests"
        " where service_request_id = 'hostile-open_in_future'"
        " and quality_reason = 'service_request_open_timestamp_in_future'"
    ) == [("2999-01-01T00:00:00+00:00",)]


def test_the_quarantine_holds_every_flagged_request_and_nothing_else(hostile):
    flagged = hostile.query(
        "select count(*) from silver.int_service_requests_flagged where has_quality_issues"
    )
    quarantined = hostile.query(
        "select count(distinct service_request_id) from gold.fct_quarantined_requests"
    )
    assert flagged == quarantined == [(len(EXPECTED) + 1,)]  # the template is a duplicate too

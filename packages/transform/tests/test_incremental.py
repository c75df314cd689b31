"""The incremental fact equals a full rebuild, and the snapshot keeps the status history."""

import json

import pytest
from mmds_transform import ROUTINE_SELECTOR, run_dbt

# The session's seeded warehouse takes a minute of dbt runs: left out of a `-m "not slow"` run.
pytestmark = pytest.mark.slow


def _test_status(run_results: dict, test_name: str) -> str:
    statuses = [
        result["status"]
        for result in run_results["results"]
        if result["unique_id"].split(".")[-1] == test_name
    ]
    assert statuses, f"{test_name} did not run"
    return statuses[0]


def test_the_portal_moved_on_between_the_builds(history):
    assert history.advance.added > 0
    assert history.advance.closed > 0
    assert history.advance.deleted > 0
    assert history.second_load.rows_updated > 0
    # ingest reconciles every load: the incremental one removes the deleted records itself
    assert history.second_load.rows_deleted == history.advance.deleted
    assert history.reconciling_load.rows_deleted == 0


def test_incremental_fact_equals_a_full_refresh(history):
    only_incremental = history.query(
        "select count(*) from (from main.fct_after_incremental"
        " except all from gold.fct_service_requests)"
    )
    only_full = history.query(
        "select count(*) from (from gold.fct_service_requests"
        " except all from main.fct_after_incremental)"
    )
    assert only_incremental == [(0,)]
    assert only_full == [(0,)]
    (bronze_rows,) = history.query("select count(*) from bronze.service_requests")[0]
    assert history.query("select count(*) from main.fct_after_incremental") == [(bronze_rows,)]


def test_second_build_updated_the_fact_in_place(history):
    # delete+insert of the rows staged in a temporary relation, not a rebuild of the table
    sql = " ".join(history.second_fact_sql.lower().split())
    assert 'delete from "warehouse"."gold"."fct_service_requests"' in sql
    assert "__dbt_tmp" in sql
    assert "create table" not in sql


def test_dbt_checks_the_fact_against_its_full_rebuild_definition(history):
    test_name = "assert_fct_service_requests_matches_full_rebuild"
    assert _test_status(history.second_build, test_name) == "pass"
    assert _test_status(history.full_refresh_build, test_name) == "pass"


def test_snapshot_keeps_the_way_from_open_to_closed(history):
    reopened_history = history.query(
        """
        select count(*)
        from silver.snap_service_request_statuses as before
        join silver.snap_service_request_statuses as after
            on before.service_request_id = after.service_request_id
            and before.dbt_valid_to = after.dbt_valid_from
        where before.status = 'Open' and after.status = 'Closed'
            and before.closed_date is null and after.closed_date is not null
        """
    )
    assert reopened_history[0][0] > 0
    current_versions = history.query(
        "select count(*), count(distinct service_request_id)"
        " from silver.snap_service_request_statuses where dbt_valid_to is null"
    )
    (fact_rows,) = history.query(
        "select count(*) from gold.fct_service_requests where last_modified_at is not null"
    )[0]
    assert current_versions == [(fact_rows, fact_rows)]


def test_snapshot_closes_the_current_version_of_deleted_requests(history):
    test_name = "assert_snap_service_request_statuses_matches_current_statuses"
    assert _test_status(history.second_build, test_name) == "pass"
    (closed_without_successor,) = history.query(
        """
        select count(distinct service_request_id)
        from silver.snap_service_request_statuses as versions
        where not exists (
            select 1 from silver.snap_service_request_statuses as current_versions
            where current_versions.service_request_id = versions.service_request_id
                and current_versions.dbt_valid_to is null
        )
        """
    )[0]
    assert closed_without_successor == history.advance.deleted


def test_the_routine_build_leaves_out_exactly_the_proofs_implied_tests_and_unit_tests(
    history, tmp_path
):
    selection = ["--selector", ROUTINE_SELECTOR, "--target-path", str(tmp_path)]
    output = ["--quiet", "--output", "json", "--output-keys", "unique_id"]
    listed = run_dbt(["ls", *selection, *output], history.data_dir)
    routine = {json.loads(line)["unique_id"] for line in listed.stdout.splitlines() if line}
    built = {result["unique_id"] for result in history.first_build["results"]}
    left_to_ci = {
        "test.mmds.assert_fct_service_requests_matches_full_rebuild",
        "test.mmds.assert_stg_portal__service_requests_matches_full_rebuild",
        "test.mmds.assert_snap_service_request_statuses_matches_current_statuses",
    } | {
        uid
        for uid in built
        if uid.startswith("unit_test.")
        or uid.startswith(
            (
                "test.mmds.unique_int_service_request",
                "test.mmds.not_null_int_service_request",
                "test.mmds.unique_stg_portal__raw_records",
                "test.mmds.not_null_stg_portal__raw_records",
                "test.mmds.unique_stg_portal__loads",
                "test.mmds.not_null_stg_portal__loads",
            )
        )
    }
    assert len(left_to_ci) == 3 + 10 + 5
    assert left_to_ci <= built
    assert built - routine == left_to_ci


def test_status_changes_are_the_snapshot_s_versions_that_change_status(history):
    (current, requests) = history.query(
        "select count(*), count(distinct service_request_id)"
        " from gold.fct_request_status_changes where is_current"
    )[0]
    (fact_rows,) = history.query(
        "select count(*) from gold.fct_service_requests where last_modified_at is not null"
    )[0]
    assert current == requests == fact_rows
    # Consecutive rows of a request differ in status or closure reason, and chain in time.
    (unmerged, broken_chain, open_then_closed) = history.query(
        """
        with ordered as (
            select *,
                lag(status) over w as previous_status,
                lag(closure_reason) over w as previous_reason,
                lag(valid_to) over w as previous_valid_to
            from gold.fct_request_status_changes
            window w as (partition by service_request_id order by valid_from)
        )
        select
            count(*) filter (where previous_status = status
                             and previous_reason = closure_reason),
            count(*) filter (where previous_valid_to is distinct from valid_from
                             and previous_status is not null),
            count(*) filter (where previous_status = 'Open' and status = 'Closed')
        from ordered
        """
    )[0]
    assert (unmerged, broken_chain) == (0, 0)
    assert open_then_closed == history.advance.closed > 0

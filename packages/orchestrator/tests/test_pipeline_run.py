"""`mmds run --sample` end to end: fake portal, DuckDB, dbt and Dagster, all real."""

import json
import shutil

import pytest
from dagster import DagsterInstance, DagsterRunStatus
from mmds_orchestrator.cli import app
from mmds_orchestrator.defs.transform.project import default_project_dir
from typer.testing import CliRunner

pytestmark = pytest.mark.slow

runner = CliRunner()


def test_first_run_loads_builds_checks_and_publishes(two_runs, sample_rows, query):
    assert two_runs.first.exit_code == 0, two_runs.first.output
    output = two_runs.first.output
    assert f"rows loaded:    {sample_rows} received, {sample_rows} inserted" in output
    assert "full load" in output
    assert " 0 failed" in output
    serving = two_runs.data_dir / "serving.duckdb"
    gold = query(serving, "select count(*) from gold.fct_service_requests")
    assert gold == [(sample_rows,)]
    tables = {t for (t,) in query(serving, "select table_name from duckdb_tables()")}
    assert {"fct_service_requests", "dim_local_areas", "publish", "test_results"} <= tables
    statuses = {s for (s,) in query(serving, "select distinct status from meta.test_results")}
    assert statuses == {"pass"}


def test_second_run_is_incremental_adds_no_duplicates_and_republishes(two_runs, sample_rows, query):
    assert two_runs.second.exit_code == 0, two_runs.second.output
    assert "incremental load" in two_runs.second.output
    warehouse = two_runs.data_dir / "warehouse.duckdb"
    assert query(
        warehouse, "select count(*), count(distinct _record_key) from bronze.service_requests"
    ) == [(sample_rows, sample_rows)]
    serving = two_runs.data_dir / "serving.duckdb"
    assert query(
        serving,
        "select count(*), count(distinct service_request_id) from gold.fct_service_requests",
    ) == [(sample_rows, sample_rows)]
    assert (
        query(serving, "select published_at from meta.publish")[0][0] > two_runs.first_published_at
    )
    latest_load = query(warehouse, "select load_id from bronze._loads order by finished_at")[-1]
    assert query(serving, "select load_id from meta.publish") == [latest_load]


def test_runs_build_the_routine_selection_leaving_rebuild_proofs_and_unit_tests_to_ci(two_runs):
    run_results = sorted((two_runs.data_dir / "dbt" / "target" / "runs").glob("*/run_results.json"))
    assert len(run_results) == 2
    for path in run_results:
        nodes = {r["unique_id"] for r in json.loads(path.read_text("utf-8"))["results"]}
        assert {"test.mmds.assert_open_backlog_never_negative"} <= nodes
        assert "model.mmds.fct_service_requests" in nodes
        assert not {n for n in nodes if "matches_full_rebuild" in n or n.startswith("unit_test.")}


def test_runs_are_recorded_in_the_persistent_dagster_instance(two_runs):
    with DagsterInstance.from_config(str(two_runs.data_dir / "dagster_home")) as instance:
        runs = instance.get_runs()
    assert [run.status for run in runs] == [DagsterRunStatus.SUCCESS] * 2
    assert {run.job_name for run in runs} == {"mmds_pipeline"}


def test_a_failing_error_test_blocks_publish_and_keeps_the_serving_file(
    two_runs, tmp_path, monkeypatch, isolate_environment
):
    data_dir = tmp_path / "data"
    shutil.copytree(two_runs.data_dir, data_dir)
    project = tmp_path / "dbt_project"
    shutil.copytree(default_project_dir(), project, ignore=shutil.ignore_patterns("target", "logs"))
    (project / "tests" / "orchestrator_forced_failure.sql").write_text(
        "-- Fails on purpose: every gold fact is reported as a failure.\n"
        "select service_request_id from {{ ref('fct_service_requests') }}\n",
        encoding="utf-8",
    )
    isolate_environment(monkeypatch, data_dir)
    monkeypatch.setenv("MMDS_DBT_PROJECT_DIR", str(project))
    serving = data_dir / "serving.duckdb"
    before = serving.read_bytes()

    result = runner.invoke(app, ["run", "--sample"])

    assert result.exit_code == 1, result.output
    assert "orchestrator_forced_failure" in result.output
    assert "not published (serving file unchanged)" in result.output
    assert serving.read_bytes() == before

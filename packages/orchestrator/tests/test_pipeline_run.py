"""`mmds run --sample` end to end: fake portal, DuckDB, dbt and Dagster, all real."""

import json
import shutil

import mmds_transform
import pytest
from dagster import DagsterInstance, DagsterRunStatus
from mmds_ingest.fake_portal import FakePortal
from mmds_ingest.fake_portal.generator import DEFAULT_END
from mmds_orchestrator.cli import SAMPLE_SEED, app
from mmds_orchestrator.defs.ingest.assets import BRONZE_REQUESTS
from mmds_orchestrator.pipeline_run import run_pipeline
from mmds_orchestrator.settings import PipelineSettings
from typer.testing import CliRunner

pytestmark = pytest.mark.slow

runner = CliRunner()


def test_first_run_loads_builds_checks_and_publishes(two_runs, sample_rows, query):
    assert two_runs.first.exit_code == 0, two_runs.first.output
    output = two_runs.first.output
    requests = (
        f"3-1-1-service-requests: full load, {sample_rows:,} received: {sample_rows:,} inserted"
    )
    assert f"loads      {requests}" in output
    assert "published  20" in output
    serving = two_runs.data_dir / "serving.duckdb"
    gold = query(serving, "select count(*) from gold.fct_service_requests")
    assert gold == [(sample_rows,)]
    tables = {t for (t,) in query(serving, "select table_name from duckdb_tables()")}
    assert {"fct_service_requests", "dim_local_areas", "publish", "test_results"} <= tables
    statuses = {s for (s,) in query(serving, "select distinct status from meta.test_results")}
    assert statuses == {"pass"}
    ((is_sample, portal_url),) = query(serving, "select is_sample, portal_url from meta.publish")
    assert is_sample is True
    assert portal_url.startswith("http://127.0.0.1:")
    assert "/api/" not in portal_url


def test_a_run_on_an_unchanged_portal_skips_dbt_and_publish_and_says_so(two_runs, query):
    assert two_runs.second.exit_code == 0, two_runs.second.output
    output = two_runs.second.output
    assert "loads      3-1-1-service-requests: skipped, the portal has not changed" in output
    assert "models     0 built" in output
    assert "skipped    dbt and publish: bronze unchanged, and dbt is up to date" in output
    assert "published  no, serving.duckdb is as it was" in output
    serving = two_runs.data_dir / "serving.duckdb"
    assert query(serving, "select published_at from meta.publish")[0][0] == (
        two_runs.first_published_at
    )
    with DagsterInstance.from_config(str(two_runs.data_dir / "dagster_home")) as instance:
        (observation,) = instance.fetch_observations(BRONZE_REQUESTS, limit=1).records
    metadata = observation.asset_observation.metadata
    assert metadata["status"].value == "skipped"
    assert metadata["skipped"].value is True


def test_runs_build_the_routine_selection_leaving_rebuild_proofs_and_unit_tests_to_ci(two_runs):
    run_results = two_runs.data_dir / "dbt" / "target" / "run_results.json"
    nodes = {r["unique_id"] for r in json.loads(run_results.read_text("utf-8"))["results"]}
    assert {"test.mmds.assert_open_backlog_never_negative"} <= nodes
    assert "model.mmds.fct_service_requests" in nodes
    assert not {n for n in nodes if "matches_full_rebuild" in n or n.startswith("unit_test.")}


def test_a_routine_run_after_the_portal_changed_loads_builds_and_republishes(
    two_runs, tmp_path, monkeypatch, isolate_environment, sample_rows, query
):
    data_dir = tmp_path / "data"
    shutil.copytree(two_runs.data_dir, data_dir)
    isolate_environment(monkeypatch, data_dir)
    settings = PipelineSettings.from_environment()
    start = DEFAULT_END.date().replace(year=DEFAULT_END.year - 2)  # as `mmds run --sample`
    with FakePortal(rows=sample_rows, seed=SAMPLE_SEED, start=start) as portal:
        portal.advance(days=3)
        summary = run_pipeline(settings, portal_url=portal.url)

    assert summary.ok, summary.lines()
    load, boundaries = summary.loads
    assert boundaries["status"] == "skipped"  # the local areas did not change
    assert load["mode"] == "incremental"
    assert load["rows_inserted"] + load["rows_updated"] > 0
    assert summary.models_built > 0
    assert summary.published_at is not None
    warehouse, serving = data_dir / "warehouse.duckdb", data_dir / "serving.duckdb"
    bronze = query(warehouse, "select count(*) from bronze.service_requests")
    assert query(serving, "select count(*) from gold.fct_service_requests") == bronze
    assert query(serving, "select published_at from meta.publish")[0][0] > (
        two_runs.first_published_at
    )


def test_runs_are_recorded_in_the_persistent_dagster_instance(two_runs):
    with DagsterInstance.from_config(str(two_runs.data_dir / "dagster_home")) as instance:
        runs = instance.get_runs()
    # newest first: the second `mmds run` ingested only; the first ingested, then built
    assert [run.job_name for run in runs] == ["mmds_ingest", "mmds_rebuild", "mmds_ingest"]
    assert {run.status for run in runs} == {DagsterRunStatus.SUCCESS}


def test_a_failing_error_test_blocks_publish_and_keeps_the_serving_file(
    two_runs, tmp_path, monkeypatch, isolate_environment
):
    data_dir = tmp_path / "data"
    shutil.copytree(two_runs.data_dir, data_dir)
    project = tmp_path / "dbt_project"
    shutil.copytree(
        mmds_transform.project_dir(), project, ignore=shutil.ignore_patterns("target", "logs")
    )
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
    lines = result.output.splitlines()
    assert "test orchestrator_forced_failure was never evaluated" in result.output  # dbt rebuilt
    assert "(orchestrator_forced_failure on fct_service_requests)" in result.output  # checks
    assert "published  no, serving.duckdb is as it was" in lines
    assert lines[-2] == (
        "failed     dbt build failed: orchestrator_forced_failure (fail): "
        "Got 3000 results, configured to fail if != 0"
    )
    assert lines[-1].startswith("log        ")
    assert serving.read_bytes() == before

"""The definitions load, and the graph is one connected lineage from the portal to the dashboard."""

import json

import pytest
from dagster import AssetKey, DefaultScheduleStatus
from mmds_orchestrator.definitions import defs

PORTAL = AssetKey(["bronze", "service_requests"])
STAGING = AssetKey(["silver", "stg_portal__service_requests"])
FACTS = AssetKey(["gold", "fct_service_requests"])
PUBLISH = AssetKey(["serving", "gold"])
DASHBOARD = AssetKey(["dashboard", "mmds_dashboard"])
FEATURES = AssetKey(["gold", "agg_demand_features_daily"])
FORECAST = AssetKey(["gold", "forecast_demand_daily"])
BACKTEST = AssetKey(["gold", "forecast_backtest"])


@pytest.fixture
def repository(data_dir):
    return defs().get_repository_def()


def test_asset_keys_and_dependencies_match_snapshot(repository, snapshot):
    graph = repository.asset_graph
    lineage = {
        key.to_user_string(): sorted(p.to_user_string() for p in graph.get(key).parent_keys)
        for key in sorted(graph.get_all_asset_keys())
    }
    assert lineage == snapshot


def test_lineage_runs_from_the_portal_through_dbt_and_publish_to_the_dashboard(repository):
    graph = repository.asset_graph
    upstream_of_dashboard = _ancestors(graph, DASHBOARD)
    assert graph.get(DASHBOARD).parent_keys == {PUBLISH}
    assert {PORTAL, STAGING, FACTS} <= upstream_of_dashboard
    assert PORTAL in graph.get(STAGING).parent_keys
    assert FACTS in graph.get(PUBLISH).parent_keys
    # gold's features -> the forecast -> publish -> dashboard
    assert FEATURES in graph.get(FORECAST).parent_keys
    assert {FORECAST, BACKTEST} <= graph.get(PUBLISH).parent_keys


def test_dbt_models_are_keyed_by_schema_and_grouped_by_layer(repository):
    graph = repository.asset_graph
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if key.path[0] in {"silver", "gold"}:
            assert len(key.path) == 2
            assert node.group_name == key.path[0]


def test_dbt_tests_are_asset_checks_on_their_models(repository):
    checked_assets = {key.asset_key.path[0] for key in repository.asset_graph.asset_check_keys}
    assert {"bronze", "silver", "gold"} <= checked_assets


def test_schedules_are_stopped_by_default_and_their_cron_is_configurable(data_dir, monkeypatch):
    repository = defs().get_repository_def()
    schedules = {s.name: s for s in repository.schedule_defs}
    assert set(schedules) == {"hourly_incremental", "weekly_full_refresh"}
    assert all(s.default_status == DefaultScheduleStatus.STOPPED for s in schedules.values())
    assert schedules["hourly_incremental"].cron_schedule == "0 * * * *"

    monkeypatch.setenv("MMDS_SCHEDULES_ENABLED", "true")
    monkeypatch.setenv("MMDS_FULL_REFRESH_CRON", "30 2 * * 6")
    repository = defs().get_repository_def()
    schedules = {s.name: s for s in repository.schedule_defs}
    assert all(s.default_status == DefaultScheduleStatus.RUNNING for s in schedules.values())
    assert schedules["weekly_full_refresh"].cron_schedule == "30 2 * * 6"


@pytest.mark.parametrize("job_name", ["mmds_pipeline", "mmds_rebuild"])
def test_every_step_that_opens_a_duckdb_file_is_in_the_warehouse_pool(repository, job_name):
    job = repository.get_job(job_name)
    pools = {node.name: node.definition.pool for node in job.graph.node_dict.values()}
    assert pools, "the job has no steps"
    assert set(pools.values()) == {"warehouse"}, pools


def test_the_dashboard_is_an_external_asset_that_no_job_runs(repository):
    assert not repository.asset_graph.get(DASHBOARD).is_executable
    job = repository.get_job("mmds_pipeline")
    assert {node.name for node in job.graph.node_dict.values()} == {
        "ingest_portal",
        "dbt_models",
        "forecast_demand",
        "serving__gold",
    }


def test_the_asset_checks_are_the_routine_dbt_tests_the_reconciliation_and_the_forecasts(
    repository, data_dir
):
    manifest = json.loads((data_dir / "dbt" / "target" / "manifest.json").read_text("utf-8"))
    excluded = {"rebuild_proof", "implied_by_upstream"}  # selectors.yml leaves them out
    routine_tests = {
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test" and not excluded.intersection(node["tags"])
    }
    checks = {key.name for key in repository.asset_graph.asset_check_keys}
    # a check dbt never runs would wait forever, and make every run rebuild dbt "never evaluated"
    others = {"bronze_matches_portal_count", "forecast_beats_seasonal_naive"}
    assert checks == routine_tests | others, checks ^ routine_tests


def _ancestors(graph, key: AssetKey) -> set[AssetKey]:
    seen: set[AssetKey] = set()
    frontier = [key]
    while frontier:
        for parent in graph.get(frontier.pop()).parent_keys:
            if parent not in seen:
                seen.add(parent)
                frontier.append(parent)
    return seen

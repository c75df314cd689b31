"""The project's manifest follows the layering rules: prefixes, schemas, docs and key tests."""

import json

import pytest

# The session's seeded warehouse takes a minute of dbt runs: left out of a `-m "not slow"` run.
pytestmark = pytest.mark.slow

LAYERS = {
    # folder: (schema, allowed name prefixes, allowed materializations)
    "staging": ("silver", ("stg_",), {"view", "table", "incremental"}),
    "intermediate": ("silver", ("int_",), {"view", "ephemeral", "table"}),
    "marts": ("gold", ("fct_", "dim_", "agg_"), {"table", "incremental"}),
}
KEY_TESTS = {"unique", "unique_combination_of_columns"}


@pytest.fixture(scope="module")
def manifest(history) -> dict:
    return json.loads((history.target_dir / "manifest.json").read_text(encoding="utf-8"))


def _models(manifest: dict) -> list[dict]:
    return [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["package_name"] == "mmds"
    ]


def _tests_on(manifest: dict, unique_id: str) -> list[dict]:
    return [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test" and unique_id in node["depends_on"]["nodes"]
    ]


def test_every_model_sits_in_its_layer(manifest):
    models = _models(manifest)
    assert len(models) >= 12
    for model in models:
        folder = model["original_file_path"].split("/")[1]
        schema, prefixes, materializations = LAYERS[folder]
        assert model["schema"] == schema, model["name"]
        assert model["name"].startswith(prefixes), model["name"]
        assert model["config"]["materialized"] in materializations, model["name"]


def test_every_model_and_column_is_described(manifest):
    for model in _models(manifest):
        assert model["description"].strip(), model["name"]
        assert model["columns"], f"{model['name']} documents no columns"
        for column in model["columns"].values():
            assert column["description"].strip(), f"{model['name']}.{column['name']}"


def test_every_model_has_a_tested_key(manifest):
    for model in _models(manifest):
        tests = _tests_on(manifest, model["unique_id"])
        names = {test["test_metadata"]["name"] for test in tests if test.get("test_metadata")}
        assert names & KEY_TESTS, f"{model['name']} has no uniqueness test on its key"
        if model["schema"] == "gold":
            key = model["config"]["meta"]["primary_key"]
            key_columns = [key] if isinstance(key, str) else key
            not_null = {
                test["column_name"]
                for test in tests
                if test.get("test_metadata", {}).get("name") == "not_null"
            }
            assert set(key_columns) <= not_null, model["name"]


def test_gold_contracts_are_enforced(manifest):
    for model in _models(manifest):
        if model["schema"] == "gold":
            assert model["config"]["contract"]["enforced"], model["name"]
            assert all(c["data_type"] for c in model["columns"].values()), model["name"]


def test_incremental_models_are_proven_equal_to_a_full_rebuild(manifest):
    incremental = [m for m in _models(manifest) if m["config"]["materialized"] == "incremental"]
    assert incremental
    test_names = {node["name"] for node in manifest["nodes"].values()}
    for model in incremental:
        assert f"assert_{model['name']}_matches_full_rebuild" in test_names


def test_sources_carry_the_ingest_asset_keys(manifest):
    keys = {
        source["name"]: source["meta"]["dagster"]["asset_key"]
        for source in manifest["sources"].values()
    }
    assert keys == {
        "service_requests": ["bronze", "service_requests"],
        "_loads": ["bronze", "_loads"],
        "local_area_boundaries": ["bronze", "local_area_boundaries"],
    }
    for source in manifest["sources"].values():
        # The boundaries load only when the portal's change token moves: no freshness to check.
        if source["name"] != "local_area_boundaries":
            assert source["loaded_at_field"], source["name"]
            assert source["freshness"]["error_after"]["count"], source["name"]


def _upstream(manifest: dict, unique_id: str) -> set[str]:
    """Every node `unique_id` is built from, directly or not."""
    nodes = {**manifest["nodes"], **manifest["sources"]}
    seen: set[str] = set()
    pending = [unique_id]
    while pending:
        for parent in nodes[pending.pop()].get("depends_on", {}).get("nodes", []):
            if parent not in seen:
                seen.add(parent)
                pending.append(parent)
    return seen


def test_every_gold_model_and_the_snapshot_have_a_declared_reader(manifest):
    exposures = list(manifest["exposures"].values())
    read = {node for exposure in exposures for node in exposure["depends_on"]["nodes"]}
    gold = {m["unique_id"] for m in _models(manifest) if m["schema"] == "gold"}
    assert gold - read == set(), "gold models no exposure reads: give them a reader or drop them"
    assert read <= gold, "exposures read gold only"
    snapshots = {
        uid for uid, node in manifest["nodes"].items() if node["resource_type"] == "snapshot"
    }
    assert snapshots
    for snapshot in snapshots:
        readers = {model for model in read if snapshot in _upstream(manifest, model)}
        assert readers, f"{snapshot} reaches no exposure"
    assert "model.mmds.fct_request_status_changes" in readers


def test_each_dashboard_page_is_an_exposure(manifest):
    pages = {
        exposure["name"]: exposure
        for exposure in manifest["exposures"].values()
        if exposure["type"] == "dashboard"
    }
    assert set(pages) == {
        "dashboard_overview",
        "dashboard_neighbourhoods",
        "dashboard_request_types",
        "dashboard_data_health",
    }
    reads = {name: set(page["depends_on"]["nodes"]) for name, page in pages.items()}
    assert {
        "model.mmds.fct_quarantined_requests",
        "model.mmds.agg_new_domain_values",
    } <= reads["dashboard_data_health"]
    assert "model.mmds.fct_request_status_changes" in reads["dashboard_request_types"]
    for page in pages.values():
        assert page["meta"]["dagster"]["asset_key"] == ["dashboard", "mmds_dashboard"]


def test_unit_tests_cover_the_logic_that_matters(manifest):
    unit_tests = {node["name"] for node in manifest["unit_tests"].values()}
    assert {
        "test_gold_treatments",
        "test_local_date_and_hour_across_dst",
        "test_quality_reasons_combine_ingest_and_domain_checks",
        "test_text_is_cleaned_and_values_kept_as_sent",
        "test_duplicate_keys_keep_the_newest_version",
    } <= unit_tests


def test_docs_generate_offline_describes_gold(history):
    catalog = json.loads((history.target_dir / "catalog.json").read_text(encoding="utf-8"))
    documented = {node["metadata"]["name"] for node in catalog["nodes"].values()}
    assert {"fct_service_requests", "agg_requests_daily", "dim_local_areas"} <= documented
    assert (history.target_dir / "index.html").exists()

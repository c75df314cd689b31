"""The serving file's declaration: gold from dbt's enforced contracts and the forecast's tables,
meta from publish."""

import json

import duckdb
import pytest
from mmds_orchestrator import serving_contract
from mmds_orchestrator.defs.publish.contract import ContractError, gold_contract


@pytest.fixture(scope="module")
def manifest(parsed_dbt_target) -> dict:
    return json.loads((parsed_dbt_target / "manifest.json").read_text("utf-8"))


def test_gold_is_declared_as_dbt_enforces_it_with_duckdbs_type_names(manifest):
    declared = serving_contract(manifest)

    enforced = {
        node["name"]: [column["name"] for column in node["columns"].values()]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["schema"] == "gold"
        and node["config"]["contract"]["enforced"]
    }
    gold = {}
    for column in declared:
        if column.schema_name == "gold":
            gold.setdefault(column.table_name, []).append(column.column_name)
    forecast = {table: gold.pop(table) for table in ("forecast_demand_daily", "forecast_backtest")}
    assert gold == enforced
    assert forecast["forecast_demand_daily"][:4] == [
        "date_local",
        "local_area_id",
        "demand_group",
        "requests_forecast",
    ]
    assert {"fct_service_requests", "dim_local_areas", "fct_quarantined_requests"} <= set(gold)
    types = {(c.table_name, c.column_name): c.data_type for c in declared}
    assert types["fct_service_requests", "opened_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["fct_service_requests", "local_area_id"] == "INTEGER"
    with duckdb.connect() as con:  # every declared type is DuckDB's own spelling of itself
        for data_type in {c.data_type for c in declared}:
            spelled = con.execute(f"select typeof(cast(null as {data_type}))").fetchone()
            assert spelled == (data_type,)


def test_meta_declares_the_tables_the_dashboard_reads(manifest):
    meta = {}
    for column in serving_contract(manifest):
        if column.schema_name == "meta":
            meta.setdefault(column.table_name, []).append(column.column_name)

    assert meta["publish"] == [
        "published_at",
        "load_id",
        "source_last_modified_at",
        "gold_digest",
        "portal_url",
        "is_sample",
    ]
    assert {"dataset", "rows_flagged", "rows_deleted", "started_at", "finished_at"} <= set(
        meta["loads"]
    )
    assert meta["test_results"] == ["test_name", "model_name", "status", "failures"]
    assert meta["serving_contract"] == ["schema_name", "table_name", "column_name", "data_type"]


def test_a_manifest_without_typed_gold_contracts_is_refused(manifest):
    untyped = json.loads(json.dumps(manifest))
    fact = next(n for n in untyped["nodes"].values() if n["name"] == "fct_service_requests")
    fact["columns"]["opened_at"]["data_type"] = None
    with pytest.raises(ContractError, match=r"fct_service_requests\.opened_at"):
        gold_contract(untyped)

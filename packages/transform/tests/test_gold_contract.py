"""Gold has exactly the schemas, tables, columns and types of docs/contracts.md."""

import pytest

# The session's seeded warehouse takes a minute of dbt runs: left out of a `-m "not slow"` run.
pytestmark = pytest.mark.slow

# docs/contracts.md, "Silver and gold": the dashboard and the publish step rely on these.
GOLD_CONTRACT = {
    "dim_local_areas": {
        "local_area_id": "INTEGER",
        "local_area_name": "VARCHAR",
        "is_unknown": "BOOLEAN",
        "boundary_geojson": "VARCHAR",
        "centroid_latitude": "DOUBLE",
        "centroid_longitude": "DOUBLE",
    },
    "dim_request_types": {
        "request_type_id": "VARCHAR",
        "request_type": "VARCHAR",
        "department": "VARCHAR",
        "business_unit": "VARCHAR",
        "is_deprecated": "BOOLEAN",
        "category": "VARCHAR",
    },
    "fct_service_requests": {
        "service_request_id": "VARCHAR",
        "local_area_id": "INTEGER",
        "request_type_id": "VARCHAR",
        "department": "VARCHAR",
        "channel": "VARCHAR",
        "status": "VARCHAR",
        "closure_reason": "VARCHAR",
        "opened_at": "TIMESTAMP WITH TIME ZONE",
        "opened_date_local": "DATE",
        "opened_hour_local": "INTEGER",
        "closed_date": "DATE",
        "days_to_close": "INTEGER",
        "is_open": "BOOLEAN",
        "latitude": "DOUBLE",
        "longitude": "DOUBLE",
        "last_modified_at": "TIMESTAMP WITH TIME ZONE",
        "is_closed_before_opened": "BOOLEAN",
        "has_location": "BOOLEAN",
        "has_quality_issues": "BOOLEAN",
        "quality_reasons": "VARCHAR",
    },
    "agg_requests_daily": {
        "date_local": "DATE",
        "local_area_id": "INTEGER",
        "request_type_id": "VARCHAR",
        "opened_count": "BIGINT",
        "closed_count": "BIGINT",
        "open_backlog_count": "BIGINT",
    },
    "fct_quarantined_requests": {
        "service_request_id": "VARCHAR",
        "quality_reason": "VARCHAR",
        "flagged_by": "VARCHAR",
        "field_name": "VARCHAR",
        "raw_value": "VARCHAR",
        "raw_value_length": "INTEGER",
        "treatment": "VARCHAR",
        "is_excluded_from_fact": "BOOLEAN",
        "opened_at": "TIMESTAMP WITH TIME ZONE",
        "load_id": "VARCHAR",
        "loaded_at": "TIMESTAMP WITH TIME ZONE",
    },
    "agg_new_domain_values": {
        "field_name": "VARCHAR",
        "field_value": "VARCHAR",
        "quality_reason": "VARCHAR",
        "treatment": "VARCHAR",
        "request_count": "BIGINT",
        "first_loaded_at": "TIMESTAMP WITH TIME ZONE",
        "last_loaded_at": "TIMESTAMP WITH TIME ZONE",
    },
    "fct_request_status_changes": {
        "service_request_id": "VARCHAR",
        "status": "VARCHAR",
        "closure_reason": "VARCHAR",
        "valid_from": "TIMESTAMP WITH TIME ZONE",
        "valid_to": "TIMESTAMP WITH TIME ZONE",
        "is_current": "BOOLEAN",
    },
    "agg_demand_features_daily": {
        "date_local": "DATE",
        "local_area_id": "INTEGER",
        "demand_group": "VARCHAR",
        "requests_opened": "BIGINT",
        "day_of_week": "INTEGER",
        "week_of_year": "INTEGER",
        "is_weekend": "BOOLEAN",
        "is_holiday": "BOOLEAN",
        "holiday_name": "VARCHAR",
        "is_complete_day": "BOOLEAN",
    },
    "agg_resolution_times": {
        "month_start": "DATE",
        "request_type_id": "VARCHAR",
        "closed_count": "BIGINT",
        "median_days_to_close": "DOUBLE",
        "p90_days_to_close": "DOUBLE",
    },
}


def test_dbt_writes_only_the_silver_and_gold_schemas(history):
    schemas = {
        row[0]
        for row in history.query(
            "select distinct table_schema from information_schema.tables"
            " where table_catalog = 'warehouse'"
        )
    }
    # main holds only the copy this test session makes; bronze belongs to ingest.
    assert schemas == {"bronze", "silver", "gold", "main"}
    assert history.query(
        "select table_name from information_schema.tables where table_schema = 'main'"
    ) == [("fct_after_incremental",)]


def test_gold_holds_exactly_the_contracted_tables(history):
    tables = {
        row[0]
        for row in history.query(
            "select table_name from information_schema.tables where table_schema = 'gold'"
        )
    }
    assert tables == set(GOLD_CONTRACT)


@pytest.mark.parametrize("table", sorted(GOLD_CONTRACT))
def test_gold_columns_and_types_follow_the_contract(history, table):
    columns = history.query(
        "select column_name, data_type from information_schema.columns"
        " where table_schema = 'gold' and table_name = ? order by ordinal_position",
        [table],
    )
    assert dict(columns) == GOLD_CONTRACT[table]
    assert [name for name, _ in columns] == list(GOLD_CONTRACT[table])

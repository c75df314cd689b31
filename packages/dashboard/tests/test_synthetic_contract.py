"""The fixture serving file has exactly the tables and columns of docs/contracts.md."""

from __future__ import annotations

CONTRACT = {
    "gold.dim_local_areas": "local_area_id INTEGER, local_area_name VARCHAR, is_unknown BOOLEAN",
    "gold.dim_request_types": "request_type_id VARCHAR, request_type VARCHAR, "
    "department VARCHAR, business_unit VARCHAR, is_deprecated BOOLEAN, category VARCHAR",
    "gold.fct_service_requests": "service_request_id VARCHAR, local_area_id INTEGER, "
    "request_type_id VARCHAR, department VARCHAR, channel VARCHAR, status VARCHAR, "
    "closure_reason VARCHAR, opened_at TIMESTAMP WITH TIME ZONE, opened_date_local DATE, "
    "opened_hour_local INTEGER, closed_date DATE, days_to_close INTEGER, is_open BOOLEAN, "
    "latitude DOUBLE, longitude DOUBLE, last_modified_at TIMESTAMP WITH TIME ZONE, "
    "is_closed_before_opened BOOLEAN, has_location BOOLEAN, has_quality_issues BOOLEAN",
    "gold.agg_requests_daily": "date_local DATE, local_area_id INTEGER, "
    "request_type_id VARCHAR, opened_count BIGINT, closed_count BIGINT, "
    "open_backlog_count BIGINT",
    "gold.agg_resolution_times": "month_start DATE, request_type_id VARCHAR, "
    "closed_count BIGINT, median_days_to_close DOUBLE, p90_days_to_close DOUBLE",
    "meta.publish": "published_at TIMESTAMP WITH TIME ZONE, load_id VARCHAR, "
    "source_last_modified_at TIMESTAMP WITH TIME ZONE",
    "meta.layer_row_counts": "layer VARCHAR, table_name VARCHAR, row_count BIGINT",
    "meta.test_results": "test_name VARCHAR, model_name VARCHAR, status VARCHAR, failures BIGINT",
}


def test_fixture_tables_match_the_contract(sql) -> None:
    rows = sql(
        "SELECT table_schema || '.' || table_name, "
        "string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) "
        "FROM information_schema.columns GROUP BY 1"
    )
    tables = dict(rows)
    for table, columns in CONTRACT.items():
        assert tables[table] == columns, table
    assert "meta.loads" in tables


def test_fixture_has_the_source_quirks(sql) -> None:
    (unknown_area, no_location, still_open, before_opened, deprecated, areas) = sql(
        """
        SELECT count(*) FILTER (WHERE local_area_id = 0),
               count(*) FILTER (WHERE NOT has_location AND latitude IS NULL),
               count(*) FILTER (WHERE is_open AND closed_date IS NULL AND days_to_close IS NULL),
               count(*) FILTER (WHERE is_closed_before_opened),
               count(*) FILTER (WHERE d.is_deprecated),
               count(DISTINCT local_area_id) FILTER (WHERE local_area_id > 0)
        FROM gold.fct_service_requests JOIN gold.dim_request_types d USING (request_type_id)
        """
    )[0]
    assert unknown_area and no_location and still_open and before_opened and deprecated
    assert areas == 22

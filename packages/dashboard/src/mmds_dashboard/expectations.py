"""What the dashboard reads from the serving file: per page its gold tables, per table its columns.

The serving file declares its own contract (`meta.serving_contract`, written by the
orchestrator's publish step); `missing` compares these expectations with that declaration and
with the tables the file really holds. Each page's gold tables are also its dbt exposure
(`dashboard_<page>` in the transform package's `models/exposures.yml`); a test keeps both in step.
"""

from __future__ import annotations

from collections.abc import Collection

CONTRACT_TABLE = "meta.serving_contract"

# The filtered pages' filters offer the values of the fact and both dimensions.
_SHELL = ("gold.fct_service_requests", "gold.dim_local_areas", "gold.dim_request_types")

PAGE_GOLD_TABLES: dict[str, frozenset[str]] = {
    "overview": frozenset({*_SHELL, "gold.agg_requests_daily"}),
    "neighbourhoods": frozenset({*_SHELL, "gold.agg_requests_daily"}),
    "request_types": frozenset(
        {
            *_SHELL,
            "gold.agg_requests_daily",
            "gold.agg_resolution_times",
            "gold.fct_request_status_changes",
        }
    ),
    "data_health": frozenset(
        {*_SHELL, "gold.fct_quarantined_requests", "gold.agg_new_domain_values"}
    ),
}
"""The gold tables each page shows (its dbt exposure's `depends_on`); About shows only `meta`."""

COLUMNS: dict[str, tuple[str, ...]] = {
    "gold.fct_service_requests": (
        "service_request_id",
        "local_area_id",
        "request_type_id",
        "department",
        "channel",
        "is_open",
        "opened_date_local",
        "closed_date",
        "days_to_close",
        "is_closed_before_opened",
        "has_location",
        "latitude",
        "longitude",
        "has_quality_issues",
    ),
    "gold.dim_local_areas": ("local_area_id", "local_area_name", "is_unknown", "boundary_geojson"),
    "gold.dim_request_types": (
        "request_type_id",
        "request_type",
        "category",
        "department",
        "business_unit",
        "is_deprecated",
    ),
    "gold.agg_requests_daily": (
        "date_local",
        "local_area_id",
        "request_type_id",
        "opened_count",
        "closed_count",
        "open_backlog_count",
    ),
    "gold.agg_resolution_times": (
        "month_start",
        "request_type_id",
        "closed_count",
        "median_days_to_close",
        "p90_days_to_close",
    ),
    "gold.fct_request_status_changes": ("service_request_id", "status", "valid_from", "valid_to"),
    "gold.fct_quarantined_requests": (
        "service_request_id",
        "quality_reason",
        "treatment",
        "loaded_at",
    ),
    "gold.agg_new_domain_values": ("field_name", "field_value", "request_count", "first_loaded_at"),
    "meta.publish": (
        "published_at",
        "load_id",
        "source_last_modified_at",
        "portal_url",
        "is_sample",
    ),
    "meta.loads": (
        "load_id",
        "dataset",
        "mode",
        "status",
        "started_at",
        "finished_at",
        "rows_received",
        "rows_inserted",
        "rows_updated",
        "rows_deleted",
        "rows_flagged",
        "portal_total_count",
        "bronze_count",
        "reconciliation",
        "message",
    ),
    "meta.layer_row_counts": ("layer", "table_name", "row_count"),
    "meta.test_results": ("test_name", "model_name", "status", "failures"),
}
"""Every column the dashboard reads, per table (`schema.table`)."""


def expected_columns() -> set[tuple[str, str]]:
    """(`schema.table`, column) for every column the dashboard reads."""
    return {(table, column) for table, columns in COLUMNS.items() for column in columns}


def missing(
    declared: Collection[tuple[str, str]], present: Collection[tuple[str, str]]
) -> list[str]:
    """What the dashboard reads that the file does not both declare and hold: whole tables as
    `schema.table`, else single columns as `schema.table.column`, sorted."""
    available = set(declared) & set(present)
    tables = {table for table, _ in available}
    gaps = sorted(expected_columns() - available)
    absent_tables = sorted({table for table, _ in gaps if table not in tables})
    absent_columns = [f"{t}.{c}" for t, c in gaps if t in tables]
    return [*absent_tables, *absent_columns]

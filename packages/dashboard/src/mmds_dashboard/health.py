"""The queries behind Data health: what was loaded when, rows per layer, quality flags, dbt
tests. Everything here describes the whole publish; the filters do not apply."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from mmds_dashboard.queries import Publish, column_names, publish_info, table_exists

_LOAD_COLUMNS = (
    "load_id",
    "started_at",
    "finished_at",
    "mode",
    "status",
    "rows_received",
    "rows_inserted",
    "rows_updated",
    "rows_unchanged",
    "rows_deleted",
    "rows_flagged",
    "portal_total_count",
    "message",
)


def load_history(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every published load, newest first, with its duration in seconds (empty if the audit
    table was not published; columns an older publish lacks read as empty)."""
    if not table_exists(con, "meta", "loads"):
        return pd.DataFrame(columns=[*_LOAD_COLUMNS, "seconds"])
    present = column_names(con, "meta", "loads")
    selected = ", ".join(c if c in present else f"NULL AS {c}" for c in _LOAD_COLUMNS)
    return con.execute(
        f"SELECT {selected}, epoch(finished_at) - epoch(started_at) AS seconds "  # noqa: S608 (fixed names)
        "FROM meta.loads ORDER BY started_at DESC"
    ).df()


def layer_row_counts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Rows per table of each layer (empty if not published)."""
    if not table_exists(con, "meta", "layer_row_counts"):
        return pd.DataFrame(columns=["layer", "table_name", "row_count"])
    return con.execute(
        "SELECT layer, table_name, row_count FROM meta.layer_row_counts "
        "ORDER BY CASE layer WHEN 'bronze' THEN 0 WHEN 'silver' THEN 1 WHEN 'gold' THEN 2 "
        "ELSE 3 END, table_name"
    ).df()


def dbt_test_results(con: duckdb.DuckDBPyConnection) -> pd.DataFrame | None:
    """dbt test outcomes of the build that made gold, failures first; None if not published."""
    if not table_exists(con, "meta", "test_results"):
        return None
    return con.execute(
        "SELECT status, test_name, model_name, failures FROM meta.test_results "
        "ORDER BY CASE status WHEN 'fail' THEN 0 WHEN 'warn' THEN 1 ELSE 2 END, test_name"
    ).df()


_QUALITY_SQL = """
WITH flags AS (
    SELECT
        count(*) AS total,
        count(*) FILTER (WHERE has_quality_issues) AS flagged,
        count(*) FILTER (WHERE is_closed_before_opened) AS closed_before_opened,
        count(*) FILTER (WHERE NOT has_location) AS without_location,
        count(*) FILTER (WHERE local_area_id IN (
            SELECT local_area_id FROM gold.dim_local_areas WHERE is_unknown)) AS unknown_area,
        count(*) FILTER (WHERE request_type_id IN (
            SELECT request_type_id FROM gold.dim_request_types WHERE is_deprecated))
            AS deprecated_type,
        count(*) FILTER (WHERE is_open AND opened_date_local < (
            SELECT max(opened_date_local) FROM gold.fct_service_requests) - 90)
            AS open_over_90_days
    FROM gold.fct_service_requests
)
SELECT flag, requests, requests / nullif(total, 0) AS share
FROM flags
UNPIVOT (requests FOR flag IN (flagged, closed_before_opened, without_location, unknown_area,
                               deprecated_type, open_over_90_days))
"""
QUALITY_FLAG_LABELS = {
    "flagged": "Flagged by ingest quality checks",
    "closed_before_opened": "Closed before opened",
    "without_location": "Without a location",
    "unknown_area": "Without a local area",
    "deprecated_type": "Of a deprecated request type",
    "open_over_90_days": "Open for more than 90 days",
}


def quality_flags(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Requests (of all published gold, unfiltered) carrying each quality flag."""
    frame = con.execute(_QUALITY_SQL).df()
    frame["flag"] = frame["flag"].map(QUALITY_FLAG_LABELS)
    return frame


@dataclass(frozen=True)
class DataHealthData:
    """Everything the Data health page shows."""

    publish: Publish
    loads: pd.DataFrame
    layers: pd.DataFrame
    tests: pd.DataFrame | None
    quality: pd.DataFrame


def load_data_health(con: duckdb.DuckDBPyConnection) -> DataHealthData:
    """The queries behind the Data health page."""
    return DataHealthData(
        publish=publish_info(con),
        loads=load_history(con),
        layers=layer_row_counts(con),
        tests=dbt_test_results(con),
        quality=quality_flags(con),
    )

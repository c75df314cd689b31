"""The queries behind Data health: what was loaded when and how it reconciled, rows per layer,
the quarantine and the new values the City sent, quality flags, checks. Everything here
describes the whole publish; the filters do not apply."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from mmds_dashboard.queries import Publish, publish_info

REQUESTS_DATASET = "3-1-1-service-requests"

_LOADS_SQL = """
SELECT load_id, dataset, started_at, finished_at, mode, status, rows_received, rows_inserted,
       rows_updated, rows_deleted, rows_flagged, portal_total_count, bronze_count,
       reconciliation, message, epoch(finished_at) - epoch(started_at) AS seconds
FROM meta.loads
ORDER BY started_at DESC
"""


def load_history(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every published load of every dataset, newest first, with its duration in seconds
    (a load an older warehouse recorded without a dataset was of the requests)."""
    frame = con.execute(_LOADS_SQL).df()
    frame["dataset"] = frame["dataset"].fillna(REQUESTS_DATASET)
    return frame


def layer_row_counts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Rows per table of each layer."""
    return con.execute(
        "SELECT layer, table_name, row_count FROM meta.layer_row_counts "
        "ORDER BY CASE layer WHEN 'bronze' THEN 0 WHEN 'silver' THEN 1 WHEN 'gold' THEN 2 "
        "ELSE 3 END, table_name"
    ).df()


def dbt_test_results(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The checks' newest outcomes (dbt tests and the reconciliation), failures first."""
    return con.execute(
        "SELECT status, test_name, model_name, failures FROM meta.test_results "
        "ORDER BY CASE status WHEN 'fail' THEN 0 WHEN 'warn' THEN 1 ELSE 2 END, test_name"
    ).df()


# Flagged requests per reason and Pacific day of the load that flagged them (the quarantine).
_FLAGGED_BY_DAY_SQL = """
SELECT CAST(timezone('America/Vancouver', loaded_at) AS DATE) AS day, quality_reason,
       count(DISTINCT service_request_id) AS requests
FROM gold.fct_quarantined_requests
GROUP BY ALL
ORDER BY day, quality_reason
"""
_FLAGGED_BY_REASON_SQL = """
SELECT quality_reason, any_value(treatment) AS treatment,
       count(DISTINCT service_request_id) AS requests
FROM gold.fct_quarantined_requests
GROUP BY ALL
ORDER BY requests DESC, quality_reason
"""
_NEW_VALUES_SQL = """
SELECT field_name, field_value, request_count, first_loaded_at
FROM gold.agg_new_domain_values
ORDER BY first_loaded_at DESC, field_name, field_value
"""


def flagged_by_day(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Quarantined requests per Pacific day of the load that flagged them, per reason."""
    return con.execute(_FLAGGED_BY_DAY_SQL).df()


def flagged_by_reason(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Quarantined requests per reason: how many, and what gold does with them."""
    return con.execute(_FLAGGED_BY_REASON_SQL).df()


def flagged_requests(con: duckdb.DuckDBPyConnection) -> int:
    """Requests carrying at least one quality reason."""
    row = con.execute(
        "SELECT count(DISTINCT service_request_id) FROM gold.fct_quarantined_requests"
    ).fetchone()
    return int(row[0]) if row else 0


def new_values(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The values outside the known domains the City started sending, newest first."""
    return con.execute(_NEW_VALUES_SQL).df()


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
    "flagged": "With any quality flag",
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
    tests: pd.DataFrame
    quality: pd.DataFrame
    flagged_by_day: pd.DataFrame
    flagged_by_reason: pd.DataFrame
    flagged_requests: int
    new_values: pd.DataFrame


def load_data_health(con: duckdb.DuckDBPyConnection) -> DataHealthData:
    """The queries behind the Data health page."""
    return DataHealthData(
        publish=publish_info(con),
        loads=load_history(con),
        layers=layer_row_counts(con),
        tests=dbt_test_results(con),
        quality=quality_flags(con),
        flagged_by_day=flagged_by_day(con),
        flagged_by_reason=flagged_by_reason(con),
        flagged_requests=flagged_requests(con),
        new_values=new_values(con),
    )


def last_loads(loads: pd.DataFrame) -> pd.DataFrame:
    """The newest load of each dataset, the requests first: what its reconciliation found."""
    newest = loads.sort_values("started_at", ascending=False).drop_duplicates("dataset")
    return newest.sort_values("dataset", key=lambda d: d != REQUESTS_DATASET, kind="stable")

"""The fixture serving file has exactly the tables and columns of docs/contracts.md, and the
source's shape: located requests inside their area's polygon, a partial newest day."""

from __future__ import annotations

import itertools
import json
from zoneinfo import ZoneInfo

CONTRACT = {
    "gold.dim_local_areas": "local_area_id INTEGER, local_area_name VARCHAR, is_unknown BOOLEAN, "
    "boundary_geojson VARCHAR, centroid_latitude DOUBLE, centroid_longitude DOUBLE",
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
    "source_last_modified_at TIMESTAMP WITH TIME ZONE, portal_url VARCHAR, is_sample BOOLEAN",
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


def _inside(lon: float, lat: float, ring: list[list[float]]) -> bool:
    """Ray casting on one ring: the test's own, independent of the fixture's."""
    inside = False
    for (x0, y0), (x1, y1) in itertools.pairwise(ring):
        if (y0 > lat) != (y1 > lat) and lon < x0 + (lat - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside


def test_located_requests_lie_inside_their_area(sql, boundaries_by_name) -> None:
    rows = sql(
        "SELECT a.local_area_name, f.longitude, f.latitude FROM gold.fct_service_requests f "
        "JOIN gold.dim_local_areas a USING (local_area_id) WHERE f.has_location"
    )
    assert len(rows) > 1_000
    outside = [r for r in rows if not _inside(r[1], r[2], boundaries_by_name[r[0]])]
    assert outside == []


def test_areas_carry_the_real_boundaries(sql, boundaries_by_name) -> None:
    rows = sql(
        "SELECT local_area_name, boundary_geojson, centroid_latitude, centroid_longitude "
        "FROM gold.dim_local_areas"
    )
    unknown = [r for r in rows if r[0] == "Unknown"]
    assert unknown == [("Unknown", None, None, None)]
    known = [r for r in rows if r[0] != "Unknown"]
    assert len(known) == 22
    for name, text, lat, lon in known:
        assert json.loads(text)["coordinates"][0] == boundaries_by_name[name], name
        assert _inside(lon, lat, boundaries_by_name[name]), name


def test_the_newest_day_is_partial(sql) -> None:
    """The data was taken during its newest (Pacific) day: nothing opened after that moment."""
    (newest_day, newest_opened, newest_change, published) = sql(
        "SELECT (SELECT max(opened_date_local) FROM gold.fct_service_requests), "
        "(SELECT max(opened_at) FROM gold.fct_service_requests), "
        "source_last_modified_at, published_at FROM meta.publish"
    )[0]
    assert newest_opened <= newest_change < published
    assert newest_change.astimezone(ZoneInfo("America/Vancouver")).date() == newest_day

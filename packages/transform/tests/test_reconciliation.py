"""Gold agrees with bronze and silver, and shows the source's quirks faithfully."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import seeded_warehouse

# The session's seeded warehouse takes a minute of dbt runs: left out of a `-m "not slow"` run.
pytestmark = pytest.mark.slow


def test_every_bronze_record_is_one_request_in_the_fact(history):
    assert history.query(
        "select count(*), count(distinct _record_key) from bronze.service_requests"
    ) == history.query(
        "select count(*), count(distinct service_request_id) from gold.fct_service_requests"
    )


def test_daily_counts_add_up_to_the_fact(history):
    daily = history.query(
        "select sum(opened_count), sum(closed_count) from gold.agg_requests_daily"
    )
    fact = history.query(
        "select count(opened_date_local),"
        " count(*) filter (where not is_open and closed_date is not null)"
        " from gold.fct_service_requests"
    )
    assert daily == fact


def test_latest_backlog_of_every_area_and_type_adds_up_to_the_open_requests(history):
    backlog = history.query(
        "select sum(open_backlog_count) from (from gold.agg_requests_daily"
        " qualify row_number() over ("
        "   partition by local_area_id, request_type_id order by date_local desc) = 1)"
    )
    still_open = history.query(
        "select count(*) from gold.fct_service_requests"
        " where is_open and opened_date_local is not null"
    )
    assert backlog == still_open
    assert still_open[0][0] > 0


def test_backlog_grows_only_by_the_day_s_openings(history):
    # From one row to the next of the same area and type, the backlog can rise by at most the
    # requests opened on the later day, and never goes below zero.
    broken = history.query(
        """
        with daily as (
            select *, lag(open_backlog_count, 1, 0) over (
                partition by local_area_id, request_type_id order by date_local
            ) as previous_backlog
            from gold.agg_requests_daily
        )
        select count(*) from daily
        where open_backlog_count > previous_backlog + opened_count or open_backlog_count < 0
        """
    )
    assert broken == [(0,)]


def test_resolution_times_cover_every_closed_request(history):
    assert history.query("select sum(closed_count) from gold.agg_resolution_times") == (
        history.query(
            "select count(*) from gold.fct_service_requests"
            " where not is_open and closed_date is not null"
        )
    )
    medians = history.query(
        "select min(median_days_to_close), max(p90_days_to_close - median_days_to_close)"
        " from gold.agg_resolution_times"
    )
    assert medians[0][0] >= 0
    assert medians[0][1] >= 0


def test_local_areas_are_the_22_plus_an_unknown_member(history):
    areas = history.query(
        "select local_area_id, local_area_name, is_unknown from gold.dim_local_areas"
        " order by local_area_id"
    )
    assert len(areas) == 23
    assert areas[0] == (0, "Unknown", True)
    assert {"Kensington-Cedar Cottage", "West Point Grey"} <= {name for _, name, _ in areas}
    requests_without_area = history.query(
        "select count(*) from bronze.service_requests where local_area is null"
    )
    assert (
        history.query("select count(*) from gold.fct_service_requests where local_area_id = 0")
        == requests_without_area
    )


def test_local_areas_carry_the_portal_s_boundary_and_centroid(history):
    features = {
        feature["properties"]["name"]: feature
        for feature in json.loads(seeded_warehouse.BOUNDARIES_GEOJSON.read_text(encoding="utf-8"))[
            "features"
        ]
    }
    areas = history.query(
        "select local_area_name, boundary_geojson, centroid_latitude, centroid_longitude"
        " from gold.dim_local_areas where not is_unknown"
    )
    assert {name for name, *_ in areas} == set(features)
    for name, boundary, latitude, longitude in areas:
        assert json.loads(boundary) == features[name]["geometry"], name
        centroid = features[name]["properties"]["geo_point_2d"]
        assert (latitude, longitude) == (centroid["lat"], centroid["lon"]), name
    assert history.query(
        "select boundary_geojson, centroid_latitude, centroid_longitude"
        " from gold.dim_local_areas where is_unknown"
    ) == [(None, None, None)]


def test_every_request_naming_an_area_points_to_that_area(history):
    mismatched = history.query(
        """
        select count(*)
        from gold.fct_service_requests as fact
        join bronze.service_requests as bronze on bronze._record_key = fact.service_request_id
        left join gold.dim_local_areas as areas on areas.local_area_id = fact.local_area_id
        where areas.local_area_name is distinct from coalesce(bronze.local_area, 'Unknown')
        """
    )
    assert mismatched == [(0,)]


def test_request_types_have_business_unit_and_readable_category(history):
    types = history.query(
        "select request_type, business_unit, category, is_deprecated from gold.dim_request_types"
    )
    assert types
    for request_type, business_unit, category, is_deprecated in types:
        if request_type == "(unknown)":
            continue
        assert not category.endswith(" Case"), request_type
        assert is_deprecated == request_type.startswith(("ZZ OLD - ", "Z - "))
        assert business_unit and " - " not in business_unit


def test_statuses_are_normalised_and_days_to_close_only_for_closed(history):
    assert {
        row[0] for row in history.query("select distinct status from gold.fct_service_requests")
    } == {"Open", "Closed"}
    assert history.query(
        "select count(*) from gold.fct_service_requests"
        " where (is_open and days_to_close is not null)"
        " or (not is_open and closed_date is not null and days_to_close is null)"
    ) == [(0,)]


def test_coordinates_stay_inside_vancouver(history):
    bounds = history.query(
        "select min(latitude), max(latitude), min(longitude), max(longitude),"
        " count(*) filter (where has_location) from gold.fct_service_requests"
    )[0]
    assert 49.18 <= bounds[0] <= bounds[1] <= 49.33
    assert -123.29 <= bounds[2] <= bounds[3] <= -123.00
    assert bounds[4] > 0

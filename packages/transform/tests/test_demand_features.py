"""The forecast's features equal an independent computation over the fact, in Python."""

import csv
from collections import Counter
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from mmds_transform import project_dir

pytestmark = pytest.mark.slow

PACIFIC = ZoneInfo("America/Vancouver")
OTHER = "Other"


def _seed(name: str) -> list[dict[str, str]]:
    path = project_dir() / "seeds" / f"{name}.csv"
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def _expected(history) -> dict[tuple, tuple]:
    groups = {row["department"]: row["demand_group"] for row in _seed("departments")}
    holidays = {
        date.fromisoformat(r["holiday_date"]): r["holiday_name"]
        for r in _seed("bc_statutory_holidays")
    }
    type_group = {
        type_id: groups.get(department, OTHER)
        for type_id, department in history.query(
            "select request_type_id, department from gold.dim_request_types"
        )
    }
    facts = history.query(
        "select opened_date_local, local_area_id, request_type_id, last_modified_at"
        " from gold.fct_service_requests"
    )
    counts = Counter((opened, area, type_group[type_id]) for opened, area, type_id, _ in facts)
    newest_change = max(modified for *_, modified in facts if modified is not None)
    partial_from = newest_change.astimezone(PACIFIC).date()
    areas = [area for (area,) in history.query("select local_area_id from gold.dim_local_areas")]
    all_groups = set(groups.values()) | {OTHER}
    first, last = min(key[0] for key in counts), max(key[0] for key in counts)
    expected = {}
    day = first
    while day <= last:
        weekday = day.isoweekday()
        for area in areas:
            for group in all_groups:
                expected[(day, area, group)] = (
                    counts.get((day, area, group), 0),
                    weekday,
                    day.isocalendar().week,
                    weekday >= 6,
                    day in holidays,
                    holidays.get(day),
                    day < partial_from,
                )
        day += timedelta(days=1)
    return expected


def test_features_equal_an_independent_computation_over_the_fact(history):
    rows = history.query(
        "select date_local, local_area_id, demand_group, requests_opened, day_of_week,"
        " week_of_year, is_weekend, is_holiday, holiday_name, is_complete_day"
        " from gold.agg_demand_features_daily"
    )
    actual = {(d, area, group): tuple(rest) for d, area, group, *rest in rows}
    assert len(actual) == len(rows)
    expected = _expected(history)
    assert actual.keys() == expected.keys()
    differing = {
        key: (actual[key], expected[key]) for key in actual if actual[key] != expected[key]
    }
    assert differing == {}
    # The data behind it is not trivial: holidays, weekends and zeros all occur.
    assert {row[7] for row in rows} == {True, False}
    assert 0 < sum(row[3] == 0 for row in rows) < len(rows)


def test_the_named_groups_cover_most_requests(history):
    shares = dict(
        history.query(
            "select demand_group, sum(requests_opened) * 1.0"
            " / sum(sum(requests_opened)) over () from gold.agg_demand_features_daily group by 1"
        )
    )
    assert len(shares) == 7
    assert shares[OTHER] < 0.2
    assert min(share for group, share in shares.items() if group != OTHER) >= 0.05

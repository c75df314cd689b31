"""Filters in their popover and the URL: shared links reproduce a view; hostile values do no
harm; a filter set on one page holds on every page."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from mmds_dashboard import queries
from mmds_dashboard.filters import (
    FilterOptions,
    Filters,
    filters_from_query_params,
    filters_to_query_params,
)
from mmds_dashboard.serving import read_only_connection

HOSTILE = [
    "Downtown'; DROP TABLE gold.fct_service_requests; --",
    "' OR '1'='1",
    'Kitsilano" OR 1=1 --',
    "); DELETE FROM meta.publish; SELECT (",
    "x" * 100_000,
    "Ünïcödé 漢字 🚧 \u202e",
    "$areas",
    "%' UNION SELECT * FROM meta.loads --",
]
OPTIONS = FilterOptions(
    first_date=date(2025, 6, 1),
    last_date=date(2026, 11, 27),
    areas=("Downtown", "Kitsilano", "Unknown"),
    departments=("ENG - Streets Operations",),
    request_types=("Vendor's Street Use Permit Case",),
    channels=("WEB", "Phone"),
)


def _url_values(app, key: str) -> list[str]:
    value = app.query_params.get(key, [])
    return [value] if isinstance(value, str) else list(value)


def _opened(app) -> int:
    return int(next(m for m in app.metric if m.label == "Requests opened").value.replace(",", ""))


def test_url_round_trip_reproduces_the_filters() -> None:
    filters = Filters(
        start=date(2026, 1, 1),
        end=date(2026, 3, 31),
        areas=("Downtown", "Kitsilano"),
        request_types=("Vendor's Street Use Permit Case",),
        channels=("WEB",),
    )
    params = {
        k: v if isinstance(v, list) else [v] for k, v in filters_to_query_params(filters).items()
    }
    parsed = filters_from_query_params(params, OPTIONS)
    assert parsed.filters == filters
    assert parsed.notes == []


def test_url_with_bad_dates_falls_back_with_notes() -> None:
    parsed = filters_from_query_params(
        {"start": ["2026-13-45"], "end": ["1999-01-01"], "channel": ["WEB", "Fax"]}, OPTIONS
    )
    assert parsed.filters.channels == ("WEB",)
    assert parsed.filters.start == OPTIONS.first_date  # end clamped, then swapped with start
    assert parsed.filters.end == date(2026, 8, 30)
    assert len(parsed.notes) == 4


def test_hostile_url_values_are_ignored_and_never_echoed(make_app, serving_file) -> None:
    baseline = make_app(serving_file).run()
    app = make_app(
        serving_file,
        {
            "area": HOSTILE,
            "department": HOSTILE,
            "type": HOSTILE,
            "channel": HOSTILE,
            "start": HOSTILE[0],
            "end": HOSTILE[4],
        },
    ).run()
    assert not app.exception
    warnings = [w.value for w in app.warning]
    text = " ".join(warnings)
    assert "Ignored 8 `area` value(s)" in text
    assert "is not a date" in text
    assert not any(h[:12] in text for h in HOSTILE)
    assert _opened(app) == _opened(baseline)  # nothing matched, so nothing was filtered
    assert "area" not in app.query_params  # the shared URL is cleaned up


def test_hostile_values_reach_sql_only_as_parameters(serving_file, sql) -> None:
    (before,) = sql("SELECT count(*) FROM gold.fct_service_requests")[0]
    hostile = Filters(
        start=date(2025, 6, 1),
        end=date(2026, 11, 27),
        areas=tuple(HOSTILE),
        departments=tuple(HOSTILE),
        request_types=tuple(HOSTILE),
        channels=tuple(HOSTILE),
    )
    with read_only_connection(serving_file) as con:
        overview = queries.load_overview(con, hostile, None)
        types = queries.load_request_types(con, hostile, None)
        areas = queries.load_neighbourhoods(con, hostile, None)
        fact_only = queries.load_overview(con, replace(hostile, channels=()), None)
    assert overview.kpis["opened"] == 0 and fact_only.kpis["opened"] == 0
    assert types.types.empty and areas.points is None
    assert sql("SELECT count(*) FROM gold.fct_service_requests")[0] == (before,)


def test_a_shared_link_filters_every_number(make_app, serving_file, sql) -> None:
    link = {
        "start": "2026-01-01",
        "end": "2026-03-31",
        "area": ["Downtown", "Kitsilano"],
        "channel": "WEB",
    }
    app = make_app(serving_file, link).run()
    (expected,) = sql(
        """
        SELECT count(*) FROM gold.fct_service_requests f JOIN gold.dim_local_areas a
        USING (local_area_id)
        WHERE opened_date_local BETWEEN '2026-01-01' AND '2026-03-31'
          AND a.local_area_name IN ('Downtown', 'Kitsilano') AND f.channel = 'WEB'
        """
    )[0]
    assert _opened(app) == expected
    assert app.multiselect[0].value == ["Downtown", "Kitsilano"]
    assert _url_values(app, "area") == ["Downtown", "Kitsilano"]
    app.switch_page("views/request_types.py").run()
    table = next(m.value for m in app.markdown if m.value.startswith("| Request type"))
    opened = [line.split(" | ")[1] for line in table.splitlines()[2:]]
    assert sum(int(n.replace(",", "")) for n in opened) == expected


def test_a_value_with_a_quote_filters_through_the_widgets(
    make_app, serving_file, sql, newest_day
) -> None:
    app = make_app(serving_file, {"start": "2025-06-01", "end": str(newest_day)}).run()
    quoted = "Vendor's Street Use Permit Case"
    types_box = next(m for m in app.multiselect if m.label == "Request types")
    types_box.set_value([quoted]).run()
    (expected,) = sql(
        "SELECT count(*) FROM gold.fct_service_requests JOIN gold.dim_request_types "
        "USING (request_type_id) WHERE request_type = ?",
        [quoted],
    )[0]
    assert expected > 0
    assert _opened(app) == expected
    assert _url_values(app, "type") == [quoted]


@pytest.mark.parametrize("label", ["Local areas", "Departments", "Channels"])
def test_each_filter_changes_the_numbers(make_app, serving_file, label) -> None:
    app = make_app(serving_file).run()
    everything = _opened(app)
    box = next(m for m in app.multiselect if m.label == label)
    box.set_value([box.options[0]]).run()
    assert not app.exception
    assert 0 < _opened(app) < everything


def test_filters_hold_across_pages_without_widgets(make_app, serving_file) -> None:
    app = make_app(serving_file).run()
    everything = _opened(app)
    next(m for m in app.multiselect if m.label == "Channels").set_value(["WEB"]).run()
    web = _opened(app)
    assert 0 < web < everything
    app.switch_page("views/data_health.py").run()  # no filter widgets on this page
    assert _url_values(app, "channel") == ["WEB"]
    app.switch_page("views/overview.py").run()
    assert _opened(app) == web
    assert next(m for m in app.multiselect if m.label == "Channels").value == ["WEB"]

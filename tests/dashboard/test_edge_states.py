"""Filters that match nothing, one-day ranges, a serving file without boundaries: a page that
says so and offers a way out, never empty charts."""

from __future__ import annotations

from datetime import timedelta

import duckdb
import pytest

RARE_TYPE = "ZZ OLD - Tower Crane Site Survey Case"


@pytest.fixture
def nothing(sql) -> dict[str, str]:
    """A link choosing a rare deprecated type on a day without one: nothing matches."""
    (day,) = sql(
        "SELECT max(opened_date_local) FROM gold.fct_service_requests "
        "WHERE opened_date_local NOT IN (SELECT opened_date_local FROM gold.fct_service_requests "
        "JOIN gold.dim_request_types USING (request_type_id) WHERE request_type = $1)",
        [RARE_TYPE],
    )[0]
    return {"start": str(day), "end": str(day), "type": RARE_TYPE}


def _opened(app) -> int:
    return int(next(m for m in app.metric if m.label == "Requests opened").value.replace(",", ""))


@pytest.mark.parametrize(
    "page", ["views/overview.py", "views/neighbourhoods.py", "views/request_types.py"]
)
def test_no_match_says_so_and_resets(make_app, serving_file, shown_text, page, nothing) -> None:
    app = make_app(serving_file, nothing).run()
    app.switch_page(page).run()
    assert not app.exception
    assert "No requests match these filters." in shown_text(app)
    assert not app.get("vega_lite_chart") and not app.metric
    assert not app.dataframe and not any(m.value.startswith("|") for m in app.markdown)
    reset = next(b for b in app.main.button if b.proto.label == "Reset filters")
    reset.click().run()
    app.switch_page("views/overview.py").run()
    assert "No requests match" not in shown_text(app)
    assert _opened(app) > 0
    assert app.query_params.get("type") is None


def test_one_day_is_one_day(make_app, serving_file, shown_text, newest_day) -> None:
    day = str(newest_day - timedelta(days=30))
    app = make_app(serving_file, {"start": day, "end": day}).run()
    text = shown_text(app)
    assert f"{day} (1 day)" in text and "1 days" not in text


def test_a_range_of_only_the_partial_day_shows_no_change(
    make_app, serving_file, newest_day
) -> None:
    app = make_app(serving_file, {"start": str(newest_day), "end": str(newest_day)}).run()
    assert _opened(app) > 0
    assert all(m.delta is None or m.delta == "" for m in app.metric)


def test_without_boundaries_the_map_page_says_why(make_app, serving_copy, shown_text) -> None:
    path = serving_copy()
    with duckdb.connect(str(path)) as con:
        con.execute("UPDATE gold.dim_local_areas SET boundary_geojson = NULL")
    app = make_app(path).run()
    app.switch_page("views/neighbourhoods.py").run()
    assert not app.exception
    assert "holds no local-area boundary, so there is no map" in shown_text(app)
    assert len(app.dataframe[0].value) == 22

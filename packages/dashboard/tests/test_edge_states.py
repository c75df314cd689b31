"""Filters that match nothing, one-day ranges, a serving file without boundaries: a page that
says so and offers a way out, never empty charts."""

from __future__ import annotations

from dataclasses import replace

import duckdb
import pytest
from mmds_dashboard.synthetic import write_synthetic_serving_file

# A rare deprecated type on a single day: nothing matches.
NOTHING = {
    "start": "2026-02-03",
    "end": "2026-02-03",
    "type": "ZZ OLD - Tower Crane Site Survey Case",
}


def _opened(app) -> int:
    return int(next(m for m in app.metric if m.label == "Requests opened").value.replace(",", ""))


@pytest.mark.parametrize(
    "page", ["views/overview.py", "views/neighbourhoods.py", "views/request_types.py"]
)
def test_no_match_says_so_and_resets(make_app, serving_file, shown_text, page) -> None:
    app = make_app(serving_file, NOTHING).run()
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


def test_one_day_is_one_day(make_app, serving_file, shown_text) -> None:
    app = make_app(serving_file, {"start": "2026-02-03", "end": "2026-02-03"}).run()
    text = shown_text(app)
    assert "2026-02-03 (1 day)" in text and "1 days" not in text


def test_a_range_of_only_the_partial_day_shows_no_change(make_app, serving_file) -> None:
    app = make_app(serving_file, {"start": "2026-11-27", "end": "2026-11-27"}).run()
    assert _opened(app) > 0
    assert all(m.delta is None or m.delta == "" for m in app.metric)


def test_without_boundaries_the_map_page_says_why(make_app, tmp_path, spec, shown_text) -> None:
    path = write_synthetic_serving_file(tmp_path / "old.duckdb", replace(spec, requests=400))
    con = duckdb.connect(str(path))
    con.execute("UPDATE gold.dim_local_areas SET boundary_geojson = NULL")
    con.close()
    app = make_app(path).run()
    app.switch_page("views/neighbourhoods.py").run()
    assert not app.exception
    assert "no local-area boundaries, so there is no map" in shown_text(app)
    assert len(app.dataframe[0].value) == 22

"""Every page against the fixture serving file: the numbers shown equal direct queries."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import duckdb
import pyarrow as pa
import pytest
from mmds_dashboard.formatting import pacific_time
from mmds_dashboard.quality_words import field_label, reason_label, treatment_label

PAGES = [
    "views/overview.py",
    "views/neighbourhoods.py",
    "views/request_types.py",
    "views/data_health.py",
    "views/about.py",
]


def _metric(app, label: str):
    return next(m for m in app.metric if m.label == label)


def _unescape(markdown: str) -> str:
    """Text as a reader sees it from the escaped Markdown of a cell."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u200b", "")


def _markdown_rows(markdown: str) -> list[list[str]]:
    """The body rows of a Markdown table, cells unescaped."""
    lines = [line for line in markdown.splitlines() if line.startswith("|")][2:]
    return [[_unescape(cell.strip()) for cell in line.strip("|").split(" | ")] for line in lines]


def _in_order(node):
    """The elements under `node` in the order a reader sees them."""
    children = getattr(node, "children", None)
    if children is None:
        yield node
        return
    for key in sorted(children):
        yield from _in_order(children[key])


def _table_after(app, heading: str) -> list[list[str]]:
    """The rows of the first Markdown table after the subheader `heading`."""
    seen = False
    for element in _in_order(app.main):
        kind, value = getattr(element, "type", None), str(getattr(element, "value", ""))
        seen = seen or (kind == "subheader" and value == heading)
        if seen and kind == "markdown" and value.lstrip().startswith("|"):
            return _markdown_rows(value)
    raise AssertionError(f"no table after {heading!r}")


@pytest.fixture
def app(make_app, serving_file):
    return make_app(serving_file).run()


def test_every_page_renders_without_exception(app) -> None:
    for page in PAGES:
        app.switch_page(page).run()
        assert not app.exception, page
        assert app.title, page


def test_filtered_tables_offer_a_csv_download(app) -> None:
    for page in PAGES[:3]:
        app.switch_page(page).run()
        assert any("CSV" in button.proto.label for button in app.get("download_button")), page


def test_overview_kpis_equal_direct_queries(app, sql, default_range) -> None:
    start, end = default_range
    (opened, closed, backlog, median, p90) = sql(
        """
        SELECT count(*) FILTER (WHERE opened_date_local BETWEEN $1 AND $2),
               count(*) FILTER (WHERE closed_date BETWEEN $1 AND $2 AND NOT is_open),
               count(*) FILTER (WHERE opened_date_local <= $2
                                  AND (is_open OR closed_date > $2)),
               quantile_cont(days_to_close, 0.5) FILTER (
                   WHERE closed_date BETWEEN $1 AND $2 AND days_to_close >= 0),
               quantile_cont(days_to_close, 0.9) FILTER (
                   WHERE closed_date BETWEEN $1 AND $2 AND days_to_close >= 0)
        FROM gold.fct_service_requests
        """,
        [start, end],
    )[0]
    assert _metric(app, "Requests opened").value == f"{opened:,}"
    assert _metric(app, "Requests closed").value == f"{closed:,}"
    assert _metric(app, "Open at end").value == f"{backlog:,}"
    assert _metric(app, "Median days to close").value == f"{median:,.1f}"
    assert _metric(app, "P90 days to close").value == f"{p90:,.1f}"


def test_changes_leave_out_the_partial_newest_day(app, sql, default_range, shown_text) -> None:
    start, end = default_range
    (compared, previous) = sql(
        "SELECT count(*) FILTER (WHERE opened_date_local BETWEEN $1 AND $2::DATE - 1), "
        "count(*) FILTER (WHERE opened_date_local BETWEEN $1::DATE - 89 AND $1::DATE - 1) "
        "FROM gold.fct_service_requests",
        [start, end],
    )[0]
    delta = _metric(app, "Requests opened").delta
    assert delta.startswith(f"{compared - previous:+,}"), delta
    text = shown_text(app)
    assert f"Changes compare {start} to {end - timedelta(days=1)} (89 days)" in text
    (data_until,) = sql("SELECT least(source_last_modified_at, published_at) FROM meta.publish")[0]
    assert f"{end} is partial (data until {pacific_time(data_until)})" in text


def test_overview_names_times_in_pacific_time(app, sql, shown_text) -> None:
    text = shown_text(app)
    (published_at,) = sql("SELECT published_at FROM meta.publish")[0]
    assert f"Published {pacific_time(published_at)} (Pacific time)" in text
    assert "UTC" not in text


def test_overview_shows_what_is_asked_for_and_where(app, sql, default_range) -> None:
    start, end = default_range
    types = sql(
        """
        SELECT d.category, count(*) AS n FROM gold.fct_service_requests f
        JOIN gold.dim_request_types d USING (request_type_id)
        WHERE opened_date_local BETWEEN $1 AND $2
        GROUP BY 1 ORDER BY n DESC, any_value(d.request_type) LIMIT 10
        """,
        [start, end],
    )
    areas = sql(
        """
        SELECT a.local_area_name, count(*) AS n FROM gold.fct_service_requests f
        JOIN gold.dim_local_areas a USING (local_area_id)
        WHERE opened_date_local BETWEEN $1 AND $2 AND NOT a.is_unknown
        GROUP BY 1 ORDER BY n DESC, 1 LIMIT 10
        """,
        [start, end],
    )
    shown_types = _table_after(app, "What people ask for")
    shown_areas = _table_after(app, "Where")
    assert [(row[0], int(row[1].replace(",", ""))) for row in shown_types] == types
    assert [(row[0], int(row[1].replace(",", ""))) for row in shown_areas] == areas
    # each with its change and a trend line
    assert all(re.fullmatch(r"[+-]\d+\.\d%|—", row[2]) for row in shown_types + shown_areas)
    assert all(row[3].startswith("![") and "data:image/svg+xml" in row[3] for row in shown_types)


def test_overview_chart_marks_the_partial_day(app) -> None:
    (chart,) = app.get("vega_lite_chart")
    series = json.loads(chart.proto.spec)
    assert "partial" in {dataset.name for dataset in chart.proto.datasets}, "dashed segment"
    assert any(layer["mark"].get("filled") is False for layer in series["layer"]), "hollow points"


def test_overview_channels_equal_direct_counts(app, sql, default_range) -> None:
    start, end = default_range
    expected = dict(
        sql(
            "SELECT channel, count(*) FROM gold.fct_service_requests "
            "WHERE opened_date_local BETWEEN $1 AND $2 GROUP BY 1",
            [start, end],
        )
    )
    rows = _table_after(app, "Requests by channel")
    shown = {row[0]: int(row[1].replace(",", "")) for row in rows}
    assert {channel: n for channel, n in shown.items() if n} == expected
    shares = [float(row[2].rstrip("%")) for row in rows]
    assert sum(shares) == pytest.approx(100, abs=0.5)
    assert all(row[3].endswith(" points") for row in rows)


def test_sample_badge_shows_only_for_sample_data(
    make_app, serving_file, serving_copy, shown_text
) -> None:
    city = make_app(serving_file).run()
    assert "Sample data" not in shown_text(city)
    sample = serving_copy()
    with duckdb.connect(str(sample)) as con:  # as `mmds run --sample` marks what it publishes
        con.execute("UPDATE meta.publish SET is_sample = true")
    for page in PAGES:
        app = make_app(sample).run()
        app.switch_page(page).run()
        assert "Sample data" in shown_text(app), page


def test_neighbourhoods_ranks_the_22_areas(app, sql, default_range, shown_text) -> None:
    start, end = default_range
    app.switch_page("views/neighbourhoods.py").run()
    table = app.dataframe[0].value
    expected = sql(
        """
        SELECT a.local_area_name, count(f.service_request_id)
        FROM gold.dim_local_areas a
        LEFT JOIN gold.fct_service_requests f
          ON f.local_area_id = a.local_area_id AND f.opened_date_local BETWEEN $1 AND $2
        WHERE NOT a.is_unknown GROUP BY 1 ORDER BY 2 DESC, 1
        """,
        [start, end],
    )
    assert len(table) == 22
    assert list(zip(table["local_area"], table["opened"], strict=True)) == expected
    assert list(table["rank"]) == list(range(1, 23))
    (unknown,) = sql(
        "SELECT count(*) FROM gold.fct_service_requests "
        "WHERE local_area_id = 0 AND opened_date_local BETWEEN $1 AND $2",
        [start, end],
    )[0]
    assert f"{unknown:,} requests in the range have no local area" in shown_text(app)


def test_neighbourhoods_trends_count_complete_weeks_only(app, sql, default_range) -> None:
    start, end = default_range
    app.switch_page("views/neighbourhoods.py").run()
    table = app.dataframe[0].value.set_index("local_area")
    compared_end = end - timedelta(days=1)  # the newest day is partial
    first_monday = start + timedelta(days=(7 - start.weekday()) % 7)
    last_sunday = compared_end - timedelta(days=(compared_end.weekday() + 1) % 7)
    weeks = ((last_sunday - first_monday).days + 1) // 7
    counts = dict(
        sql(
            """
            SELECT a.local_area_name, count(*) FROM gold.fct_service_requests f
            JOIN gold.dim_local_areas a USING (local_area_id)
            WHERE opened_date_local BETWEEN $1 AND $2 GROUP BY 1
            """,
            [first_monday, last_sunday],
        )
    )
    for area, row in table.iterrows():
        assert len(row["trend"]) == weeks, area
        assert sum(row["trend"]) == counts.get(area, 0), area


def test_neighbourhoods_map_draws_the_city_offline(app) -> None:
    app.switch_page("views/neighbourhoods.py").run()
    (chart,) = app.get("vega_lite_chart")
    spec = json.loads(chart.proto.spec)
    shapes = spec["datasets"]["shapes"]
    assert len(shapes) == 22
    assert {f["geometry"]["type"] for f in shapes} <= {"Polygon", "MultiPolygon"}
    assert not re.search(r'"(url|href)"\s*:', chart.proto.spec), "the map fetches nothing"
    legends = re.findall(r'"legend"\s*:\s*\{[^}]*"format"', chart.proto.spec)
    assert legends, "the colour scale has a formatted legend"


def test_a_picked_area_zooms_the_map_and_shows_its_requests(
    make_app, serving_file, sql, default_range
) -> None:
    start, end = default_range
    app = make_app(serving_file, {"area": "Kitsilano"}).run()
    app.switch_page("views/neighbourhoods.py").run()
    (chart,) = app.get("vega_lite_chart")
    spec = json.loads(chart.proto.spec)
    assert "fit" in spec["projection"], "zoomed to the area"
    assert "points" in {dataset.name for dataset in chart.proto.datasets}
    assert len(spec["layer"]) == 3
    (located,) = sql(
        "SELECT count(*) FROM gold.fct_service_requests JOIN gold.dim_local_areas "
        "USING (local_area_id) WHERE local_area_name = 'Kitsilano' AND has_location "
        "AND opened_date_local BETWEEN $1 AND $2",
        [start, end],
    )[0]
    assert located > 0
    assert any(b.proto.label == "Show the whole city" for b in app.button)


def test_request_types_marks_deprecated_and_times(app, sql, default_range) -> None:
    start, end = default_range
    app.switch_page("views/request_types.py").run()
    expected = sql(
        """
        SELECT d.request_type, d.is_deprecated,
               count(*) FILTER (WHERE f.opened_date_local BETWEEN $1 AND $2),
               quantile_cont(f.days_to_close, 0.5) FILTER (
                   WHERE f.closed_date BETWEEN $1 AND $2 AND f.days_to_close >= 0),
               quantile_cont(f.days_to_close, 0.9) FILTER (
                   WHERE f.closed_date BETWEEN $1 AND $2 AND f.days_to_close >= 0)
        FROM gold.fct_service_requests f JOIN gold.dim_request_types d USING (request_type_id)
        GROUP BY ALL
        HAVING count(*) FILTER (WHERE f.opened_date_local BETWEEN $1 AND $2
                                   OR f.closed_date BETWEEN $1 AND $2) > 0
        """,
        [start, end],
    )
    rows = {row[0]: row[1:] for row in _table_after(app, "Days to close by request type")}
    assert len(rows) == len(expected)
    names = {
        request_type: f"{category}{' (deprecated)' if deprecated else ''} · {department}"
        for request_type, category, deprecated, department in sql(
            "SELECT request_type, category, is_deprecated, department FROM gold.dim_request_types"
        )
    }
    for request_type, _deprecated, opened, median, p90 in expected:
        shown_opened, shown_median, shown_p90 = rows[names[request_type]]
        assert shown_opened == f"{opened:,}"
        if median is not None:
            assert (shown_median, shown_p90) == (f"{median:,.1f}", f"{p90:,.1f}")
    assert any("(deprecated)" in name for name in rows), "the fixture has deprecated types"
    assert len(app.get("vega_lite_chart")) == 2


def test_request_types_counts_the_requests_reopened(app, sql, default_range) -> None:
    """Closed requests the City opened again between two loads, from the status history."""
    start, end = default_range
    app.switch_page("views/request_types.py").run()
    expected = sql(
        """
        WITH versions AS (
            SELECT service_request_id, status, valid_from,
                   lag(status) OVER (PARTITION BY service_request_id ORDER BY valid_from) AS before
            FROM gold.fct_request_status_changes
        ), reopened AS (
            SELECT DISTINCT service_request_id FROM versions
            WHERE status = 'Open' AND before = 'Closed'
              AND CAST(timezone('America/Vancouver', valid_from) AS DATE) BETWEEN $1 AND $2
        )
        SELECT d.category, d.department, count(*)
        FROM reopened JOIN gold.fct_service_requests f USING (service_request_id)
        JOIN gold.dim_request_types d USING (request_type_id)
        GROUP BY ALL ORDER BY 3 DESC, 1, 2
        """,
        [start, end],
    )
    assert expected, "the fixture's second run saw requests reopened"
    shown = _table_after(app, "Reopened after closing")
    assert [(r[0], r[1], int(r[2].replace(",", ""))) for r in shown] == expected[:15]


def test_data_health_shows_loads_layers_flags_and_tests(app, sql) -> None:
    app.switch_page("views/data_health.py").run()
    loads = _table_after(app, "Load history")
    started = sql(
        "SELECT started_at, dataset, rows_received FROM meta.loads ORDER BY started_at DESC"
    )
    assert [row[0] for row in loads] == [pacific_time(s) for s, _, _ in started]
    labels = {"3-1-1-service-requests": "3-1-1 requests", "local-area-boundary": "Local-area"}
    assert [row[1].split(" ")[0] for row in loads] == [
        labels[d].split(" ")[0] for _, d, _ in started
    ]
    assert [row[2].split(" received")[0] for row in loads] == [f"{n:,}" for _, _, n in started]
    assert all(re.search(r"took \d", row[1]) for row in loads)
    (closed_before_opened, no_area) = sql(
        "SELECT count(*) FILTER (WHERE is_closed_before_opened), "
        "count(*) FILTER (WHERE local_area_id = 0) FROM gold.fct_service_requests"
    )[0]
    flags = {row[0]: row[1] for row in _table_after(app, "Quality flags")}
    assert flags["Closed before opened"] == f"{closed_before_opened:,}"
    assert flags["Without a local area"] == f"{no_area:,}"
    layers = _table_after(app, "Rows per layer")
    assert all(re.fullmatch(r"[\d,]+", row[2]) for row in layers)
    assert any("," in row[2] for row in layers), "thousands separators"
    statuses = dict(sql("SELECT status, count(*) FROM meta.test_results GROUP BY 1"))
    for status, label in (("pass", "passed"), ("warn", "warned"), ("fail", "failed")):
        assert _metric(app, f"Tests {label}").value == f"{statuses.get(status, 0):,}"
    assert len(_table_after(app, "dbt test outcomes")) == sum(statuses.values()) - statuses["pass"]


def test_data_health_shows_the_last_reconciliation(app, sql, shown_text) -> None:
    app.switch_page("views/data_health.py").run()
    shown = _table_after(app, "Does the data agree with the portal?")
    newest = sql(
        "SELECT arg_max(finished_at, started_at), arg_max(bronze_count, started_at), "
        "arg_max(portal_total_count, started_at), arg_max(reconciliation, started_at) "
        "FROM meta.loads WHERE dataset = '3-1-1-service-requests'"
    )[0]
    finished, bronze, portal, reconciliation = newest
    assert shown[0] == [
        f"3-1-1 requests, {pacific_time(finished)}",
        f"{bronze:,}",
        f"{portal:,}",
        "Yes",
    ]
    assert shown[1][0].startswith("Local-area boundaries, ")
    assert f"3-1-1 requests: {reconciliation}." in shown_text(app)


def test_data_health_shows_flagged_rows_by_reason_and_over_time(app, sql) -> None:
    """The hostile mix the fixture's portal served: each reason in words, with its count."""
    app.switch_page("views/data_health.py").run()
    expected = sql(
        "SELECT quality_reason, count(DISTINCT service_request_id), any_value(treatment) "
        "FROM gold.fct_quarantined_requests GROUP BY 1"
    )
    shown = {row[0]: row for row in _table_after(app, "What the City sent that did not fit")}
    assert len(expected) >= 10, "the hostile mix flags many reasons"
    for reason, requests, treatment in expected:
        row = shown[reason_label(reason)]
        assert row[1:] == [f"{requests:,}", treatment_label(treatment)], reason
    assert "Opening time in the future" in shown
    assert "Unknown status" in shown and "Left out of the counts" in shown["Unknown status"]
    chart = next(
        c
        for c in app.get("vega_lite_chart")
        if json.loads(c.proto.spec)["encoding"]["y"]["title"] == "Flagged requests"
    )
    (dataset,) = [d for d in chart.proto.datasets if d.name == "flagged"]
    shown_by_day = {
        (day.date(), reason, n)
        for day, reason, n in pa.ipc.open_stream(dataset.data.data)
        .read_all()
        .to_pandas()
        .itertuples(index=False)
    }
    by_day = sql(
        "SELECT CAST(timezone('America/Vancouver', loaded_at) AS DATE), quality_reason, "
        "count(DISTINCT service_request_id) FROM gold.fct_quarantined_requests GROUP BY ALL"
    )
    assert shown_by_day == {(day, reason_label(reason), n) for day, reason, n in by_day}


def test_data_health_says_when_the_data_disagrees_with_the_portal(
    make_app, serving_copy, shown_text
) -> None:
    path = serving_copy()
    with duckdb.connect(str(path)) as con:
        con.execute(
            "UPDATE meta.loads SET portal_total_count = bronze_count + 5 WHERE started_at = "
            "(SELECT max(started_at) FROM meta.loads WHERE dataset = '3-1-1-service-requests')"
        )
    app = make_app(path).run()
    app.switch_page("views/data_health.py").run()
    rows = _table_after(app, "Does the data agree with the portal?")
    assert [row[-1] for row in rows] == ["No", "Yes"]


def test_data_health_lists_the_new_values_the_city_sent(app, sql) -> None:
    app.switch_page("views/data_health.py").run()
    expected = sql(
        "SELECT field_name, field_value, first_loaded_at, request_count "
        "FROM gold.agg_new_domain_values ORDER BY first_loaded_at DESC, field_name, field_value"
    )
    shown = _table_after(app, "New values from the City")
    assert shown == [
        [f"{field_label(field)}: {value}", pacific_time(first), f"{count:,}"]
        for field, value, first, count in expected
    ]
    assert "Status: Reopened" in [row[0] for row in shown]
    assert "Local area: Cedar Cottage" in [row[0] for row in shown]


def test_about_page_names_source_licence_and_refresh(app, sql, shown_text) -> None:
    app.switch_page("views/about.py").run()
    text = shown_text(app)
    assert "https://opendata.vancouver.ca/explore/dataset/3-1-1-service-requests/" in text
    assert "Open Government Licence - Vancouver" in text
    assert "Contains information licensed under the Open Government Licence - Vancouver." in text
    (published_at, portal_url) = sql("SELECT published_at, portal_url FROM meta.publish")[0]
    assert f"published {pacific_time(published_at)}" in text
    assert f"{portal_url}`" in text  # the portal the data came from

"""Pages skip Altair's validation for speed; every chart they draw is validated here, drawn
from a file `mmds run` published."""

from __future__ import annotations

from mmds_dashboard import charts, health, queries
from mmds_dashboard.filters import Filters, default_filters
from mmds_dashboard.geography import area_shapes, zoom_frame
from mmds_dashboard.serving import read_only_connection


def test_every_chart_is_valid_vega_lite(serving_file) -> None:
    with read_only_connection(serving_file) as con:
        options = queries.filter_options(con)
        filters = default_filters(options)
        overview = queries.load_overview(con, filters, options.partial_day)
        places = queries.load_neighbourhoods(
            con, Filters(filters.start, filters.end, areas=("Kitsilano",)), options.partial_day
        )
        types = queries.load_request_types(con, filters, options.partial_day)
        loads = health.load_history(con)
        flagged = health.flagged_by_day(con)
        shapes = area_shapes(queries.area_boundaries(con))
    areas = places.areas.assign(change=0.1)
    figures = [
        charts.opened_closed_chart(overview.series, "day"),
        charts.ranked_bars(types.departments, "department", "opened", "Requests", label_title="D"),
        charts.resolution_chart(types.resolution),
        charts.load_history_chart(loads),
        charts.flagged_chart(flagged.assign(reason=flagged["quality_reason"])),
        charts.area_map(areas, shapes, "requests", (), None, None),
        charts.area_map(
            areas,
            shapes,
            "change",
            ("Kitsilano",),
            zoom_frame(shapes, ["Kitsilano"]),
            places.points,
        ),
    ]
    for figure in figures:
        figure.chart.to_dict(validate=True)
        spec = figure.spec()
        assert set(figure.datasets) <= set(spec["datasets"])

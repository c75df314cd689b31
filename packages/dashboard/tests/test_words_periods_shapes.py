"""What the pages write (plurals, numbers, Pacific times, tables), which periods are complete,
and the map's shapes, checked on their own."""

from __future__ import annotations

import base64
import itertools
import json
from datetime import UTC, date, datetime
from io import StringIO

import pandas as pd
import pytest
from mmds_dashboard.filters import FilterOptions, Filters
from mmds_dashboard.formatting import (
    change,
    date_range,
    duration,
    pacific_time,
    plural,
    signed_percent,
    signed_points,
)
from mmds_dashboard.geography import area_shapes, zoom_frame
from mmds_dashboard.periods import periods
from mmds_dashboard.tables import Column, csv_bytes, escape_markdown, markdown_table, sparkline


def test_plurals() -> None:
    assert plural(1, "day") == "1 day"
    assert plural(0, "day") == "0 days"
    assert plural(1_234, "request") == "1,234 requests"
    assert date_range(date(2026, 11, 27), date(2026, 11, 27)) == "2026-11-27 (1 day)"
    assert date_range(date(2026, 11, 1), date(2026, 11, 2)) == "2026-11-01 to 2026-11-02 (2 days)"


def test_changes_read_without_minus_zero() -> None:
    assert change(12, 10) == "+2 (+20.0%)"
    assert change(2.04, 2.0, decimals=1) == "no change"
    assert change(5, None) is None
    assert signed_percent(-0.0004) == "0.0%"
    assert signed_points(-0.04) == "0.0 points"
    assert signed_points(1.25) == "+1.2 points"


def test_times_are_pacific_in_winter_and_summer() -> None:
    assert pacific_time(datetime(2026, 11, 27, 22, 30, tzinfo=UTC)) == "2026-11-27 14:30 PST"
    assert pacific_time(datetime(2026, 7, 1, 12, 0, tzinfo=UTC)) == "2026-07-01 05:00 PDT"
    assert pacific_time(datetime(2026, 7, 1, 12, 0)) == "2026-07-01 05:00 PDT"  # naive = UTC
    assert pacific_time(None) == "—"


def test_durations_read_as_people_say_them() -> None:
    assert [duration(s) for s in (0.25, 41, 185, 3_720, None)] == [
        "0.2 s",
        "41 s",
        "3 min 05 s",
        "1 h 02 min",
        "—",
    ]


def test_partial_newest_day_is_left_out_of_the_comparison() -> None:
    spans = periods(Filters(date(2026, 8, 30), date(2026, 11, 27)), date(2026, 11, 27))
    assert spans.comparison == (date(2026, 8, 30), date(2026, 11, 26))
    assert spans.previous == (date(2026, 6, 2), date(2026, 8, 29))
    assert spans.is_partial(date(2026, 11, 27), "day")
    assert not spans.is_partial(date(2026, 11, 26), "day")
    # 2026-08-30 is a Sunday: its week is cut by the range; the week of the 27th holds it.
    assert spans.is_partial(date(2026, 8, 24), "week")
    assert spans.is_partial(date(2026, 11, 23), "week")
    assert not spans.is_partial(date(2026, 8, 31), "week")
    assert spans.complete_periods("week") == (date(2026, 8, 31), date(2026, 11, 22))


def test_a_range_of_only_the_partial_day_compares_nothing() -> None:
    spans = periods(Filters(date(2026, 11, 27), date(2026, 11, 27)), date(2026, 11, 27))
    assert spans.comparison is None and spans.previous is None
    assert spans.complete_periods("day") is None


def test_a_complete_range_compares_all_of_it() -> None:
    spans = periods(Filters(date(2026, 1, 1), date(2026, 1, 31)), date(2026, 11, 27))
    assert spans.comparison == (date(2026, 1, 1), date(2026, 1, 31))
    assert spans.previous == (date(2025, 12, 1), date(2025, 12, 31))


def test_the_newest_day_is_partial_only_if_the_data_was_taken_during_it() -> None:
    options = FilterOptions(date(2026, 1, 1), date(2026, 11, 27), (), (), (), ())
    taken_during = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)  # 14:00 Pacific time
    taken_after = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)  # 01:00 the next day
    assert FilterOptions(**{**options.__dict__, "data_until": taken_during}).partial_day == date(
        2026, 11, 27
    )
    assert FilterOptions(**{**options.__dict__, "data_until": taken_after}).partial_day is None


def _square(west: float, south: float, size: float, *, clockwise: bool) -> str:
    ring = [
        [west, south],
        [west + size, south],
        [west + size, south + size],
        [west, south + size],
        [west, south],
    ]  # counter-clockwise, as RFC 7946 prefers
    return json.dumps({"type": "Polygon", "coordinates": [ring[::-1] if clockwise else ring]})


def _signed_area(ring) -> float:
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(ring))


@pytest.mark.parametrize("clockwise", [True, False])
def test_shapes_are_wound_clockwise_for_vega(clockwise: bool) -> None:
    (shape,) = area_shapes([("Square", _square(-123.2, 49.2, 0.1, clockwise=clockwise))])
    ring = shape.feature["geometry"]["coordinates"][0]
    assert _signed_area(ring) < 0, "an exterior ring must run clockwise for d3-geo"
    assert shape.bounds == pytest.approx((-123.2, 49.2, -123.1, 49.3))
    assert shape.feature["properties"] == {"local_area": "Square"}


def test_areas_without_a_boundary_are_left_off_the_map() -> None:
    assert area_shapes([("Unknown", None), ("Empty", "")]) == ()


def test_zoom_frame_surrounds_the_chosen_areas_with_a_margin() -> None:
    shapes = area_shapes(
        [
            ("A", _square(-123.2, 49.2, 0.1, clockwise=False)),
            ("B", _square(-123.0, 49.2, 0.1, clockwise=False)),
        ]
    )
    frame = zoom_frame(shapes, ["A"])
    ring = frame["geometry"]["coordinates"][0]
    assert _signed_area(ring) < 0
    xs, ys = zip(*ring, strict=True)
    assert (min(xs), max(xs)) == pytest.approx((-123.225, -123.075))
    assert (min(ys), max(ys)) == pytest.approx((49.175, 49.325))
    assert zoom_frame(shapes, ["Nowhere"]) is None


@pytest.mark.parametrize(
    "hostile",
    [
        "**bold** _it_",
        "[link](http://example.com)",
        ":red[colour] :material/home:",
        "$x^2$",
        "a | b",
        "<img src=x onerror=alert(1)>",
        "`code`",
    ],
)
def test_markdown_cells_show_text_literally(hostile: str) -> None:
    escaped = escape_markdown(hostile)
    assert all(f"\\{c}" in escaped for c in "*[]:|<`$" if c in hostile)
    table = markdown_table(
        pd.DataFrame({"name": [hostile], "n": [1234]}),
        [Column("name", "Name", escape_markdown), Column("n", "Requests", "{:,}".format, "right")],
    )
    header, rule, row = table.splitlines()
    assert (header, rule) == ("| Name | Requests |", "|:---|---:|")
    assert row.endswith("| 1,234 |") and row.count(" | ") == 1


def test_sparkline_is_an_inline_image() -> None:
    markdown = sparkline([3, 5, 2, 8], "trend")
    assert markdown.startswith("![trend](data:image/svg+xml;base64,")
    svg = base64.b64decode(markdown.split(",", 1)[1].rstrip(")")).decode()
    assert (
        svg.startswith("<svg")
        and "polyline" in svg
        and "http" not in svg.replace("http://www.w3.org/2000/svg", "")
    )
    assert sparkline([4], "trend") == "—"


def test_csv_keeps_every_value_and_defuses_spreadsheet_formulas() -> None:
    frame = pd.DataFrame(
        {
            "Request type": ['=HYPERLINK("http://x")', "Pothole Case", "@SUM(A1)", 'Café, "q"'],
            "Requests opened": [3, -1, 0, 12],
        }
    )
    back = pd.read_csv(StringIO(csv_bytes(frame).decode("utf-8")))
    assert list(back.columns) == ["Request type", "Requests opened"]
    assert list(back["Request type"]) == [
        '\'=HYPERLINK("http://x")',
        "Pothole Case",
        "'@SUM(A1)",
        'Café, "q"',
    ]
    assert list(back["Requests opened"]) == [3, -1, 0, 12]


def test_quality_codes_read_as_words() -> None:
    from mmds_dashboard.quality_words import field_label, reason_label, treatment_label

    assert reason_label("unknown_status") == "Unknown status"
    assert reason_label("unknown_local_area") == "Unknown local area"
    assert reason_label("service_request_open_timestamp_in_future") == "Opening time in the future"
    assert reason_label("address_formula_like") == "Address looks like a spreadsheet formula"
    assert reason_label("last_modified_timestamp_before_first_year") == (
        "Last change time before the dataset's first year"
    )
    assert reason_label("exact_duplicate") == "Exact duplicate of another request"
    assert reason_label("a_code_from_a_newer_version") == "A code from a newer version"
    assert field_label("closure_reason") == "Closure reason"
    assert treatment_label("mapped_to_other") == "Counted as Other"

"""Charts and the map, all Altair (Vega-Lite): pure functions of data frames.

Vega draws in the browser from the spec and the data Streamlit sends: no tiles, styles, fonts or
scripts from any other host. Dates are drawn on UTC scales of their calendar values, so a day
stays that day whatever the reader's time zone; every date is a Pacific-time date already.

Each builder returns a `Figure`: the Altair chart over named datasets, and those datasets. Pages
draw `figure.spec()` with `st.vega_lite_chart`, which skips Altair's schema validation on every
rerun (a third of a second for the map); the tests validate every chart once instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import altair as alt
import pandas as pd

from mmds_dashboard.formatting import PACIFIC_NAME
from mmds_dashboard.geography import AreaShape

OPENED_COLOUR = "#1f77b4"
CLOSED_COLOUR = "#2ca02c"
DEPRECATED_COLOUR = "#d62728"
CURRENT_COLOUR = "#4c78a8"
BASE_COLOUR = "#e6e6e6"
POINT_COLOUR = "#d62728"
MAP_HEIGHT = 460
FLAGGED_PLOT_HEIGHT = 260  # the bars and the axes
LEGEND_LINE = 22
Measure = Literal["requests", "change"]
MAP_SELECTION = "area"


@dataclass(frozen=True)
class Figure:
    """A chart over named datasets, and what is behind those names: data frames, or lists of
    GeoJSON features (kept out of the Altair chart, whose every copy would walk them)."""

    chart: alt.TopLevelMixin
    datasets: dict[str, pd.DataFrame | list[dict]]

    def spec(self) -> dict[str, Any]:
        """The Vega-Lite spec for `st.vega_lite_chart` (unvalidated; Streamlit sends the data
        frames as Arrow and the features as JSON)."""
        spec = self.chart.to_dict(validate=False)
        view = spec.get("config", {}).get("view", {})
        for key in ("continuousWidth", "continuousHeight"):  # Altair's default 300 px canvas
            view.pop(key, None)
        spec["datasets"] = {**spec.get("datasets", {}), **self.datasets}
        return spec


def _data(name: str) -> alt.NamedData:
    return alt.NamedData(name=name)


def _day_axis(field: str, title: str, *, week: bool = False) -> alt.X:
    return alt.X(
        f"utcyearmonthdate({field}):T",
        title=title,
        axis=alt.Axis(format="%b %d" if not week else "%b %d, %Y", labelOverlap=True),
    )


def opened_closed_chart(series: pd.DataFrame, grain: str) -> Figure:
    """Lines of requests opened and closed per period; partial periods (cut by the range, or the
    partial newest day) are drawn dashed with hollow points."""
    long = series.melt(
        ["period_start", "is_partial"], ["opened", "closed"], var_name="requests", value_name="n"
    )
    long["requests"] = long["requests"].map({"opened": "Opened", "closed": "Closed"})
    long["period"] = long["is_partial"].map({True: "partial", False: "complete"})
    title = f"{'Day' if grain == 'day' else 'Week from Monday'} ({PACIFIC_NAME})"
    colour = alt.Color(
        "requests:N",
        title=None,
        scale=alt.Scale(domain=["Opened", "Closed"], range=[OPENED_COLOUR, CLOSED_COLOUR]),
        legend=alt.Legend(orient="top"),
    )
    base = alt.Chart(_data("series")).encode(
        x=_day_axis("period_start", title, week=grain == "week"),
        y=alt.Y("n:Q", title="Requests", axis=alt.Axis(format=",d", tickMinStep=1)),
        color=colour,
        tooltip=[
            alt.Tooltip("utcyearmonthdate(period_start):T", title=title),
            alt.Tooltip("requests:N", title="Requests"),
            alt.Tooltip("n:Q", format=",", title="Count"),
            alt.Tooltip("period:N", title="Period"),
        ],
    )
    complete = long["is_partial"].eq(False)
    # Each partial period joins the line from its complete neighbour, dashed.
    dashed_segments = []
    for name, group in long.groupby("requests"):
        group = group.sort_values("period_start").reset_index(drop=True)
        for i in group.index[group["is_partial"]]:
            for j in (i - 1, i + 1):
                if 0 <= j < len(group) and not group.loc[j, "is_partial"]:
                    dashed_segments.append(group.loc[[j, i]].assign(segment=f"{name}{i}{j}"))
    solid = base.transform_filter(alt.datum.period == "complete").mark_line(point=grain == "week")
    layers = [solid] if complete.any() else []
    datasets = {"series": long}
    if dashed_segments:
        datasets["partial"] = pd.concat(dashed_segments, ignore_index=True)
        layers.append(
            alt.Chart(_data("partial"))
            .mark_line(strokeDash=[4, 3])
            .encode(x=base.encoding.x, y=base.encoding.y, color=colour, detail="segment:N")
        )
    layers.append(
        base.transform_filter(alt.datum.period == "partial").mark_point(filled=False, size=60)
    )
    return Figure(alt.layer(*layers).properties(height=300), datasets)


def ranked_bars(
    frame: pd.DataFrame,
    label: str,
    value: str,
    title: str,
    *,
    label_title: str,
    kind: str | None = None,
) -> Figure:
    """Horizontal bars of `value` per `label`, largest first, one labelled row per bar; `kind`
    (a column of "current"/"deprecated") colours deprecated rows apart."""
    colour: Any = alt.value(CURRENT_COLOUR)  # a value or, with `kind`, a field's colours
    if kind is not None:
        colour = alt.Color(
            f"{kind}:N",
            title=None,
            scale=alt.Scale(
                domain=["current", "deprecated"], range=[CURRENT_COLOUR, DEPRECATED_COLOUR]
            ),
            legend=alt.Legend(orient="top"),
        )
    chart = (
        alt.Chart(_data("bars"))
        .mark_bar()
        .encode(
            x=alt.X(f"{value}:Q", title=title, axis=alt.Axis(format=",d", tickMinStep=1)),
            y=alt.Y(f"{label}:N", title=None, sort="-x", axis=alt.Axis(labelLimit=220)),
            color=colour,
            tooltip=[
                alt.Tooltip(f"{label}:N", title=label_title),
                alt.Tooltip(f"{value}:Q", format=",", title=title),
            ],
        )
        .properties(height=alt.Step(22))
    )
    return Figure(chart, {"bars": frame})


def resolution_chart(resolution: pd.DataFrame) -> Figure:
    """Median days to close per month of closing, one line per request type."""
    chart = (
        alt.Chart(_data("resolution"))
        .mark_line(point=True)
        .encode(
            x=alt.X(
                "utcyearmonth(month_start):T",
                title=f"Month of closing ({PACIFIC_NAME})",
                axis=alt.Axis(format="%b %Y", labelOverlap=True),
            ),
            y=alt.Y("median_days_to_close:Q", title="Median days to close"),
            color=alt.Color(
                "category:N",
                title=None,
                legend=alt.Legend(orient="bottom", columns=2, labelLimit=230),
            ),
            tooltip=[
                alt.Tooltip("category:N", title="Request type"),
                alt.Tooltip("utcyearmonth(month_start):T", title="Month", format="%B %Y"),
                alt.Tooltip("median_days_to_close:Q", format=".1f", title="Median days"),
                alt.Tooltip("p90_days_to_close:Q", format=".1f", title="P90 days"),
                alt.Tooltip("closed_count:Q", format=",", title="Closed"),
            ],
        )
        .properties(height=320)
    )
    return Figure(chart, {"resolution": resolution})


def load_history_chart(loads: pd.DataFrame) -> Figure:
    """Rows received per load on a time axis (Pacific time; a log-like scale so a full load does
    not hide the incremental ones), coloured by status."""
    frame = loads.assign(
        started=loads["started_at"].dt.tz_convert("America/Vancouver").dt.tz_localize(None)
    )[
        [
            "started",
            "load_id",
            "dataset",
            "mode",
            "status",
            "rows_received",
            "rows_inserted",
            "rows_updated",
        ]
    ]
    axis_title = f"Load started ({PACIFIC_NAME})"
    chart = (
        alt.Chart(_data("loads"))
        .mark_point(filled=True, size=90)
        .encode(
            x=alt.X(
                "utcyearmonthdatehoursminutes(started):T",
                title=axis_title,
                axis=alt.Axis(format="%b %d %H:%M", labelOverlap=True),
            ),
            y=alt.Y(
                "rows_received:Q",
                title="Rows received",
                scale=alt.Scale(type="symlog"),
                axis=alt.Axis(format=",d"),
            ),
            color=alt.Color(
                "status:N",
                title="Status",
                scale=alt.Scale(domain=["succeeded", "skipped"], range=[CLOSED_COLOUR, "#9e9e9e"]),
                legend=alt.Legend(orient="top", title=None),
            ),
            shape=alt.Shape("dataset:N", title=None, legend=alt.Legend(orient="bottom")),
            tooltip=[
                alt.Tooltip("load_id:N", title="Load"),
                alt.Tooltip("dataset:N", title="Dataset"),
                alt.Tooltip(
                    "utcyearmonthdatehoursminutes(started):T",
                    title=axis_title,
                    format="%Y-%m-%d %H:%M",
                ),
                alt.Tooltip("mode:N", title="Mode"),
                alt.Tooltip("status:N", title="Status"),
                alt.Tooltip("rows_received:Q", format=",", title="Received"),
                alt.Tooltip("rows_inserted:Q", format=",", title="Inserted"),
                alt.Tooltip("rows_updated:Q", format=",", title="Updated"),
            ],
        )
        .properties(height=240)
    )
    return Figure(chart, {"loads": frame})


def flagged_chart(flagged: pd.DataFrame) -> Figure:
    """Flagged requests per Pacific day of the load that flagged them, stacked by reason
    (`reason`: the reason in words)."""
    chart = (
        alt.Chart(_data("flagged"))
        .mark_bar()
        .encode(
            # Ordinal days: one bar per day with loads, however few (a time axis of one day
            # has no width to draw a bar in).
            x=alt.X(
                "utcyearmonthdate(day):O",
                title=f"Loaded on ({PACIFIC_NAME})",
                axis=alt.Axis(format="%b %d, %Y", labelAngle=0, labelOverlap=True),
            ),
            y=alt.Y("requests:Q", title="Flagged requests", axis=alt.Axis(format=",d")),
            color=alt.Color(
                "reason:N",
                title="Reason",
                scale=alt.Scale(scheme="tableau20"),  # up to 20 reasons, each its own colour
                legend=alt.Legend(orient="bottom", columns=1, labelLimit=320),
            ),
            tooltip=[
                alt.Tooltip("utcyearmonthdate(day):T", title="Loaded on", format="%Y-%m-%d"),
                alt.Tooltip("reason:N", title="Reason"),
                alt.Tooltip("requests:Q", format=",", title="Requests"),
            ],
        )
        # The legend (one line per reason) is drawn inside the chart's height.
        .properties(height=FLAGGED_PLOT_HEIGHT + LEGEND_LINE * flagged["reason"].nunique())
    )
    return Figure(chart, {"flagged": flagged[["day", "reason", "requests"]]})


_MAP_COLUMNS = (
    "local_area",
    "opened",
    "opened_prev",
    "change",
    "open_backlog",
    "median_days_to_close",
)


def _legend_values(counts: pd.Series) -> list[int]:
    """Whole numbers for a size legend: 1, about half the largest, the largest."""
    top = int(counts.max())
    return sorted({1, max(1, round(top / 2)), top})


def _lookup_shapes(chart: alt.Chart) -> alt.Chart:
    return chart.transform_lookup(
        lookup="local_area",
        from_=alt.LookupData(data=_data("shapes"), key="properties.local_area"),
        as_="geo",
    )


def area_map(
    areas: pd.DataFrame,
    shapes: Sequence[AreaShape],
    measure: Measure,
    selected: Sequence[str],
    frame: dict | None,
    points: pd.DataFrame | None,
) -> Figure:
    """The local areas coloured by requests opened or by their change against the previous
    period, with a legend whose scale spans the data; `selected` areas stand out, `frame` (a
    feature) is what the view fits, and `points` (requests per small cell) draw on top.

    Clicking an area selects it (the selection parameter `MAP_SELECTION`, field `local_area`).
    """
    pick = alt.selection_point(
        name=MAP_SELECTION,
        fields=["local_area"],
        on="click",
        value=[{"local_area": name} for name in selected] or None,
    )
    tooltip = [
        alt.Tooltip("local_area:N", title="Local area"),
        alt.Tooltip("opened:Q", format=",", title="Requests opened"),
        alt.Tooltip("opened_prev:Q", format=",", title="Previous period"),
        alt.Tooltip("change:Q", format="+.1%", title="Change"),
        alt.Tooltip("open_backlog:Q", format=",", title="Open at end"),
        alt.Tooltip("median_days_to_close:Q", format=".1f", title="Median days to close"),
    ]
    if measure == "requests":
        colour = alt.Color(
            "opened:Q",
            title="Requests opened",
            scale=alt.Scale(scheme="blues", domainMin=0, nice=True),
            legend=alt.Legend(format=",d", orient="bottom", gradientLength=260),
        )
    else:
        limit = float(areas["change"].abs().max()) if areas["change"].notna().any() else 0.0
        limit = max(limit, 0.05)
        colour = alt.Color(
            "change:Q",
            title="Change against the previous period",
            scale=alt.Scale(scheme="redblue", reverse=True, domain=[-limit, limit], domainMid=0),
            legend=alt.Legend(format="+.0%", orient="bottom", gradientLength=260),
        )
    outline: Any = alt.value(0.6)  # or, with an area selected, a condition
    if selected:
        outline = alt.condition(pick, alt.value(2.5), alt.value(0.6))
    base = _lookup_shapes(alt.Chart(_data("areas")))
    backdrop = base.mark_geoshape(fill=BASE_COLOUR, stroke="white", clip=True).encode(shape="geo:G")
    coloured = (
        base.mark_geoshape(stroke="#333333", clip=True, cursor="pointer")
        .encode(
            shape="geo:G",
            color=colour,
            strokeWidth=outline,
            fillOpacity=alt.condition(pick, alt.value(0.95), alt.value(0.35))
            if selected
            else alt.value(0.95),
            tooltip=tooltip,
        )
        .add_params(pick)
    )
    layers = [backdrop, coloured]
    datasets = {
        "areas": areas[[c for c in _MAP_COLUMNS if c in areas]],
        "shapes": [shape.feature for shape in shapes],
    }
    if points is not None and len(points):
        datasets["points"] = points
        layers.append(
            alt.Chart(_data("points"))
            .mark_circle(color=POINT_COLOUR, opacity=0.7, clip=True)
            .encode(
                longitude="longitude:Q",
                latitude="latitude:Q",
                size=alt.Size(
                    "requests:Q",
                    title="Requests per ~100 m cell",
                    scale=alt.Scale(range=[8, 160]),
                    legend=alt.Legend(
                        orient="bottom", format=",d", values=_legend_values(points["requests"])
                    ),
                ),
                tooltip=[alt.Tooltip("requests:Q", format=",", title="Requests here")],
            )
        )
    fit: dict[str, Any] = {} if frame is None else {"fit": frame}
    chart = (
        alt.layer(*layers)
        .project(type="mercator", **fit)
        .properties(height=MAP_HEIGHT)
        .configure_view(stroke=None)
    )
    return Figure(chart, datasets)

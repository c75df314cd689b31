"""Chart and map builders: altair for charts, pydeck for the map. Pure functions of data frames."""

from __future__ import annotations

import altair as alt
import pandas as pd
import pydeck as pdk

OPENED_COLOUR = "#1f77b4"
CLOSED_COLOUR = "#2ca02c"
DEPRECATED_COLOUR = "#d62728"
CURRENT_COLOUR = "#4c78a8"
VANCOUVER = pdk.ViewState(latitude=49.250, longitude=-123.115, zoom=11.2, pitch=0)


def opened_closed_chart(series: pd.DataFrame, grain: str) -> alt.Chart:
    """Lines of requests opened and closed per period."""
    long = series.melt("period_start", var_name="requests", value_name="count")
    return (
        alt.Chart(long)
        .mark_line(point=grain == "week")
        .encode(
            x=alt.X("period_start:T", title=f"{grain.capitalize()} (local)"),
            y=alt.Y("count:Q", title="Requests"),
            color=alt.Color(
                "requests:N",
                title=None,
                scale=alt.Scale(domain=["opened", "closed"], range=[OPENED_COLOUR, CLOSED_COLOUR]),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=[
                alt.Tooltip("period_start:T", title=grain.capitalize()),
                alt.Tooltip("requests:N"),
                alt.Tooltip("count:Q", format=","),
            ],
        )
        .properties(height=320)
    )


def share_chart(channels: pd.DataFrame) -> alt.Chart:
    """Horizontal bars of each channel's share of requests opened."""
    return (
        alt.Chart(channels)
        .mark_bar(color=CURRENT_COLOUR)
        .encode(
            x=alt.X("share:Q", title="Share of requests opened", axis=alt.Axis(format="%")),
            y=alt.Y("channel:N", title=None, sort="-x"),
            tooltip=[
                "channel:N",
                alt.Tooltip("opened:Q", format=","),
                alt.Tooltip("share:Q", format=".1%"),
                alt.Tooltip("share_prev:Q", format=".1%", title="share, previous period"),
            ],
        )
        .properties(height=alt.Step(24))
    )


def ranked_bars(
    frame: pd.DataFrame, label: str, value: str, title: str, kind: str | None = None
) -> alt.Chart:
    """Horizontal bars of `value` per `label`, largest first, one labelled row per bar; `kind`
    (a column of "current"/"deprecated") colours deprecated rows apart."""
    colour: alt.Color | alt.value = alt.value(CURRENT_COLOUR)
    if kind is not None:
        colour = alt.Color(
            f"{kind}:N",
            title=None,
            scale=alt.Scale(
                domain=["current", "deprecated"], range=[CURRENT_COLOUR, DEPRECATED_COLOUR]
            ),
            legend=alt.Legend(orient="top"),
        )
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X(f"{value}:Q", title=title),
            y=alt.Y(f"{label}:N", title=None, sort="-x", axis=alt.Axis(labelLimit=320)),
            color=colour,
            tooltip=[f"{label}:N", alt.Tooltip(f"{value}:Q", format=",")],
        )
        .properties(height=alt.Step(22))
    )


def load_history_chart(loads: pd.DataFrame) -> alt.Chart:
    """Bars of rows received per load (oldest first, log-like scale so a full load does not hide
    the incremental ones), coloured by load status."""
    return (
        alt.Chart(loads)
        .mark_bar()
        .encode(
            x=alt.X(
                "load_id:N",
                title="Load",
                sort=alt.SortField("started_at"),
                axis=alt.Axis(labelAngle=0),
            ),
            y=alt.Y("rows_received:Q", title="Rows received", scale=alt.Scale(type="symlog")),
            color=alt.Color(
                "status:N",
                scale=alt.Scale(domain=["succeeded", "skipped"], range=[CLOSED_COLOUR, "#9e9e9e"]),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=[
                "load_id:N",
                "mode:N",
                "status:N",
                alt.Tooltip("rows_received:Q", format=","),
                alt.Tooltip("rows_inserted:Q", format=","),
                alt.Tooltip("rows_updated:Q", format=","),
                alt.Tooltip("started_at:T", format="%Y-%m-%d %H:%M", title="started (UTC)"),
            ],
        )
        .properties(height=300)
    )


def requests_map(cells: pd.DataFrame, labels: pd.DataFrame) -> pdk.Deck:
    """Requests per grid cell as circles sized and shaded by count, with area names on top.

    The basemap is Streamlit's default Carto style (no token needed); offline its tiles are
    absent and only the layers draw, so the area names give the bearings.
    """
    peak = max(float(cells["requests"].max()), 1.0) if len(cells) else 1.0
    points = cells.assign(
        radius=20 + 80 * (cells["requests"] / peak) ** 0.5,
        alpha=(70 + 185 * (cells["requests"] / peak) ** 0.5).round().astype(int),
    )
    layers = [
        pdk.Layer(
            "ScatterplotLayer",
            data=points,
            get_position=["longitude", "latitude"],
            get_radius="radius",
            get_fill_color=[214, 39, 40, "alpha"],
            pickable=True,
        ),
        pdk.Layer(
            "TextLayer",
            data=labels,
            get_position=["longitude", "latitude"],
            get_text="local_area",
            get_size=13,
            get_color=[30, 30, 30, 230],
            background=True,
            get_background_color=[255, 255, 255, 200],
        ),
    ]
    return pdk.Deck(
        layers=layers,
        initial_view_state=VANCOUVER,
        map_provider=None,
        map_style=None,
        tooltip={"text": "{requests} requests"},
    )

"""Neighbourhoods: where requests come from. Picking areas, on the map or in the table, filters
every page by them and zooms the map to them."""

import hashlib
from typing import Literal

import streamlit as st

from mmds_dashboard import cache
from mmds_dashboard.charts import MAP_SELECTION, area_map
from mmds_dashboard.components import csv_download, figure, no_match, page_header
from mmds_dashboard.context import page_context
from mmds_dashboard.filter_bar import filter_bar, select_areas
from mmds_dashboard.formatting import date_range, plural, relative_change
from mmds_dashboard.geography import CITY_MARGIN, zoom_frame
from mmds_dashboard.periods import trend_grain
from mmds_dashboard.queries import POINT_DETAIL_MAX_AREAS
from mmds_dashboard.tables import labelled

MEASURES: dict[str, Literal["requests", "change"]] = {
    "Requests opened": "requests",
    "Change": "change",
}


def _picked_on_map(key: str) -> None:
    points = st.session_state[key].selection.get(MAP_SELECTION, [])
    select_areas([p["local_area"] for p in points if "local_area" in p])


def _picked_in_table(key: str, names: list[str]) -> None:
    rows = st.session_state[key].selection.rows
    select_areas([names[i] for i in rows if i < len(names)])


context = page_context()
filters = context.filters
data = cache.neighbourhoods(context.marker, filters, context.options.partial_day)
shapes = cache.shapes(context.marker)
page_header("Neighbourhoods", cache.publish(context.marker))
filter_bar(context.options, filters)

areas = data.areas.assign(
    change=[
        relative_change(c, p)
        for c, p in zip(data.areas["opened_cmp"], data.areas["opened_prev"], strict=True)
    ]
)
known = areas[~areas["is_unknown"]].reset_index(drop=True)
unknown = int(areas.loc[areas["is_unknown"], "opened"].sum())
if not known["opened"].sum() and not unknown:
    no_match(context.options)
    st.stop()

# Widgets keyed on the chosen areas start afresh, showing the choice, whenever it changes.
chosen = hashlib.sha256("\n".join(sorted(filters.areas)).encode()).hexdigest()[:12]
st.caption(
    f"Requests opened {date_range(filters.start, filters.end)}, per local area. Click an area "
    "on the map, or tick rows in the table, to filter every page by those areas."
)
if shapes:
    label = st.segmented_control(
        "Colour the areas by", list(MEASURES), default="Requests opened", key="map_measure"
    )
    map_key = f"map_{chosen}"
    figure(
        area_map(
            known,
            shapes,
            MEASURES.get(label or "", "requests"),
            filters.areas,
            zoom_frame(shapes, filters.areas)
            if filters.areas
            else zoom_frame(shapes, [shape.name for shape in shapes], CITY_MARGIN),
            data.points,
        ),
        key=map_key,
        on_select=lambda: _picked_on_map(map_key),
        selection_mode=MAP_SELECTION,
    )
    detail = (
        "Dots: located requests per cell of about 100 m."
        if data.points is not None
        else f"Pick up to {POINT_DETAIL_MAX_AREAS} areas to see where their requests were made."
    )
    notes = [detail]
    if filters.areas:
        st.button("Show the whole city", on_click=select_areas, args=([],))
else:
    st.info(
        "This serving file holds no local-area boundary, so there is no map: the portal sent "
        "none that could be read. See Data health, and run `uv run mmds run` again.",
        icon=":material/map:",
    )
    notes = []
if unknown:
    notes.append(
        f"{plural(unknown, 'request')} in the range have no local area (privacy, or not tied "
        "to a place)."
    )
if notes:
    st.caption(" ".join(notes))

st.subheader("Local areas ranked by requests opened")
table = known.assign(rank=range(1, len(known) + 1), change_pct=known["change"] * 100)
names = list(table["local_area"])
table_key = f"area_table_{chosen}"
grain = trend_grain(filters)
st.dataframe(
    table,
    hide_index=True,
    height=35 * (len(table) + 1) + 3,
    key=table_key,
    on_select=lambda: _picked_in_table(table_key, names),
    selection_mode="multi-row",
    selection_default={
        "selection": {"rows": [i for i, n in enumerate(names) if n in filters.areas]}
    },
    column_order=[
        "rank",
        "local_area",
        "opened",
        "change_pct",
        "open_backlog",
        "median_days_to_close",
        "trend",
    ],
    column_config={
        "rank": st.column_config.NumberColumn("#", width="small"),
        "local_area": st.column_config.TextColumn("Local area"),
        "opened": st.column_config.NumberColumn("Requests opened", format="localized"),
        "change_pct": st.column_config.NumberColumn(
            "Change", format="%+.1f%%", help="The complete days chosen against as many before"
        ),
        "open_backlog": st.column_config.NumberColumn("Open at end", format="localized"),
        "median_days_to_close": st.column_config.NumberColumn(
            "Median days to close", format="%.1f"
        ),
        "trend": st.column_config.LineChartColumn(f"Opened per {grain}", y_min=0),
    },
)
csv_download(
    labelled(
        table,
        {
            "rank": "Rank",
            "local_area": "Local area",
            "opened": "Requests opened",
            "opened_prev": "Requests opened, previous period",
            "change": "Change",
            "open_backlog": "Open at end",
            "median_days_to_close": "Median days to close",
        },
    ),
    "local-areas.csv",
    "Download table (CSV)",
)

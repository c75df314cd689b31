"""Neighbourhoods: where requests come from; choosing areas here filters every page."""

import streamlit as st

from mmds_dashboard import cache
from mmds_dashboard.charts import requests_map
from mmds_dashboard.components import csv_download, number
from mmds_dashboard.context import page_context
from mmds_dashboard.sidebar import select_areas

TABLE_KEY = "area_table"
_ROWS_KEY = "area_table_names"


def _select_from_table() -> None:
    """Make the rows picked in the ranked table the area filter."""
    names = st.session_state[_ROWS_KEY]
    rows = st.session_state[TABLE_KEY].selection.rows
    select_areas([names[i] for i in rows if i < len(names)])


context = page_context()
filters = context.filters
data = cache.neighbourhoods(context.marker, filters)
areas = data.areas
known = areas[~areas["is_unknown"]].reset_index(drop=True)
unknown_opened = int(areas.loc[areas["is_unknown"], "opened"].sum())

st.title("Neighbourhoods")
st.caption(
    f"Requests opened {filters.start} to {filters.end} with a location, per cell of about "
    "200 m. Pick rows in the table to filter every page by those areas."
)
st.pydeck_chart(requests_map(data.cells, data.labels), height=520)
located = int(data.cells["requests"].sum()) if len(data.cells) else 0
st.caption(
    f"{number(located)} located requests on the map; {number(unknown_opened)} requests in the "
    "range have no local area (privacy or not tied to a place)."
)

st.subheader("Local areas ranked by requests opened")
table = known.assign(
    rank=range(1, len(known) + 1),
    change=(known["opened"] - known["opened_prev"])
    / known["opened_prev"].where(known["opened_prev"] > 0),
    selected=known["local_area"].isin(filters.areas),
)[
    [
        "rank",
        "local_area",
        "opened",
        "change",
        "open_backlog",
        "median_days_to_close",
        "weekly_opened",
        "selected",
    ]
]
st.session_state[_ROWS_KEY] = list(table["local_area"])
st.dataframe(
    table,
    hide_index=True,
    height=35 * (len(table) + 1) + 3,
    key=TABLE_KEY,
    on_select=_select_from_table,
    selection_mode="multi-row",
    column_config={
        "rank": st.column_config.NumberColumn("#", width="small"),
        "local_area": "Local area",
        "opened": st.column_config.NumberColumn("Opened", format="localized"),
        "change": st.column_config.NumberColumn("Change vs previous", format="percent"),
        "open_backlog": st.column_config.NumberColumn("Open at end", format="localized"),
        "median_days_to_close": st.column_config.NumberColumn(
            "Median days to close", format="%.1f"
        ),
        "weekly_opened": st.column_config.LineChartColumn("Opened per week", y_min=0),
        "selected": st.column_config.CheckboxColumn("In filter"),
    },
)
csv_download(
    table.drop(columns=["weekly_opened", "selected"]), "local-areas.csv", "Download table (CSV)"
)

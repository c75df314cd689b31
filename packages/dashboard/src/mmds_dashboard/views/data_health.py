"""Data health: what was loaded when, how many rows each layer holds, what the checks found."""

import pandas as pd
import streamlit as st

from mmds_dashboard import cache
from mmds_dashboard.charts import load_history_chart
from mmds_dashboard.components import figure, freshness_banner, page_header
from mmds_dashboard.context import page_context
from mmds_dashboard.formatting import DASH, duration, number, pacific_time, plural
from mmds_dashboard.tables import Column, identifier, markdown_table, text

NEWEST_LOADS = 20
LAYER_LABELS = {
    "bronze": "Bronze (as loaded)",
    "silver": "Silver (cleaned)",
    "gold": "Gold (served)",
}
STATUS_LABELS = {"pass": "Passed", "warn": "Warned", "fail": "Failed"}


def _loads_table(loads: pd.DataFrame) -> str:
    """The newest loads, one row each: when, what kind and how long, what it changed."""
    shown = loads.head(NEWEST_LOADS)
    records = shown.to_dict("records")
    shown = shown.assign(
        load=[f"{r['mode']}, {r['status']}, took {duration(r['seconds'])}" for r in records],
        rows=[
            f"{number(r['rows_received'])} received: {number(r['rows_inserted'])} new, "
            f"{number(r['rows_updated'])} changed, {number(r['rows_deleted'])} deleted, "
            f"{number(r['rows_flagged'])} flagged"
            for r in records
        ],
    )
    return markdown_table(
        shown,
        [
            Column("started_at", "Started (Pacific time)", pacific_time),
            Column("load", "Load", text),
            Column("rows", "Rows", text),
            Column("message", "Note", lambda v: text(v) if isinstance(v, str) else ""),
        ],
    )


def _percent(value: float | None) -> str:
    return DASH if value is None or value != value else f"{value:.2%}"


context = page_context()
data = cache.data_health(context.marker)

page_header("Data health", data.publish)
st.caption("Everything on this page describes the whole published data; filters do not apply.")
freshness_banner(data.publish)

st.subheader("Load history")
loads = data.loads
if loads.empty:
    st.info("The serving file holds no load history.")
else:
    figure(load_history_chart(loads))
    st.markdown(_loads_table(loads))
    if len(loads) > NEWEST_LOADS:
        st.caption(f"The newest {NEWEST_LOADS} of {plural(len(loads), 'load')}.")

left, right = st.columns(2)
with left:
    st.subheader("Rows per layer")
    layers = data.layers.assign(layer=data.layers["layer"].map(lambda v: LAYER_LABELS.get(v, v)))
    st.markdown(
        markdown_table(
            layers,
            [
                Column("layer", "Layer", text),
                Column("table_name", "Table", identifier),
                Column("row_count", "Rows", number, "right"),
            ],
        )
    )
with right:
    st.subheader("Quality flags")
    st.markdown(
        markdown_table(
            data.quality,
            [
                Column("flag", "Requests", text),
                Column("requests", "Count", number, "right"),
                Column("share", "Share", _percent, "right"),
            ],
        )
    )

st.subheader("dbt test outcomes")
if data.tests is None:
    st.info("The build that made this serving file did not publish its dbt test results.")
else:
    counts = data.tests["status"].value_counts()
    for column, status in zip(st.columns(3), ("pass", "warn", "fail"), strict=True):
        column.metric(f"Tests {STATUS_LABELS[status].lower()}", number(int(counts.get(status, 0))))
    not_passed = data.tests[data.tests["status"] != "pass"]
    if not_passed.empty:
        st.caption(f"All {plural(len(data.tests), 'test')} passed.")
    else:
        st.markdown(
            markdown_table(
                not_passed.assign(
                    status=not_passed["status"].map(lambda v: STATUS_LABELS.get(v, v))
                ),
                [
                    Column("status", "Outcome", text),
                    Column("test_name", "Test", identifier),
                    Column("model_name", "Model", identifier),
                    Column("failures", "Failing rows", number, "right"),
                ],
            )
        )
        st.caption(f"{plural(int(counts.get('pass', 0)), 'other test')} passed.")

"""Data health: what was loaded when, how many rows each layer holds, what the checks found."""

import streamlit as st

from mmds_dashboard import cache
from mmds_dashboard.charts import load_history_chart, ranked_bars
from mmds_dashboard.components import freshness_banner
from mmds_dashboard.context import page_context

context = page_context()
data = cache.data_health(context.marker)

st.title("Data health")
st.caption("Everything on this page describes the whole published data; filters do not apply.")
freshness_banner(data.freshness)

st.subheader("Load history")
if data.loads.empty:
    st.info("The serving file holds no load history.")
else:
    st.altair_chart(load_history_chart(data.loads), width="stretch", height=300)
    st.dataframe(data.loads, hide_index=True)

left, right = st.columns(2)
with left:
    st.subheader("Rows per layer")
    layers = data.layers.assign(table=data.layers["layer"] + "." + data.layers["table_name"])
    st.altair_chart(ranked_bars(layers, "table", "row_count", "Rows"), width="stretch")
with right:
    st.subheader("Quality flags")
    st.dataframe(
        data.quality,
        hide_index=True,
        column_config={
            "flag": "Requests",
            "requests": st.column_config.NumberColumn("Count", format="localized"),
            "share": st.column_config.NumberColumn("Share", format="percent"),
        },
    )

st.subheader("dbt test outcomes")
if data.tests is None:
    st.info("The build that made this serving file did not publish its dbt test results.")
else:
    counts = data.tests["status"].value_counts()
    for column, status in zip(st.columns(3), ("pass", "warn", "fail"), strict=True):
        column.metric(f"Tests {status}", int(counts.get(status, 0)))
    st.dataframe(data.tests, hide_index=True)

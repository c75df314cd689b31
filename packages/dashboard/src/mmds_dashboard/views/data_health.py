"""Data health: what was loaded when, how many rows each layer holds, what the checks found."""

import streamlit as st

from mmds_dashboard import cache
from mmds_dashboard.charts import load_history_chart
from mmds_dashboard.components import figure, freshness_banner, page_header
from mmds_dashboard.context import page_context
from mmds_dashboard.formatting import DASH, duration, number, pacific_time, plural
from mmds_dashboard.tables import Column, identifier, markdown_table, text

LOAD_COLUMNS = {
    "started": "Started (Pacific time)",
    "took": "Took",
    "mode": "Mode",
    "status": "Status",
    "rows_received": "Received",
    "rows_inserted": "Inserted",
    "rows_updated": "Updated",
    "rows_unchanged": "Unchanged",
    "rows_deleted": "Deleted",
    "rows_flagged": "Flagged",
    "portal_total_count": "Portal total",
    "message": "Note",
    "load_id": "Load",
}
LAYER_LABELS = {
    "bronze": "Bronze (as loaded)",
    "silver": "Silver (cleaned)",
    "gold": "Gold (served)",
}
STATUS_LABELS = {"pass": "Passed", "warn": "Warned", "fail": "Failed"}


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
    st.dataframe(
        loads.assign(
            started=loads["started_at"].map(pacific_time),
            took=loads["seconds"].map(duration),
        ),
        hide_index=True,
        column_order=list(LOAD_COLUMNS),
        column_config={
            key: st.column_config.NumberColumn(label, format="localized")
            if key.startswith(("rows_", "portal_"))
            else st.column_config.TextColumn(label)
            for key, label in LOAD_COLUMNS.items()
        },
    )

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

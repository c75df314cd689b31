"""Request types: what people ask for, which departments answer, and how fast."""

import streamlit as st

from mmds_dashboard import cache
from mmds_dashboard.charts import ranked_bars
from mmds_dashboard.components import csv_download
from mmds_dashboard.context import page_context

TOP = 15

context = page_context()
filters = context.filters
data = cache.request_types(context.marker, filters)
types = data.types

st.title("Request types")
st.caption(
    f"Requests opened {filters.start} to {filters.end}; resolution times of the requests closed "
    "in that range (closed-before-opened excluded). Deprecated types (`ZZ OLD -`, `Z -`) are "
    "marked."
)
left, right = st.columns(2)
with left:
    st.subheader(f"Top {TOP} request types")
    top_types = types.nlargest(TOP, "opened").assign(
        kind=lambda t: t["is_deprecated"].map({True: "deprecated", False: "current"})
    )
    st.altair_chart(
        ranked_bars(top_types, "category", "opened", "Requests opened", kind="kind"),
        width="stretch",
    )
with right:
    st.subheader(f"Top {TOP} departments")
    st.altair_chart(
        ranked_bars(data.departments.head(TOP), "department", "opened", "Requests opened"),
        width="stretch",
    )

st.subheader("Resolution times by request type")
deprecated = types[types["is_deprecated"]]
if len(deprecated):
    st.caption(
        f"{int(deprecated['opened'].sum()):,} requests opened in the range use "
        f"{len(deprecated)} deprecated types: {', '.join(deprecated['request_type'])}."
    )
st.dataframe(
    types,
    hide_index=True,
    column_config={
        "request_type": "Request type",
        "category": None,
        "department": "Department",
        "business_unit": "Unit",
        "is_deprecated": st.column_config.CheckboxColumn("Deprecated"),
        "opened": st.column_config.NumberColumn("Opened", format="localized"),
        "closed": st.column_config.NumberColumn("Closed", format="localized"),
        "median_days_to_close": st.column_config.NumberColumn("Median days", format="%.1f"),
        "p90_days_to_close": st.column_config.NumberColumn("P90 days", format="%.1f"),
    },
)
csv_download(types, "request-types.csv", "Download table (CSV)")

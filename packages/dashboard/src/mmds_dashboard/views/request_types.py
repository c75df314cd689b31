"""Request types: what people ask for, which departments answer, and how fast."""

import streamlit as st

from mmds_dashboard import cache
from mmds_dashboard.charts import ranked_bars, resolution_chart
from mmds_dashboard.components import csv_download, figure, no_match, page_header
from mmds_dashboard.context import page_context
from mmds_dashboard.formatting import date_range, plural
from mmds_dashboard.queries import RESOLUTION_TYPES
from mmds_dashboard.tables import labelled

TOP = 15

context = page_context()
filters = context.filters
data = cache.request_types(context.marker, filters, context.options.partial_day)
types = data.types
page_header("Request types", cache.publish(context.marker))
if not types["opened"].sum():
    no_match(context.options)
    st.stop()

st.caption(
    f"Requests opened {date_range(filters.start, filters.end)}; days to close of the requests "
    "closed in that range (closed-before-opened left out). Deprecated types (`ZZ OLD -`, "
    "`Z -`) are marked."
)
left, right = st.columns(2)
with left:
    st.subheader(f"Top {TOP} request types")
    top_types = types.nlargest(TOP, "opened").assign(
        kind=lambda t: t["is_deprecated"].map({True: "deprecated", False: "current"})
    )
    figure(
        ranked_bars(
            top_types,
            "category",
            "opened",
            "Requests opened",
            label_title="Request type",
            kind="kind",
        ),
    )
with right:
    st.subheader(f"Top {TOP} departments")
    figure(
        ranked_bars(
            data.departments.head(TOP),
            "department",
            "opened",
            "Requests opened",
            label_title="Department",
        ),
    )

st.subheader("Is closing getting faster?")
if data.resolution.empty:
    st.caption("No request of the most requested types was closed in these months.")
else:
    st.caption(
        f"Median days to close per month of closing, for the {RESOLUTION_TYPES} most requested "
        "types; whole months, so the first and last may reach outside the dates chosen."
    )
    figure(resolution_chart(data.resolution))

st.subheader("Days to close by request type")
deprecated = types[types["is_deprecated"]]
if len(deprecated):
    st.caption(
        f"{plural(int(deprecated['opened'].sum()), 'request')} opened in the range use "
        f"{plural(len(deprecated), 'deprecated type')}: {', '.join(deprecated['request_type'])}."
    )
labels = {
    "request_type": "Request type",
    "department": "Department",
    "business_unit": "Business unit",
    "is_deprecated": "Deprecated",
    "opened": "Requests opened",
    "closed": "Requests closed",
    "median_days_to_close": "Median days to close",
    "p90_days_to_close": "P90 days to close",
}
st.dataframe(
    types,
    hide_index=True,
    column_order=list(labels),
    column_config={
        "request_type": st.column_config.TextColumn(labels["request_type"]),
        "department": st.column_config.TextColumn(labels["department"]),
        "business_unit": st.column_config.TextColumn(labels["business_unit"]),
        "is_deprecated": st.column_config.CheckboxColumn(labels["is_deprecated"]),
        "opened": st.column_config.NumberColumn(labels["opened"], format="localized"),
        "closed": st.column_config.NumberColumn(labels["closed"], format="localized"),
        "median_days_to_close": st.column_config.NumberColumn(
            labels["median_days_to_close"], format="%.1f"
        ),
        "p90_days_to_close": st.column_config.NumberColumn(
            labels["p90_days_to_close"], format="%.1f"
        ),
    },
)
csv_download(labelled(types, labels), "request-types.csv", "Download table (CSV)")

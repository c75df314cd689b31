"""Request types: what people ask for, which departments answer, and how fast."""

import streamlit as st

from mmds_dashboard import cache
from mmds_dashboard.charts import ranked_bars, resolution_chart
from mmds_dashboard.components import csv_download, figure, no_match, page_header
from mmds_dashboard.context import page_context
from mmds_dashboard.filter_bar import filter_bar
from mmds_dashboard.formatting import date_range, number, plural
from mmds_dashboard.queries import RESOLUTION_TYPES
from mmds_dashboard.tables import Column, labelled, markdown_table, text

TOP = 15

context = page_context()
filters = context.filters
data = cache.request_types(context.marker, filters, context.options.partial_day)
types = data.types
page_header("Request types", cache.publish(context.marker))
filter_bar(context.options, filters)
if not types["opened"].sum():
    no_match(context.options)
    st.stop()

st.caption(
    f"Requests opened {date_range(filters.start, filters.end)}; days to close of the requests "
    "closed in that range (closed-before-opened left out). Deprecated types (ZZ OLD -, "
    "Z -) are marked."
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
    st.markdown(
        markdown_table(
            data.departments.head(TOP),
            [
                Column("department", "Department", text),
                Column("opened", "Requests", number, "right"),
                Column("share", "Share", lambda v: f"{v:.1%}", "right"),
            ],
        )
    )

st.subheader("Is closing getting faster?")
if data.resolution.empty:
    st.caption("No request of the most requested types was closed in these months.")
else:
    st.caption(
        f"Median days to close per month of closing, for the {RESOLUTION_TYPES} most requested "
        "types; whole months, so the first and last may reach outside the dates chosen."
    )
    figure(resolution_chart(data.resolution), height=380)

st.subheader("Reopened after closing")
reopened = data.reopened
if reopened.empty:
    st.caption(f"No request was reopened in {date_range(filters.start, filters.end)}.")
else:
    st.caption(
        f"{plural(int(reopened['reopened'].sum()), 'request')} closed earlier were opened again "
        f"in {date_range(filters.start, filters.end)} (seen by comparing the City's data from "
        "one load to the next)."
    )
    st.markdown(
        markdown_table(
            reopened.head(TOP),
            [
                Column("category", "Request type", text),
                Column("department", "Department", text),
                Column("reopened", "Requests reopened", number, "right"),
            ],
        )
    )

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
    "is_deprecated": "Deprecated",
    "opened": "Requests opened",
    "closed": "Requests closed",
    "median_days_to_close": "Median days to close",
    "p90_days_to_close": "P90 days to close",
}
shown = types.assign(
    name=[
        f"{text(name)}{' (deprecated)' if deprecated else ''} · {text(department)}"
        for name, deprecated, department in zip(
            types["category"], types["is_deprecated"], types["department"], strict=True
        )
    ]
)
st.markdown(
    markdown_table(
        shown,
        [
            Column("name", "Request type · department", str),
            Column("opened", "Opened", number, "right"),
            Column("median_days_to_close", "Median days", lambda v: number(v, decimals=1), "right"),
            Column("p90_days_to_close", "P90 days", lambda v: number(v, decimals=1), "right"),
        ],
    )
)
csv_download(labelled(types, labels), "request-types.csv", "Download table (CSV)")

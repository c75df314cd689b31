"""Overview: what Vancouver asks 3-1-1 for, where, how many, how fast they close, versus before."""

import streamlit as st

from mmds_dashboard import cache
from mmds_dashboard.charts import opened_closed_chart
from mmds_dashboard.components import (
    csv_download,
    figure,
    freshness_banner,
    kpi,
    no_match,
    page_header,
)
from mmds_dashboard.context import page_context
from mmds_dashboard.filter_bar import filter_bar
from mmds_dashboard.formatting import (
    date_range,
    number,
    pacific_time,
    plural,
    relative_change,
    signed_percent,
    signed_points,
)
from mmds_dashboard.periods import series_grain, trend_grain
from mmds_dashboard.tables import Column, labelled, markdown_table, sparkline, text

context = page_context()
filters = context.filters
data = cache.overview(context.marker, filters, context.options.partial_day)
spans = data.periods

page_header("Vancouver 3-1-1 requests", data.publish)
freshness_banner(data.publish)
filter_bar(context.options, filters)
if not data.kpis["opened"]:
    no_match(context.options)
    st.stop()

compared = (
    f"Changes compare {date_range(*spans.comparison)} with {date_range(*spans.previous)}"
    if spans.comparison
    else "No complete day to compare"
)
partial = (
    f"; {spans.partial_day} is partial (data until "
    f"{pacific_time(context.options.data_until)}) and left out of changes and trends"
    if spans.partial_day
    else ""
)
st.caption(f"Requests opened {date_range(filters.start, filters.end)}. {compared}{partial}.")

columns = st.columns(5)
kpis = data.kpis
kpi(columns[0], "Requests opened", kpis, "opened")
kpi(columns[1], "Requests closed", kpis, "closed")
kpi(columns[2], "Open at end", kpis, "open_backlog", lower_is_better=True)
kpi(
    columns[3],
    "Median days to close",
    kpis,
    "median_days_to_close",
    decimals=1,
    lower_is_better=True,
)
kpi(columns[4], "P90 days to close", kpis, "p90_days_to_close", decimals=1, lower_is_better=True)


def _with_change(frame):
    return frame.assign(
        change=[
            relative_change(c, p)
            for c, p in zip(frame["opened_cmp"], frame["opened_prev"], strict=True)
        ]
    )


def _top_table(frame, name_key: str, name_label: str) -> str:
    trend_label = f"Trend per {trend_grain(filters)}"
    return markdown_table(
        frame,
        [
            Column(name_key, name_label, text),
            Column("opened", "Requests", number, "right"),
            Column("change", "Change", signed_percent, "right"),
            Column("trend", trend_label, lambda values: sparkline(list(values), "trend")),
        ],
    )


types = _with_change(data.types)
areas = data.areas
known = _with_change(areas[~areas["is_unknown"] & (areas["opened"] > 0)].head(10))
unknown = int(areas.loc[areas["is_unknown"], "opened"].sum())
left, right = st.columns(2)
with left:
    st.subheader("What people ask for")
    st.markdown(_top_table(types, "category", "Request type"))
with right:
    st.subheader("Where")
    st.markdown(_top_table(known, "local_area", "Local area"))
    if unknown:
        st.caption(
            f"{plural(unknown, 'request')} without a local area (privacy, or not tied to a place)."
        )

grain = series_grain(filters)
st.subheader(f"Opened and closed per {grain}")
figure(opened_closed_chart(data.series, grain))
if data.series["is_partial"].any():
    st.caption(
        f"Dashed, hollow: partial {grain}s (cut by the dates chosen, or the partial newest day)."
    )

st.subheader("Requests by channel")
st.markdown(
    markdown_table(
        data.channels.assign(
            points=(data.channels["share_cmp"] - data.channels["share_prev"]) * 100
        ),
        [
            Column("channel", "Channel", text),
            Column("opened", "Requests", number, "right"),
            Column("share", "Share", lambda v: f"{v:.1%}" if v == v else "—", "right"),
            Column("points", "Change in share", signed_points, "right"),
        ],
    )
)

csv_download(
    labelled(
        data.series,
        {
            "period_start": f"{grain.capitalize()} starting",
            "opened": "Opened",
            "closed": "Closed",
            "is_partial": "Partial",
        },
    ),
    f"opened-closed-per-{grain}.csv",
    f"Download opened and closed per {grain} (CSV)",
)

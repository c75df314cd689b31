"""Overview: how many requests, how fast they close, through which channels, versus before."""

import streamlit as st

from mmds_dashboard import cache
from mmds_dashboard.charts import opened_closed_chart, share_chart
from mmds_dashboard.components import change, csv_download, freshness_banner, number
from mmds_dashboard.context import page_context
from mmds_dashboard.queries import series_grain

context = page_context()
filters = context.filters
data = cache.overview(context.marker, filters)
kpis = data.kpis
previous_start, previous_end = filters.previous_period()

st.title("Vancouver 3-1-1 requests")
freshness_banner(data.freshness)
st.caption(
    f"{filters.start} to {filters.end} ({filters.days} days), changes versus "
    f"{previous_start} to {previous_end}."
)
columns = st.columns(5)
for column, (label, key, decimals, lower_is_better) in zip(
    columns,
    [
        ("Requests opened", "opened", 0, False),
        ("Requests closed", "closed", 0, False),
        ("Open backlog at end", "open_backlog", 0, True),
        ("Median days to close", "median_days_to_close", 1, True),
        ("P90 days to close", "p90_days_to_close", 1, True),
    ],
    strict=True,
):
    current, previous = kpis[key], kpis[f"{key}_prev"]
    column.metric(
        label,
        number(current, decimals=decimals),
        change(current, previous, decimals=decimals),
        delta_color="off" if current == previous else "inverse" if lower_is_better else "normal",
        delta_arrow="off" if current == previous else "auto",
    )

grain = series_grain(filters)
st.subheader(f"Opened vs closed per {grain}")
st.altair_chart(opened_closed_chart(data.series, grain), width="stretch")

st.subheader("Share by channel")
left, right = st.columns([3, 2])
left.altair_chart(share_chart(data.channels), width="stretch")
channels = data.channels.assign(
    change_pp=(data.channels["share"] - data.channels["share_prev"]) * 100
)
right.dataframe(
    channels[["channel", "opened", "share", "change_pp"]],
    hide_index=True,
    column_config={
        "channel": "Channel",
        "opened": st.column_config.NumberColumn("Opened", format="localized"),
        "share": st.column_config.NumberColumn("Share", format="percent"),
        "change_pp": st.column_config.NumberColumn("Change (points)", format="%+.1f"),
    },
)
csv_download(data.series, f"opened-closed-per-{grain}.csv", "Download opened vs closed (CSV)")

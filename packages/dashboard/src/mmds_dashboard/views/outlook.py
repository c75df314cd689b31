"""Outlook: the next 28 days of requests for an area and a demand group, with intervals, the
recent actuals beside them, and how far off the forecast was over the last 8 weeks."""

from __future__ import annotations

from datetime import date

import streamlit as st

from mmds_dashboard import cache, outlook
from mmds_dashboard.components import figure, page_header
from mmds_dashboard.context import page_context
from mmds_dashboard.formatting import date_range, day, number
from mmds_dashboard.serving import PublishMarker, publish_connection
from mmds_dashboard.tables import Column, markdown_table

ALL_AREAS = "All areas"
ALL_GROUPS = "All groups"


@st.cache_data(show_spinner=False, max_entries=64)
def _choices(marker: PublishMarker) -> outlook.OutlookChoices | None:
    with publish_connection(marker) as con:
        return outlook.outlook_choices(con)


@st.cache_data(show_spinner=False, max_entries=64)
def _outlook(
    marker: PublishMarker, series: outlook.SeriesKey, trained_through: date
) -> outlook.OutlookData:
    with publish_connection(marker) as con:
        return outlook.load_outlook(con, series, trained_through)


context = page_context()
page_header("Outlook", cache.publish(context.marker))
choices = _choices(context.marker)
if choices is None:
    st.info(outlook.NO_FORECAST, icon=":material/query_stats:")
    st.stop()

st.caption(
    f"A forecast of the requests opened per day, trained on the complete days up to "
    f"{day(choices.trained_through)}; the page's own choices below, the filters do not apply."
)
left, right = st.columns(2)
area_names = dict(choices.areas)
area = left.selectbox("Local area", [ALL_AREAS, *area_names], key="outlook_area")
group = right.selectbox("Demand group", [ALL_GROUPS, *choices.groups], key="outlook_group")
series: outlook.SeriesKey = (
    area_names.get(area) if area != ALL_AREAS else None,
    group if group != ALL_GROUPS else None,
)
data = _outlook(context.marker, series, choices.trained_through)

if data.forecast.empty:
    st.info("The forecast does not cover this area and group.")
    st.stop()
figure(outlook.outlook_chart(data), key="outlook_chart")
st.caption(
    "Blue: requests opened on each complete day. Orange, dashed: the forecast; the shaded bands "
    "hold the day's requests with 80% (darker) and 95% probability."
)
if data.error is not None:
    st.markdown(f"**{outlook.error_in_words(data.error)}**")
if data.overall is not None:
    st.caption(outlook.overall_in_words(data.overall))

st.subheader("The next four weeks")
weeks = outlook.weekly_totals(data.forecast)
weeks["days"] = [date_range(a, b) for a, b in zip(weeks.first_day, weeks.last_day, strict=True)]
st.markdown(
    markdown_table(
        weeks,
        [
            Column("days", "Days"),
            Column("requests", "Requests expected", lambda v: f"about {number(v)}", "right"),
        ],
    )
)

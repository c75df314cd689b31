"""About: where the data comes from, under which licence, how new it is, what the figures mean."""

import streamlit as st

from mmds_dashboard import cache
from mmds_dashboard.components import page_header
from mmds_dashboard.context import page_context
from mmds_dashboard.formatting import PACIFIC_NAME, pacific_time

SOURCE_PAGE = "https://opendata.vancouver.ca/explore/dataset/3-1-1-service-requests/"
BOUNDARY_PAGE = "https://opendata.vancouver.ca/explore/dataset/local-area-boundary/"
LICENCE_NAME = "Open Government Licence - Vancouver"
LICENCE_PAGE = "https://opendata.vancouver.ca/pages/licence/"
ATTRIBUTION = "Contains information licensed under the Open Government Licence - Vancouver."

context = page_context()
publish = cache.publish(context.marker)
page_header("About this dashboard", publish)

if publish.is_sample:
    origin = (
        "**This is the project's generated sample** (`uv run mmds run --sample`), shaped like "
        "the City's data but not the City's data."
    )
elif publish.portal_url:
    origin = f"Loaded from the portal at `{publish.portal_url}`."
else:
    origin = "The serving file does not say which portal it was loaded from."

st.markdown(
    f"""
The requests people make to the City of Vancouver's 3-1-1 service, as the City publishes them
on its open data portal.

- **Source:** City of Vancouver, [3-1-1 service requests]({SOURCE_PAGE}) (Open Data Portal).
  {origin}
- **Licence:** [{LICENCE_NAME}]({LICENCE_PAGE}). {ATTRIBUTION}
- **Local areas:** the City's 22 local areas ([local area boundary]({BOUNDARY_PAGE})), same
  licence.
- **Refreshed:** published {pacific_time(publish.published_at)}; the newest change in the
  source is from {pacific_time(publish.source_last_modified_at)}.
- **Times:** every date and time is {PACIFIC_NAME} (America/Vancouver).

**What the figures mean**

- *Requests opened* on a day: requests whose opening falls on that day. *Closed*: requests
  the City closed that day. *Open at end*: requests opened by the end of the last day and not
  closed then.
- *Days to close*: from the opening day to the closing day, of the requests closed in the
  dates chosen; requests recorded as closed before they opened are left out.
- *Change*: the complete days chosen against as many days just before them. The newest day is
  partial when the data was taken before it ended: it is shown, marked, and left out of
  changes and trends.
- Requests without a local area (about one in ten: privacy, or not tied to a place) count in
  every total but on no area.
"""
)

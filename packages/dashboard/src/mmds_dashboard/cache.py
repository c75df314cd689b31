"""Query results cached per publish: the key holds the serving file's publish marker.

A new publish (a new file renamed into place, or a new `published_at`) changes the marker, so the
next rerun reads the new data without a restart; old entries age out of the small cache.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import streamlit as st

from mmds_dashboard import health, queries
from mmds_dashboard.filters import FilterOptions, Filters
from mmds_dashboard.geography import AreaShape, area_shapes
from mmds_dashboard.serving import PublishMarker, publish_connection

_CACHE: dict[str, Any] = {"show_spinner": False, "max_entries": 64}


@st.cache_data(**_CACHE)
def filter_options(marker: PublishMarker) -> FilterOptions | None:
    """Cached `queries.filter_options` of the publish `marker` identifies."""
    with publish_connection(marker) as con:
        return queries.filter_options(con)


@st.cache_data(**_CACHE)
def publish(marker: PublishMarker) -> queries.Publish:
    """Cached `queries.publish_info`."""
    with publish_connection(marker) as con:
        return queries.publish_info(con)


@st.cache_data(**_CACHE)
def shapes(marker: PublishMarker) -> tuple[AreaShape, ...]:
    """The local areas' shapes for the map (empty if the publish has no boundaries)."""
    with publish_connection(marker) as con:
        return area_shapes(queries.area_boundaries(con))


@st.cache_data(**_CACHE)
def overview(
    marker: PublishMarker, filters: Filters, partial_day: date | None
) -> queries.OverviewData:
    """Cached `queries.load_overview`."""
    with publish_connection(marker) as con:
        return queries.load_overview(con, filters, partial_day)


@st.cache_data(**_CACHE)
def neighbourhoods(
    marker: PublishMarker, filters: Filters, partial_day: date | None
) -> queries.NeighbourhoodsData:
    """Cached `queries.load_neighbourhoods`."""
    with publish_connection(marker) as con:
        return queries.load_neighbourhoods(con, filters, partial_day)


@st.cache_data(**_CACHE)
def request_types(
    marker: PublishMarker, filters: Filters, partial_day: date | None
) -> queries.RequestTypesData:
    """Cached `queries.load_request_types`."""
    with publish_connection(marker) as con:
        return queries.load_request_types(con, filters, partial_day)


@st.cache_data(**_CACHE)
def data_health(marker: PublishMarker) -> health.DataHealthData:
    """Cached `health.load_data_health`."""
    with publish_connection(marker) as con:
        return health.load_data_health(con)

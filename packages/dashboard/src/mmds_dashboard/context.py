"""What the entry file hands to the page being shown: the publish, the filter options, the
filters. Kept in the session, so concurrent sessions never see each other's selections."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from mmds_dashboard.filters import FilterOptions, Filters
from mmds_dashboard.serving import PublishMarker

_KEY = "mmds_page_context"


@dataclass(frozen=True)
class PageContext:
    """The publish being shown and the reader's current filters."""

    marker: PublishMarker
    options: FilterOptions
    filters: Filters


def set_page_context(context: PageContext) -> None:
    """Store the context of this rerun for the page about to run."""
    st.session_state[_KEY] = context


def page_context() -> PageContext:
    """The context the entry file stored in this rerun."""
    return st.session_state[_KEY]

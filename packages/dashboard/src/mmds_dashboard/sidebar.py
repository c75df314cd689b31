"""The sidebar filters, kept in the URL's query parameters so a view can be shared as a link."""

from __future__ import annotations

from datetime import date

import streamlit as st

from mmds_dashboard.filters import (
    URL_KEYS,
    FilterOptions,
    Filters,
    default_filters,
    filters_from_query_params,
    filters_to_query_params,
)
from mmds_dashboard.formatting import PACIFIC_NAME

DATES_KEY = "filter_dates"
LIST_KEYS = {name: f"filter_{name}" for name in URL_KEYS}
_INITIALISED_KEY = "filters_read_from_url"
_LABELS = {
    "areas": "Local areas",
    "departments": "Departments",
    "request_types": "Request types",
    "channels": "Channels",
}


def _read_url(options: FilterOptions) -> list[str]:
    """Seed the filter widgets from the URL once per session; return notes on ignored values."""
    params = {key: st.query_params.get_all(key) for key in ("start", "end", *URL_KEYS.values())}
    parsed = filters_from_query_params(params, options)
    _apply(parsed.filters)
    return parsed.notes


def _apply(filters: Filters) -> None:
    st.session_state[DATES_KEY] = (filters.start, filters.end)
    for name, key in LIST_KEYS.items():
        st.session_state[key] = list(getattr(filters, name))


def reset_filters(options: FilterOptions) -> None:
    """Back to the default filters (a widget callback: applies on the rerun it triggers)."""
    _apply(default_filters(options))


def _keep_valid(options: FilterOptions) -> None:
    """Drop selections a new publish no longer offers, and keep dates inside its range."""
    for name, key in LIST_KEYS.items():
        allowed = set(getattr(options, name))
        st.session_state[key] = [v for v in st.session_state.get(key, []) if v in allowed]
    dates = tuple(st.session_state.get(DATES_KEY, ()))
    st.session_state[DATES_KEY] = tuple(
        min(max(d, options.first_date), options.last_date) for d in dates
    ) or (options.first_date, options.last_date)


def sidebar_filters(options: FilterOptions) -> Filters:
    """Draw the filters in the sidebar, mirror them into the URL, and return them."""
    notes: list[str] = []
    if not st.session_state.get(_INITIALISED_KEY):
        notes = _read_url(options)
        st.session_state[_INITIALISED_KEY] = True
    _keep_valid(options)
    with st.sidebar:
        st.header("Filters")
        for note in notes:
            st.warning(note)
        st.date_input(
            f"Dates ({PACIFIC_NAME})",
            key=DATES_KEY,
            min_value=options.first_date,
            max_value=options.last_date,
            format="YYYY-MM-DD",
        )
        for name, key in LIST_KEYS.items():
            st.multiselect(_LABELS[name], getattr(options, name), key=key, placeholder="All")
        st.button("Reset filters", on_click=reset_filters, args=(options,))
    filters = current_filters(options)
    st.query_params.from_dict(filters_to_query_params(filters))
    return filters


def current_filters(options: FilterOptions) -> Filters:
    """The filters as the widgets hold them (a half-picked range counts as one day, a cleared
    one as all dates)."""
    dates: tuple[date, ...] = tuple(st.session_state[DATES_KEY])
    start, end = (dates[0], dates[-1]) if dates else (options.first_date, options.last_date)
    return Filters(
        start=start,
        end=end,
        **{name: tuple(st.session_state[key]) for name, key in LIST_KEYS.items()},
    )


def select_areas(areas: list[str]) -> None:
    """Make `areas` the area filter (from a selection on a page); applies on the next rerun."""
    st.session_state[LIST_KEYS["areas"]] = areas

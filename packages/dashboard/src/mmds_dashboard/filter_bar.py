"""The reader's filters: kept in the session and in the URL's query parameters (so a view is
shared by its link), changed in a "Filters" popover at the top of the pages they apply to.

The filters live in the session under one key, not only in the widgets: a page without the
widgets (Data health, About) keeps them, a pick on the map or in a table changes them, and the
widgets are set from them each time they are drawn. The popover's widgets are mounted by the
browser only when it opens, so a visit does not pay for the date picker and four multiselects
it may never use.
"""

from __future__ import annotations

from dataclasses import replace
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
from mmds_dashboard.formatting import PACIFIC_NAME, date_range, plural

FILTERS_KEY = "mmds_filters"
NOTES_KEY = "mmds_filter_notes"
DATES_KEY = "filter_dates"
LIST_KEYS = {name: f"filter_{name}" for name in URL_KEYS}
LABELS = {
    "areas": "Local areas",
    "departments": "Departments",
    "request_types": "Request types",
    "channels": "Channels",
}
_NOUNS = {
    "areas": ("area", "areas"),
    "departments": ("department", "departments"),
    "request_types": ("request type", "request types"),
    "channels": ("channel", "channels"),
}


def _valid(filters: Filters, options: FilterOptions) -> Filters:
    """`filters` without what a new publish no longer offers, its dates inside the data."""
    kept = {
        name: tuple(v for v in getattr(filters, name) if v in getattr(options, name))
        for name in URL_KEYS
    }
    start, end = (
        min(max(d, options.first_date), options.last_date) for d in (filters.start, filters.end)
    )
    return Filters(start=start, end=end, **kept)


def current_filters(options: FilterOptions) -> Filters:
    """The session's filters: read from the URL on the session's first run, kept valid for the
    publish shown, and mirrored into the URL."""
    if FILTERS_KEY not in st.session_state:
        params = {key: st.query_params.get_all(key) for key in ("start", "end", *URL_KEYS.values())}
        parsed = filters_from_query_params(params, options)
        st.session_state[FILTERS_KEY] = parsed.filters
        st.session_state[NOTES_KEY] = parsed.notes
    filters = _valid(st.session_state[FILTERS_KEY], options)
    st.session_state[FILTERS_KEY] = filters
    st.query_params.from_dict(filters_to_query_params(filters))
    return filters


def set_filters(filters: Filters) -> None:
    """Make `filters` the session's filters (from a callback: applies on the rerun it
    triggers)."""
    st.session_state[FILTERS_KEY] = filters


def select_areas(areas: list[str]) -> None:
    """Make `areas` the area filter (a pick on the map or in a table)."""
    set_filters(replace(st.session_state[FILTERS_KEY], areas=tuple(areas)))


def reset_filters(options: FilterOptions) -> None:
    """Back to the default filters (a widget callback)."""
    set_filters(default_filters(options))


def _from_widgets(options: FilterOptions) -> Filters:
    """The filters the widgets hold (a half-picked range counts as one day, a cleared one as
    all dates)."""
    value = st.session_state.get(DATES_KEY) or ()
    dates: tuple[date, ...] = (value,) if isinstance(value, date) else tuple(value)
    start, end = (dates[0], dates[-1]) if dates else (options.first_date, options.last_date)
    return Filters(
        start=start,
        end=end,
        **{name: tuple(st.session_state.get(key, ())) for name, key in LIST_KEYS.items()},
    )


def _changed(options: FilterOptions) -> None:
    set_filters(_from_widgets(options))


def summary(filters: Filters) -> str:
    """The filters in words: `2026-08-30 to 2026-11-27 (90 days) · 2 areas · WEB`."""
    parts = [date_range(filters.start, filters.end)]
    for name, (one, many) in _NOUNS.items():
        values = getattr(filters, name)
        if len(values) == 1:
            parts.append(values[0])
        elif values:
            parts.append(plural(len(values), one, many))
    return " · ".join(parts)


def filter_bar(options: FilterOptions, filters: Filters) -> None:
    """The "Filters" popover with the widgets, set from `filters`, and what is chosen."""
    for note in st.session_state.pop(NOTES_KEY, []):
        st.warning(note)
    # The widgets show the session's filters, unless they already mean the same (a range
    # being picked holds one date: leave it so the second click completes it).
    keys = [DATES_KEY, *LIST_KEYS.values()]
    if any(key not in st.session_state for key in keys) or _from_widgets(options) != filters:
        st.session_state[DATES_KEY] = (filters.start, filters.end)
        for name, key in LIST_KEYS.items():
            st.session_state[key] = list(getattr(filters, name))
    left, right = st.columns([1, 4], vertical_alignment="center")
    with left.popover("Filters", icon=":material/filter_list:"):
        st.date_input(
            f"Dates ({PACIFIC_NAME})",
            key=DATES_KEY,
            min_value=options.first_date,
            max_value=options.last_date,
            format="YYYY-MM-DD",
            on_change=_changed,
            args=(options,),
        )
        for name, key in LIST_KEYS.items():
            st.multiselect(
                LABELS[name],
                getattr(options, name),
                key=key,
                placeholder="All",
                on_change=_changed,
                args=(options,),
            )
        st.button("Reset filters", on_click=reset_filters, args=(options,))
    right.caption(summary(filters))

"""Pieces shared by the pages: the freshness banner, KPI deltas, CSV downloads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import streamlit as st

from mmds_dashboard.queries import Freshness

STALE_AFTER = timedelta(hours=36)
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def freshness_banner(freshness: Freshness, now: datetime | None = None) -> None:
    """Say when the data was published and how new it is; warn when it is getting old."""
    if freshness.published_at is None:
        st.warning("This serving file does not say when it was published.")
        return
    now = now or datetime.now(UTC)
    newest = (
        f"{freshness.source_last_modified_at:%Y-%m-%d %H:%M} UTC"
        if freshness.source_last_modified_at
        else "unknown"
    )
    text = (
        f"Published {freshness.published_at:%Y-%m-%d %H:%M} UTC (load `{freshness.load_id}`); "
        f"newest change in the source: {newest}."
    )
    if now - freshness.published_at > STALE_AFTER:
        st.warning(f"{text} Run `uv run mmds run` to refresh.", icon=":material/history:")
    else:
        st.info(text, icon=":material/update:")


def change(current: float | None, previous: float | None, *, decimals: int = 0) -> str | None:
    """The change from `previous` to `current` as `+12 (+3.4%)`, or None if not comparable."""
    if current is None or previous is None:
        return None
    difference = current - previous
    text = f"{difference:+,.{decimals}f}"
    if previous:
        text += f" ({difference / previous:+.1%})"
    return text


def number(value: float | None, *, decimals: int = 0) -> str:
    """`value` with thousands separators, or an em dash when there is none."""
    return "—" if value is None else f"{value:,.{decimals}f}"


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """`frame` as UTF-8 CSV; text cells that a spreadsheet would run as a formula are quoted
    with a leading apostrophe."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(
                lambda v: f"'{v}" if isinstance(v, str) and v.startswith(_FORMULA_PREFIXES) else v
            )
    return safe.to_csv(index=False).encode("utf-8")


def csv_download(frame: pd.DataFrame, file_name: str, label: str = "Download CSV") -> None:
    """A button that downloads `frame` (the table as filtered) as CSV."""
    st.download_button(
        label,
        data=csv_bytes(frame),
        file_name=file_name,
        mime="text/csv",
        icon=":material/download:",
        key=f"download_{file_name}",
    )

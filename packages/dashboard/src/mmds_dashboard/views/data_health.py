"""Data health: whether bronze agrees with the portal, what was loaded when, what the City sent
that was odd or new, how many rows each layer holds, what the checks found."""

import pandas as pd
import streamlit as st

from mmds_dashboard import cache
from mmds_dashboard.charts import flagged_chart, load_history_chart
from mmds_dashboard.components import figure, freshness_banner, page_header
from mmds_dashboard.context import page_context
from mmds_dashboard.formatting import DASH, duration, number, pacific_time, plural
from mmds_dashboard.health import last_loads
from mmds_dashboard.quality_words import field_label, reason_label, treatment_label
from mmds_dashboard.tables import Column, identifier, markdown_table, text

NEWEST_LOADS = 20
LAYER_LABELS = {
    "bronze": "Bronze (as loaded)",
    "silver": "Silver (cleaned)",
    "gold": "Gold (served)",
}
STATUS_LABELS = {"pass": "Passed", "warn": "Warned", "fail": "Failed"}
DATASET_LABELS = {
    "3-1-1-service-requests": "3-1-1 requests",
    "local-area-boundary": "Local-area boundaries",
}


def _dataset(value: str) -> str:
    return DATASET_LABELS.get(value, value)


def _reconciliation_table(newest: pd.DataFrame) -> str:
    """The newest load of each dataset: bronze's rows against the portal's."""
    records = newest.to_dict("records")
    return markdown_table(
        newest.assign(
            dataset=[
                f"{_dataset(r['dataset'])}, {pacific_time(r['finished_at'])}" for r in records
            ],
            agrees=[_agreement(r["bronze_count"], r["portal_total_count"]) for r in records],
        ),
        [
            Column("dataset", "Last load (Pacific time)", text),
            Column("bronze_count", "Rows loaded", number, "right"),
            Column("portal_total_count", "On the portal", number, "right"),
            Column("agrees", "Agree", text),
        ],
    )


def _agreement(loaded: float | None, on_portal: float | None) -> str:
    if pd.isna(loaded) or pd.isna(on_portal):
        return "Not recorded"
    return "Yes" if loaded == on_portal else "No"


def _note(value: object) -> str:
    return text(value) if isinstance(value, str) else ""


def _loads_table(loads: pd.DataFrame) -> str:
    """The newest loads, one row each: when, what kind and how long, what it changed."""
    shown = loads.head(NEWEST_LOADS)
    records = shown.to_dict("records")
    shown = shown.assign(
        load=[
            f"{_dataset(r['dataset'])}: {r['mode']}, {r['status']}, took {duration(r['seconds'])}"
            for r in records
        ],
        rows=[
            f"{number(r['rows_received'])} received: {number(r['rows_inserted'])} new, "
            f"{number(r['rows_updated'])} changed, {number(r['rows_deleted'])} deleted, "
            f"{number(r['rows_flagged'])} flagged"
            for r in records
        ],
    )
    return markdown_table(
        shown,
        [
            Column("started_at", "Started (Pacific time)", pacific_time),
            Column("load", "Load", text),
            Column("rows", "Rows", text),
            Column("message", "Note", _note),
        ],
    )


def _flagged_table(flagged: pd.DataFrame) -> str:
    """Flagged requests per reason: how many, what the figures do with them."""
    return markdown_table(
        flagged.assign(
            reason=flagged["quality_reason"].map(reason_label),
            treatment=flagged["treatment"].map(treatment_label),
        ),
        [
            Column("reason", "Reason", text),
            Column("requests", "Requests", number, "right"),
            Column("treatment", "What the figures do with them", text),
        ],
    )


def _new_values_table(values: pd.DataFrame) -> str:
    """The values the City started sending: which field, first seen, how many requests."""
    records = values.to_dict("records")
    return markdown_table(
        values.assign(
            value=[f"{field_label(r['field_name'])}: {r['field_value']}" for r in records]
        ),
        [
            Column("value", "Field: new value", text),
            Column("first_loaded_at", "First seen (Pacific time)", pacific_time),
            Column("request_count", "Requests", number, "right"),
        ],
    )


def _percent(value: float | None) -> str:
    return DASH if value is None or value != value else f"{value:.2%}"


context = page_context()
data = cache.data_health(context.marker)

page_header("Data health", data.publish)
st.caption("Everything on this page describes the whole published data; filters do not apply.")
freshness_banner(data.publish)

loads = data.loads
st.subheader("Does the data agree with the portal?")
if loads.empty:
    st.info("The serving file holds no load history.")
else:
    newest = last_loads(loads)
    st.markdown(_reconciliation_table(newest))
    st.caption(
        " ".join(
            f"{_dataset(r['dataset'])}: {r['reconciliation']}."
            for r in newest.to_dict("records")
            if isinstance(r["reconciliation"], str)
        )
        + " After every load the rows are counted against the portal's own count, per day of "
        "change; the days that differ are read again."
    )

st.subheader("What the City sent that did not fit")
flagged = data.flagged_by_reason
if flagged.empty:
    st.success("No request is flagged: every value fits what the City has sent before.")
else:
    st.caption(
        f"Requests with at least one flag: {number(data.flagged_requests)}. Every one is kept "
        "in the warehouse; the table says what the figures do with it."
    )
    by_day = data.flagged_by_day
    figure(flagged_chart(by_day.assign(reason=by_day["quality_reason"].map(reason_label))))
    st.markdown(_flagged_table(flagged))

st.subheader("New values from the City")
if data.new_values.empty:
    st.caption(
        "The City sent no status, channel, department, closure reason or area it had not sent "
        "before."
    )
else:
    st.markdown(_new_values_table(data.new_values))
    st.caption(
        "A value leaves this list once the project learns it (one line in a dbt seed) or no "
        "request carries it any more."
    )

st.subheader("Load history")
if not loads.empty:
    figure(load_history_chart(loads.assign(dataset=loads["dataset"].map(_dataset))))
    st.markdown(_loads_table(loads))
    if len(loads) > NEWEST_LOADS:
        st.caption(f"The newest {NEWEST_LOADS} of {plural(len(loads), 'load')}.")

left, right = st.columns(2)
with left:
    st.subheader("Rows per layer")
    layers = data.layers.assign(layer=data.layers["layer"].map(lambda v: LAYER_LABELS.get(v, v)))
    st.markdown(
        markdown_table(
            layers,
            [
                Column("layer", "Layer", text),
                Column("table_name", "Table", identifier),
                Column("row_count", "Rows", number, "right"),
            ],
        )
    )
with right:
    st.subheader("Quality flags")
    st.markdown(
        markdown_table(
            data.quality,
            [
                Column("flag", "Requests", text),
                Column("requests", "Count", number, "right"),
                Column("share", "Share", _percent, "right"),
            ],
        )
    )

st.subheader("dbt test outcomes")
if data.tests.empty:
    st.info("The build that made this serving file published no check results.")
else:
    counts = data.tests["status"].value_counts()
    for column, status in zip(st.columns(3), ("pass", "warn", "fail"), strict=True):
        column.metric(f"Tests {STATUS_LABELS[status].lower()}", number(int(counts.get(status, 0))))
    not_passed = data.tests[data.tests["status"] != "pass"]
    if not_passed.empty:
        st.caption(f"All {plural(len(data.tests), 'test')} passed.")
    else:
        st.markdown(
            markdown_table(
                not_passed.assign(
                    status=not_passed["status"].map(lambda v: STATUS_LABELS.get(v, v))
                ),
                [
                    Column("status", "Outcome", text),
                    Column("test_name", "Test", identifier),
                    Column("model_name", "Model", identifier),
                    Column("failures", "Failing rows", number, "right"),
                ],
            )
        )
        st.caption(f"{plural(int(counts.get('pass', 0)), 'other test')} passed.")

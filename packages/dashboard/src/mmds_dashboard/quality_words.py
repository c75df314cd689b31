"""Words for the quarantine's codes: the reasons rows are flagged, the fields they concern and
what gold does with them (docs/contracts.md lists every code)."""

from __future__ import annotations

FIELDS = {
    "service_request_open_timestamp": "Opening time",
    "service_request_close_date": "Close date",
    "last_modified_timestamp": "Last change time",
    "service_request_type": "Request type",
    "closure_reason": "Closure reason",
    "local_area": "Local area",
    "geo_point_2d": "Area centre",
}
REASONS = {
    "closed_before_opened": "Closed before opened",
    "outside_city": "Located outside the city",
    "exact_duplicate": "Exact duplicate of another request",
    "coordinates_out_of_range": "Coordinates out of range",
    "geom_invalid": "Unreadable location",
}
# `<field>_<suffix>` codes (ingest names the field first).
SUFFIXES = (
    ("_before_first_year", "before the dataset's first year"),
    ("_control_characters", "holds control characters"),
    ("_formula_like", "looks like a spreadsheet formula"),
    ("_unparseable", "unreadable"),
    ("_not_number", "not a number"),
    ("_not_text", "not text"),
    ("_in_future", "in the future"),
    ("_too_long", "too long"),
    ("_missing", "missing"),
    ("_invalid", "unreadable"),
)
TREATMENTS = {
    "excluded": "Left out of the counts",
    "mapped_to_other": "Counted as Other",
    "mapped_to_unknown": "Counted in the unknown area",
    "nulled": "Value left blank",
    "cleaned": "Cleaned",
    "kept": "Kept as sent",
}


def field_label(field: str | None) -> str:
    """`local_area` -> `Local area`: a portal field as a person names it."""
    if not field:
        return ""
    return FIELDS.get(field, field.replace("_", " ").capitalize())


def reason_label(code: str) -> str:
    """A reason code in words: `unknown_status` -> `Unknown status`,
    `service_request_open_timestamp_in_future` -> `Opening time in the future`."""
    if code in REASONS:
        return REASONS[code]
    if code.startswith("unknown_"):
        return f"Unknown {field_label(code.removeprefix('unknown_')).lower()}"
    for suffix, words in SUFFIXES:
        if code.endswith(suffix):
            return f"{field_label(code.removesuffix(suffix))} {words}"
    return code.replace("_", " ").capitalize()


def treatment_label(treatment: str | None) -> str:
    """What gold does with a flagged request, in words."""
    return TREATMENTS.get(treatment or "", treatment or "")

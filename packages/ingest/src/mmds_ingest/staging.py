"""Turn a downloaded JSON-lines export into typed, flagged, fingerprinted rows.

All of it is one DuckDB query over the file: no per-row Python. Every record keeps its raw
JSON exactly as sent; values that do not parse become NULL in their typed column and are named
in `_quality_issues`. The rows go into the temp table `staged` (to be merged into bronze) or,
when bronze is empty, straight into bronze part by part (`fresh_load`).
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from mmds_ingest.errors import PayloadError
from mmds_ingest.identity import CONTENT_FIELDS, IDENTITY_SQL, ROW_HASH_SQL

STAGED_TABLE = "staged"

TEXT_FIELDS = (
    "department",
    "service_request_type",
    "status",
    "closure_reason",
    "address",
    "local_area",
    "channel",
)
INSTANT_FIELDS = ("service_request_open_timestamp", "last_modified_timestamp")
NUMBER_FIELDS = ("latitude", "longitude")

REQUIRED_FIELDS = (
    "department",
    "service_request_type",
    "status",
    "service_request_open_timestamp",
    "last_modified_timestamp",
)
"""Fields the portal always fills. A record without one is flagged `<field>_missing`; an
export where every record lacks one is not the dataset we know, and fails."""

_NUMERIC_JSON = "('DOUBLE', 'BIGINT', 'UBIGINT')"


@dataclass(frozen=True)
class StageSummary:
    """What the staging found in the export."""

    rows: int
    flagged: int
    newest: datetime | None  # the latest last_modified_timestamp received


def _rows_sql(source: str) -> str:
    shape = json.dumps(dict.fromkeys(CONTENT_FIELDS, "JSON"))
    value = {name: f"_j.{name}" for name in CONTENT_FIELDS}  # JSON value; NULL if null/absent
    raw = {name: f"json_extract_string(_j.{name}, '$')" for name in CONTENT_FIELDS}  # as sent
    kind = {name: f"json_type(_j.{name})" for name in CONTENT_FIELDS}
    # JSON text is a string exactly when it starts with a quote: no parse needed
    is_text = {name: f"starts_with(_j.{name}, '\"')" for name in CONTENT_FIELDS}

    typed: list[str] = []
    canonical: list[str] = []
    issues: list[str] = []
    for name in TEXT_FIELDS:
        typed.append(f"{raw[name]} AS {name}")
        canonical.append(f"{name} AS _c_{name}")
        issues.append(f"CASE WHEN NOT {is_text[name]} THEN '{name}_not_text' END")
    for name in REQUIRED_FIELDS:
        issues.append(f"CASE WHEN {value[name]} IS NULL THEN '{name}_missing' END")
    for name in INSTANT_FIELDS:
        typed.append(f"{raw[name]} AS _t_{name}")
        typed.append(f"TRY_CAST({raw[name]} AS TIMESTAMPTZ) AS {name}")
        canonical.append(f"coalesce(CAST({name} AS VARCHAR), _t_{name}) AS _c_{name}")
        issues.append(
            f"CASE WHEN _t_{name} IS NOT NULL AND {name} IS NULL THEN '{name}_unparseable' END"
        )
    close = "service_request_close_date"
    typed.append(f"{raw[close]} AS _t_{close}")
    typed.append(f"TRY_CAST({raw[close]} AS DATE) AS {close}")
    canonical.append(f"coalesce(CAST({close} AS VARCHAR), _t_{close}) AS _c_{close}")
    issues.append(
        f"CASE WHEN _t_{close} IS NOT NULL AND {close} IS NULL THEN '{close}_unparseable' END"
    )
    for name in NUMBER_FIELDS:
        typed.append(f"{raw[name]} AS _t_{name}")
        typed.append(f"TRY_CAST({raw[name]} AS DOUBLE) AS _n_{name}")
        canonical.append(f"coalesce(CAST(_n_{name} AS VARCHAR), _t_{name}) AS _c_{name}")
        issues.append(f"CASE WHEN {kind[name]} NOT IN {_NUMERIC_JSON} THEN '{name}_not_number' END")
    out_of_range = (
        "(coalesce(_n_latitude NOT BETWEEN -90 AND 90, false)"
        " OR coalesce(_n_longitude NOT BETWEEN -180 AND 180, false))"
    )
    issues.append(f"CASE WHEN {out_of_range} THEN 'coordinates_out_of_range' END")
    geom = value["geom"]
    geom_ok = (
        f"coalesce(TRY_CAST({geom} ->> 'lon' AS DOUBLE) BETWEEN -180 AND 180 "
        f"AND TRY_CAST({geom} ->> 'lat' AS DOUBLE) BETWEEN -90 AND 90, false)"
    )
    typed.append(f"CASE WHEN {geom_ok} THEN {geom} END AS geom")
    typed.append(f"CAST({geom} AS VARCHAR) AS _c_geom")
    issues.append(f"CASE WHEN {geom} IS NOT NULL AND NOT {geom_ok} THEN 'geom_invalid' END")

    return f"""
    WITH extracted AS (
        SELECT json AS _raw, json_transform(json, '{shape}') AS _j FROM {source}
    ),
    typed AS (
        SELECT *, {", ".join(typed)} FROM extracted
    ),
    canonical AS (
        SELECT *, {", ".join(canonical)},
               NULLIF(concat_ws(',', {", ".join(issues)}), '') AS _quality_issues
        FROM typed
    )
    SELECT
        department, service_request_type, status, closure_reason,
        service_request_open_timestamp, service_request_close_date, last_modified_timestamp,
        address, local_area, channel,
        CASE WHEN NOT {out_of_range} THEN _n_latitude END AS latitude,
        CASE WHEN NOT {out_of_range} THEN _n_longitude END AS longitude,
        geom,
        {IDENTITY_SQL} AS _identity,
        {ROW_HASH_SQL} AS _row_hash,
        _quality_issues, _raw
    FROM canonical
    """  # noqa: S608 -- built from constants only; the file path is a bound parameter


def export_rows_sql(path: Path) -> tuple[str, dict[str, str] | None]:
    """The query giving the staged rows of the export at `path`, with its parameters.

    Columns: the 13 typed source fields, `_identity`, `_row_hash`, `_quality_issues`, `_raw`.
    Run it inside `payload_errors()`.
    """
    if path.stat().st_size == 0:
        return _rows_sql("(SELECT CAST(NULL AS JSON) AS json LIMIT 0)"), None
    source = "read_json_objects($path, format = 'newline_delimited')"
    return _rows_sql(source), {"path": str(path)}


@contextmanager
def payload_errors() -> Iterator[None]:
    """Turn DuckDB's complaint about a line that is not JSON into a `PayloadError`."""
    try:
        yield
    except duckdb.InvalidInputException as error:
        raise PayloadError(f"the export is not valid JSON lines: {_first_line(error)}") from None


def stage_export(con: duckdb.DuckDBPyConnection, path: Path) -> StageSummary:
    """Load the export at `path` into the temp table `staged`, or raise `PayloadError`.

    A line that is not JSON, or a required field absent from every record, fails the whole
    export; odd values (and records that are not objects) only flag their row.
    """
    query, params = export_rows_sql(path)
    with payload_errors():
        con.execute(f"CREATE OR REPLACE TEMP TABLE {STAGED_TABLE} AS {query}", params)
    return summarise(con, STAGED_TABLE)


def summarise(con: duckdb.DuckDBPyConnection, table: str) -> StageSummary:
    """Count the rows of one export held in `table`, or raise `PayloadError` when a required
    field is absent from every record (the dataset's schema changed)."""
    lacking = ", ".join(
        f"count(*) FILTER (contains(_quality_issues, '{name}_missing'))" for name in REQUIRED_FIELDS
    )
    rows, flagged, newest, *missing = con.execute(
        f"SELECT count(*), count(_quality_issues), max(last_modified_timestamp), {lacking} "  # noqa: S608 -- constants
        f"FROM {table}"
    ).fetchone()
    absent = [
        name for name, count in zip(REQUIRED_FIELDS, missing, strict=True) if rows and count == rows
    ]
    if absent:
        raise PayloadError(
            f"no record of the export has {', '.join(absent)}: the dataset's schema has "
            "changed; check the portal and adapt mmds_ingest before loading"
        )
    return StageSummary(rows=rows, flagged=flagged, newest=newest)


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]

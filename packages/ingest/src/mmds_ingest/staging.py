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
from zoneinfo import ZoneInfo

import duckdb

from mmds_ingest.datasets import SERVICE_REQUESTS
from mmds_ingest.errors import PayloadError, SchemaDriftError
from mmds_ingest.identity import CONTENT_FIELDS, IDENTITY_SQL, ROW_HASH_SQL

STAGED_TABLE = "staged"

TEXT_FIELDS = SERVICE_REQUESTS.names("text")
INSTANT_FIELDS = SERVICE_REQUESTS.names("instant")
DATE_FIELDS = SERVICE_REQUESTS.names("date")
NUMBER_FIELDS = SERVICE_REQUESTS.names("number")
CURSOR_FIELD = SERVICE_REQUESTS.cursor_field

REQUIRED_FIELDS = SERVICE_REQUESTS.required_fields
"""Fields the portal always fills. A record without one is flagged `<field>_missing`; an
export where every record lacks one is not the dataset we know, and fails."""

MAX_TEXT_CHARS = 1_000
"""Longer text is flagged `<field>_too_long` (the longest real value is about 50)."""

FORMULA_STARTS = ("=", "+", "-", "@")
"""Text starting with one of these is read as a formula by spreadsheets: `<field>_formula_like`."""

CONTROL_CHARACTERS = "[\\x00-\\x1f\\x7f]"
"""RE2 class of the C0 controls and DEL: `<field>_control_characters`."""

_NUMERIC_JSON = "('DOUBLE', 'BIGINT', 'UBIGINT')"
_IN_FUTURE = f"{CURSOR_FIELD}_in_future"


@dataclass(frozen=True)
class TimeBounds:
    """What a record's instants and dates are checked against: not later than the portal's
    clock plus the skew allowance (`latest`), not before the dataset's first year."""

    latest: datetime

    def params(self) -> dict[str, object]:
        """The bounds as the staging query's parameters."""
        zone = ZoneInfo(SERVICE_REQUESTS.timezone)
        return {
            "latest_instant": self.latest,
            "latest_date": self.latest.astimezone(zone).date(),
            "first_instant": SERVICE_REQUESTS.first_instant,
            "first_date": SERVICE_REQUESTS.first_date,
        }


@dataclass(frozen=True)
class StageSummary:
    """What the staging found in the export."""

    rows: int
    flagged: int
    newest: datetime | None  # the latest last_modified_timestamp received, if not in the future


def _joined(checks: list[str]) -> str:
    return f"NULLIF(concat_ws(',', {', '.join(checks)}), '')"


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
    # The bounds of the instants and dates are checked once per row; their codes only where
    # one lies outside.
    dated_checks: list[str] = []
    dated_outside: list[str] = []
    for name in TEXT_FIELDS:
        typed.append(f"{raw[name]} AS {name}")
        canonical.append(f"{name} AS _c_{name}")
        issues.append(f"CASE WHEN NOT {is_text[name]} THEN '{name}_not_text' END")
        # The JSON text is at least as long as the value: the exact length only when needed.
        long_text = f"strlen(_j.{name}) > {MAX_TEXT_CHARS} AND length({name}) > {MAX_TEXT_CHARS}"
        issues.append(f"CASE WHEN {long_text} THEN '{name}_too_long' END")
        # JSON escapes every control character but DEL: lines with neither skip the regex.
        control = f"_escaped AND regexp_matches({name}, '{CONTROL_CHARACTERS}')"
        issues.append(f"CASE WHEN {control} THEN '{name}_control_characters' END")
        # ord() reads the first character's code point: 7 times cheaper than 4 prefix tests
        codes = ", ".join(str(ord(start)) for start in FORMULA_STARTS)
        issues.append(f"CASE WHEN ord({name}) IN ({codes}) THEN '{name}_formula_like' END")
    for name in REQUIRED_FIELDS:
        issues.append(f"CASE WHEN {value[name]} IS NULL THEN '{name}_missing' END")
    for name, sql_type, suffix in [
        *((name, "TIMESTAMPTZ", "instant") for name in INSTANT_FIELDS),
        *((name, "DATE", "date") for name in DATE_FIELDS),
    ]:
        typed.append(f"{raw[name]} AS _t_{name}")
        typed.append(f"TRY_CAST({raw[name]} AS {sql_type}) AS {name}")
        canonical.append(f"coalesce(CAST({name} AS VARCHAR), _t_{name}) AS _c_{name}")
        issues.append(
            f"CASE WHEN _t_{name} IS NOT NULL AND {name} IS NULL THEN '{name}_unparseable' END"
        )
        dated_outside.append(f"{name} NOT BETWEEN $first_{suffix} AND $latest_{suffix}")
        dated_checks.append(f"CASE WHEN {name} > $latest_{suffix} THEN '{name}_in_future' END")
        dated_checks.append(
            f"CASE WHEN {name} < $first_{suffix} THEN '{name}_before_first_year' END"
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
    issues.append(f"CASE WHEN {' OR '.join(dated_outside)} THEN {_joined(dated_checks)} END")

    return f"""
    WITH extracted AS (
        SELECT json AS _raw, json_transform(json, '{shape}') AS _j,
               contains(json, '\\') OR contains(json, chr(127)) AS _escaped
        FROM {source}
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


def export_rows_sql(path: Path, bounds: TimeBounds) -> tuple[str, dict[str, object]]:
    """The query giving the staged rows of the export at `path`, with its parameters.

    Columns: the 13 typed source fields, `_identity`, `_row_hash`, `_quality_issues`, `_raw`.
    Instants and dates are checked against `bounds`. Run it inside `payload_errors()`.
    """
    if path.stat().st_size == 0:
        return _rows_sql("(SELECT CAST(NULL AS JSON) AS json LIMIT 0)"), bounds.params()
    source = "read_json_objects($path, format = 'newline_delimited')"
    return _rows_sql(source), bounds.params() | {"path": str(path)}


@contextmanager
def payload_errors() -> Iterator[None]:
    """Turn DuckDB's complaint about a line that is not JSON into a `PayloadError`."""
    try:
        yield
    except duckdb.InvalidInputException as error:
        raise PayloadError(f"the export is not valid JSON lines: {_first_line(error)}") from None


def stage_export(con: duckdb.DuckDBPyConnection, path: Path, bounds: TimeBounds) -> StageSummary:
    """Load the export at `path` into the temp table `staged`, or raise `PayloadError`.

    A line that is not JSON, or a required field absent from every record, fails the whole
    export; odd values (and records that are not objects) only flag their row.
    """
    query, params = export_rows_sql(path, bounds)
    with payload_errors():
        con.execute(f"CREATE OR REPLACE TEMP TABLE {STAGED_TABLE} AS {query}", params)
    return summarise(con, STAGED_TABLE)


def summarise(con: duckdb.DuckDBPyConnection, table: str) -> StageSummary:
    """Count the rows of one export held in `table`, or raise `PayloadError` when a required
    field is absent from every record (the dataset's schema changed)."""
    lacking = ", ".join(
        f"count(*) FILTER (contains(_quality_issues, '{name}_missing'))" for name in REQUIRED_FIELDS
    )
    newest = (
        f"max({CURSOR_FIELD}) FILTER (NOT contains(coalesce(_quality_issues, ''), '{_IN_FUTURE}'))"
    )
    rows, flagged, newest, *missing = con.execute(
        f"SELECT count(*), count(_quality_issues), {newest}, {lacking} FROM {table}"  # noqa: S608 -- constants
    ).fetchone()
    absent = [
        name for name, count in zip(REQUIRED_FIELDS, missing, strict=True) if rows and count == rows
    ]
    if absent:
        raise SchemaDriftError(
            f"no record of the export has {', '.join(absent)}: the dataset's schema has changed"
        )
    return StageSummary(rows=rows, flagged=flagged, newest=newest)


@dataclass(frozen=True)
class Lifted:
    """Rows whose `_in_future` flags the portal's clock has caught up with."""

    rows: int
    newest: datetime | None  # their latest last_modified_timestamp no longer in the future


def lift_future_flags(
    con: duckdb.DuckDBPyConnection, bounds: TimeBounds, *, load_id: str, loaded_at: datetime
) -> Lifted:
    """Drop the `<field>_in_future` codes of bronze rows the portal's clock now covers (inside
    the caller's transaction), so that bronze keeps what a fresh load would flag; the rows take
    this load's id, so models downstream see the change. Only rows already flagged change:
    a bound moves forward, so nothing becomes later than it."""
    dated = [(name, "instant") for name in INSTANT_FIELDS] + [(n, "date") for n in DATE_FIELDS]
    lifted = " OR ".join(f"(code = '{n}_in_future' AND {n} <= $latest_{s})" for n, s in dated)
    codes = f"list_filter(string_split(_quality_issues, ','), lambda code: NOT ({lifted}))"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _lifted AS
        SELECT _record_key, issues, {CURSOR_FIELD} FROM (
            SELECT _record_key, _quality_issues, {CURSOR_FIELD},
                   NULLIF(array_to_string({codes}, ','), '') AS issues
            FROM bronze.service_requests WHERE contains(_quality_issues, '_in_future'))
        WHERE issues IS DISTINCT FROM _quality_issues""",  # noqa: S608 -- constants; values bound
        {key: value for key, value in bounds.params().items() if key.startswith("latest_")},
    )
    con.execute(
        """UPDATE bronze.service_requests AS b
        SET _quality_issues = l.issues, _load_id = $load_id, _loaded_at = $loaded_at
        FROM _lifted AS l WHERE b._record_key = l._record_key""",
        {"load_id": load_id, "loaded_at": loaded_at},
    )
    rows, newest = con.execute(
        f"SELECT count(*), max({CURSOR_FIELD}) FILTER ("  # noqa: S608 -- constants
        f"NOT contains(coalesce(issues, ''), '{_IN_FUTURE}')) FROM _lifted"
    ).fetchone()
    return Lifted(rows, newest)


def _first_line(error: Exception, limit: int = 160) -> str:
    line = str(error).strip().splitlines()[0]
    return line[:limit] + ("..." if len(line) > limit else "")

"""Turn a downloaded JSON-lines export of a dataset into typed, flagged, fingerprinted rows.

All of it is one DuckDB query over the file: no per-row Python. Every record keeps its raw
JSON exactly as sent; values that do not parse become NULL in their typed column and are named
in `_quality_issues`. The query is derived from the dataset's declaration (`datasets.py`): each
field is typed and checked by its kind. The rows go into the temp table `staged` (to be merged
into bronze) or, when bronze is empty, straight into bronze part by part (`fresh_load`).
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from mmds_ingest.datasets import Dataset
from mmds_ingest.errors import PayloadError, SchemaDriftError
from mmds_ingest.identity import identity_sql, row_hash_sql
from mmds_ingest.interruptible import Executes

STAGED_TABLE = "staged"

MAX_TEXT_CHARS = 1_000
"""Longer text is flagged `<field>_too_long` (the longest real value is about 50)."""

FORMULA_STARTS = ("=", "+", "-", "@")
"""Text starting with one of these is read as a formula by spreadsheets: `<field>_formula_like`."""

CONTROL_CHARACTERS = "[\\x00-\\x1f\\x7f]"
"""RE2 class of the C0 controls and DEL: `<field>_control_characters`."""

SHAPE_TYPES = ("Polygon", "MultiPolygon")
"""The GeoJSON geometry types a `geo_shape` field may hold; anything else is `<field>_invalid`."""

_NUMERIC_JSON = "('DOUBLE', 'BIGINT', 'UBIGINT')"
_DATED_KINDS = {"instant": "TIMESTAMPTZ", "date": "DATE"}


@dataclass(frozen=True)
class StageSummary:
    """What the staging found in the export."""

    rows: int
    flagged: int
    newest: datetime | None  # the latest cursor received, if not in the future


@dataclass(frozen=True)
class Lifted:
    """Rows whose `_in_future` flags the portal's clock has caught up with."""

    rows: int
    newest: datetime | None  # their latest cursor no longer in the future


def _joined(checks: list[str]) -> str:
    return f"NULLIF(concat_ws(',', {', '.join(checks)}), '')"


def _in_future(dataset: Dataset) -> str:
    return f"{dataset.cursor_field}_in_future"


@cache
def _rows_sql(dataset: Dataset, source: str) -> str:
    names = dataset.field_names
    shape = json.dumps(dict.fromkeys(names, "JSON"))
    value = {name: f"_j.{name}" for name in names}  # JSON value; NULL if null/absent
    raw = {name: f"json_extract_string(_j.{name}, '$')" for name in names}  # as sent
    kind = {name: f"json_type(_j.{name})" for name in names}
    # JSON text is a string exactly when it starts with a quote: no parse needed
    is_text = {name: f"starts_with(_j.{name}, '\"')" for name in names}

    typed: list[str] = []
    canonical: list[str] = []
    issues: list[str] = []
    output: dict[str, str] = {name: name for name in names}
    # The bounds of the instants and dates are checked once per row; their codes only where
    # one lies outside.
    dated_checks: list[str] = []
    dated_outside: list[str] = []
    for name in dataset.names("text"):
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
    for name in dataset.required_fields:
        issues.append(f"CASE WHEN {value[name]} IS NULL THEN '{name}_missing' END")
    for suffix, sql_type in _DATED_KINDS.items():
        for name in dataset.names(suffix):
            typed.append(f"{raw[name]} AS _t_{name}")
            typed.append(f"TRY_CAST({raw[name]} AS {sql_type}) AS {name}")
            canonical.append(f"coalesce(CAST({name} AS VARCHAR), _t_{name}) AS _c_{name}")
            issues.append(
                f"CASE WHEN _t_{name} IS NOT NULL AND {name} IS NULL THEN '{name}_unparseable' END"
            )
            dated_checks.append(f"CASE WHEN {name} > $latest_{suffix} THEN '{name}_in_future' END")
            if dataset.first_year is None:
                dated_outside.append(f"{name} > $latest_{suffix}")
                continue
            dated_outside.append(f"{name} NOT BETWEEN $first_{suffix} AND $latest_{suffix}")
            dated_checks.append(
                f"CASE WHEN {name} < $first_{suffix} THEN '{name}_before_first_year' END"
            )
    for name in dataset.names("number"):
        typed.append(f"{raw[name]} AS _t_{name}")
        typed.append(f"TRY_CAST({raw[name]} AS DOUBLE) AS _n_{name}")
        canonical.append(f"coalesce(CAST(_n_{name} AS VARCHAR), _t_{name}) AS _c_{name}")
        issues.append(f"CASE WHEN {kind[name]} NOT IN {_NUMERIC_JSON} THEN '{name}_not_number' END")
        output[name] = f"_n_{name}"
    if dataset.coordinates:
        latitude, longitude = dataset.coordinates
        out_of_range = (
            f"(coalesce(_n_{latitude} NOT BETWEEN -90 AND 90, false)"
            f" OR coalesce(_n_{longitude} NOT BETWEEN -180 AND 180, false))"
        )
        issues.append(f"CASE WHEN {out_of_range} THEN 'coordinates_out_of_range' END")
        for name in dataset.coordinates:
            output[name] = f"CASE WHEN NOT {out_of_range} THEN _n_{name} END"
    for name in dataset.names("geo_point"):
        point = value[name]
        valid = (
            f"coalesce(TRY_CAST({point} ->> 'lon' AS DOUBLE) BETWEEN -180 AND 180 "
            f"AND TRY_CAST({point} ->> 'lat' AS DOUBLE) BETWEEN -90 AND 90, false)"
        )
        typed.append(f"CASE WHEN {valid} THEN {point} END AS {name}")
        typed.append(f"CAST({point} AS VARCHAR) AS _c_{name}")
        issues.append(f"CASE WHEN {point} IS NOT NULL AND NOT {valid} THEN '{name}_invalid' END")
    for name in dataset.names("geo_shape"):
        # The portal writes a shape as a bare geometry or wrapped in a GeoJSON Feature.
        shape_sql = (
            f"CASE WHEN {value[name]} ->> 'type' = 'Feature' "
            f"THEN {value[name]} -> 'geometry' ELSE {value[name]} END"
        )
        types = ", ".join(f"'{shape_type}'" for shape_type in SHAPE_TYPES)
        valid = (
            f"coalesce(_g_{name} ->> 'type' IN ({types}) "
            f"AND json_type(_g_{name} -> 'coordinates') = 'ARRAY', false)"
        )
        typed.append(f"{shape_sql} AS _g_{name}")
        canonical.append(f"CASE WHEN {valid} THEN _g_{name} END AS {name}")
        canonical.append(f"CAST(_g_{name} AS VARCHAR) AS _c_{name}")
        issues.append(f"CASE WHEN _g_{name} IS NOT NULL AND NOT {valid} THEN '{name}_invalid' END")
    if dated_outside:
        issues.append(f"CASE WHEN {' OR '.join(dated_outside)} THEN {_joined(dated_checks)} END")
    columns = ", ".join(
        expression if expression == name else f"{expression} AS {name}"
        for name, expression in output.items()
    )

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
        {columns},
        {identity_sql(dataset)} AS _identity,
        {row_hash_sql(dataset)} AS _row_hash,
        _quality_issues, _raw,
        {dataset.cursor_sql} AS _cursor
    FROM canonical
    """  # noqa: S608 -- built from declarations only; the file path is a bound parameter


@contextmanager
def payload_errors() -> Iterator[None]:
    """Turn DuckDB's complaint about a line that is not JSON into a `PayloadError`."""
    try:
        yield
    except duckdb.InvalidInputException as error:
        raise PayloadError(f"the export is not valid JSON lines: {_first_line(error)}") from None


@dataclass(frozen=True)
class Staging:
    """How one load reads a dataset's exports: typed and checked by the dataset's declaration,
    instants and dates against `latest` (the portal's clock plus the skew allowance) and the
    dataset's first year."""

    dataset: Dataset
    latest: datetime

    def params(self) -> dict[str, object]:
        """The bounds the staging query checks instants and dates against."""
        dataset = self.dataset
        params: dict[str, object] = {}
        if dataset.names("instant"):
            params["latest_instant"] = self.latest
            if dataset.first_instant is not None:
                params["first_instant"] = dataset.first_instant
        if dataset.names("date"):
            params["latest_date"] = self.latest.astimezone(ZoneInfo(dataset.timezone)).date()
            if dataset.first_date is not None:
                params["first_date"] = dataset.first_date
        return params

    def rows_sql(self, path: Path) -> tuple[str, dict[str, object]]:
        """The query giving the staged rows of the export at `path`, with its parameters.

        Columns: the typed source fields, `_identity`, `_row_hash`, `_quality_issues`, `_raw`
        and `_cursor`. Run it inside `payload_errors()`.
        """
        if path.stat().st_size == 0:
            empty = "(SELECT CAST(NULL AS JSON) AS json LIMIT 0)"
            return _rows_sql(self.dataset, empty), self.params()
        source = "read_json_objects($path, format = 'newline_delimited')"
        return _rows_sql(self.dataset, source), self.params() | {"path": str(path)}

    def stage(self, con: Executes, path: Path) -> StageSummary:
        """Load the export at `path` into the temp table `staged`, or raise `PayloadError`.

        A line that is not JSON fails the whole export (`PayloadError`), and so does a required
        field absent from every record (`SchemaDriftError`); odd values (and records that are
        not objects) only flag their row.
        """
        query, params = self.rows_sql(path)
        with payload_errors():
            con.execute(f"CREATE OR REPLACE TEMP TABLE {STAGED_TABLE} AS {query}", params)
        return self.summarise(con, STAGED_TABLE)

    def summarise(self, con: Executes, table: str) -> StageSummary:
        """Count the rows of one export held in `table` (staged rows, or the dataset's bronze
        table), or raise `SchemaDriftError` when a required field is absent from every record."""
        dataset = self.dataset
        required = dataset.required_fields
        lacking = "".join(
            f", count(*) FILTER (contains(_quality_issues, '{name}_missing'))" for name in required
        )
        newest = "CAST(NULL AS TIMESTAMPTZ)"
        if dataset.cursor_field:
            newest = (
                f"max({dataset.cursor_field}) FILTER "
                f"(NOT contains(coalesce(_quality_issues, ''), '{_in_future(dataset)}'))"
            )
        summary = con.execute(
            f"SELECT count(*), count(_quality_issues), {newest}{lacking} FROM {table}"  # noqa: S608 -- constants
        ).fetchone()
        assert summary is not None  # an aggregate returns one row
        rows, flagged, newest, *missing = summary
        absent = [
            name for name, count in zip(required, missing, strict=True) if rows and count == rows
        ]
        if absent:
            raise SchemaDriftError(
                f"no record of the export has {', '.join(absent)}: the dataset's schema has changed"
            )
        return StageSummary(rows=rows, flagged=flagged, newest=newest)

    def lift_future_flags(self, con: Executes, *, load_id: str, loaded_at: datetime) -> Lifted:
        """Drop the `<field>_in_future` codes of bronze rows the portal's clock now covers
        (inside the caller's transaction), so that bronze keeps what a fresh load would flag;
        the rows take this load's id, so models downstream see the change. Only rows already
        flagged change: a bound moves forward, so nothing becomes later than it."""
        dataset = self.dataset
        dated = [(name, suffix) for suffix in _DATED_KINDS for name in dataset.names(suffix)]
        if not dated:
            return Lifted(0, None)
        lifted = " OR ".join(f"(code = '{n}_in_future' AND {n} <= $latest_{s})" for n, s in dated)
        codes = f"list_filter(string_split(_quality_issues, ','), lambda code: NOT ({lifted}))"
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _lifted AS
            SELECT _record_key, issues, _cursor FROM (
                SELECT _record_key, _quality_issues, {dataset.cursor_sql} AS _cursor,
                       NULLIF(array_to_string({codes}, ','), '') AS issues
                FROM {dataset.table} WHERE contains(_quality_issues, '_in_future'))
            WHERE issues IS DISTINCT FROM _quality_issues""",  # noqa: S608 -- constants; values bound
            {key: value for key, value in self.params().items() if key.startswith("latest_")},
        )
        con.execute(
            f"""UPDATE {dataset.table} AS b
            SET _quality_issues = l.issues, _load_id = $load_id, _loaded_at = $loaded_at
            FROM _lifted AS l WHERE b._record_key = l._record_key""",  # noqa: S608 -- constants
            {"load_id": load_id, "loaded_at": loaded_at},
        )
        in_future = _in_future(dataset) if dataset.cursor_field else "_in_future"
        summary = con.execute(
            "SELECT count(*), max(_cursor) FILTER ("  # noqa: S608 -- constants
            f"NOT contains(coalesce(issues, ''), '{in_future}')) FROM _lifted"
        ).fetchone()
        assert summary is not None  # an aggregate returns one row
        rows, newest = summary
        return Lifted(rows, newest)


def _first_line(error: Exception, limit: int = 160) -> str:
    line = str(error).strip().splitlines()[0]
    return line[:limit] + ("..." if len(line) > limit else "")

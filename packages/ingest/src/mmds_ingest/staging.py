"""Turn a downloaded JSON-lines export into a typed, flagged, fingerprinted staging table.

All of it is one DuckDB statement over the file: no per-row Python. Every record keeps its
raw JSON exactly as sent; values that do not parse become NULL in their typed column and are
named in `_quality_issues`.
"""

from dataclasses import dataclass
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

RECORD_REQUIRED_FIELDS = (
    "department",
    "service_request_type",
    "status",
    "service_request_open_timestamp",
    "last_modified_timestamp",
)
"""Keys every record must carry (the portal never leaves them empty); other keys may be
omitted when null."""

_NUMERIC_JSON = "('DOUBLE', 'BIGINT', 'UBIGINT')"


@dataclass(frozen=True)
class StageSummary:
    """What the staging found in the export."""

    rows: int
    flagged: int


def _index(field: str) -> int:
    return CONTENT_FIELDS.index(field) + 1


def _staging_sql(source: str) -> str:
    paths = ", ".join(f"'$.{name}'" for name in CONTENT_FIELDS)
    raw = {name: f"_s[{_index(name)}]" for name in CONTENT_FIELDS}  # text as sent
    kind = {name: f"json_type(_v[{_index(name)}])" for name in CONTENT_FIELDS}  # NULL if absent

    typed: list[str] = []
    canonical: list[str] = []
    issues: list[str] = []
    for name in TEXT_FIELDS:
        typed.append(f"{raw[name]} AS {name}")
        canonical.append(f"{raw[name]} AS _c_{name}")
        issues.append(
            f"CASE WHEN {kind[name]} NOT IN ('VARCHAR', 'NULL') THEN '{name}_not_text' END"
        )
    for name in INSTANT_FIELDS:
        typed.append(f"TRY_CAST({raw[name]} AS TIMESTAMPTZ) AS {name}")
        canonical.append(f"coalesce(CAST({name} AS VARCHAR), {raw[name]}) AS _c_{name}")
        issues.append(f"CASE WHEN {raw[name]} IS NULL THEN '{name}_missing' END")
        issues.append(
            f"CASE WHEN {raw[name]} IS NOT NULL AND {name} IS NULL THEN '{name}_unparseable' END"
        )
    close = "service_request_close_date"
    typed.append(f"TRY_CAST({raw[close]} AS DATE) AS {close}")
    canonical.append(f"coalesce(CAST({close} AS VARCHAR), {raw[close]}) AS _c_{close}")
    issues.append(
        f"CASE WHEN {raw[close]} IS NOT NULL AND {close} IS NULL THEN '{close}_unparseable' END"
    )
    for name in NUMBER_FIELDS:
        typed.append(f"TRY_CAST({raw[name]} AS DOUBLE) AS _n_{name}")
        canonical.append(f"coalesce(CAST(_n_{name} AS VARCHAR), {raw[name]}) AS _c_{name}")
        issues.append(
            f"CASE WHEN {kind[name]} NOT IN {_NUMERIC_JSON} AND {kind[name]} <> 'NULL' "
            f"THEN '{name}_not_number' END"
        )
    out_of_range = (
        "(coalesce(_n_latitude NOT BETWEEN -90 AND 90, false)"
        " OR coalesce(_n_longitude NOT BETWEEN -180 AND 180, false))"
    )
    issues.append(f"CASE WHEN {out_of_range} THEN 'coordinates_out_of_range' END")
    geom = f"_v[{_index('geom')}]"
    geom_ok = (
        f"json_type({geom}) = 'OBJECT' AND json_type({geom}, '$.lon') IN {_NUMERIC_JSON} "
        f"AND json_type({geom}, '$.lat') IN {_NUMERIC_JSON} "
        f"AND CAST({geom} ->> 'lon' AS DOUBLE) BETWEEN -180 AND 180 "
        f"AND CAST({geom} ->> 'lat' AS DOUBLE) BETWEEN -90 AND 90"
    )
    typed.append(f"CASE WHEN {geom_ok} THEN {geom} END AS geom")
    canonical.append(
        f"CASE WHEN {kind['geom']} = 'OBJECT' THEN CAST({geom} AS VARCHAR) "
        f"ELSE {raw['geom']} END AS _c_geom"
    )
    issues.append(f"CASE WHEN {kind['geom']} <> 'NULL' AND NOT ({geom_ok}) THEN 'geom_invalid' END")

    missing = [
        f"CASE WHEN {kind[name]} IS NULL THEN '{name}' END" for name in RECORD_REQUIRED_FIELDS
    ]
    return f"""
    CREATE OR REPLACE TEMP TABLE {STAGED_TABLE} AS
    WITH lines AS (
        SELECT json AS _raw FROM {source}
    ),
    extracted AS (
        SELECT _raw, json_type(_raw) AS _shape,
               json_extract(_raw, [{paths}]) AS _v,
               json_extract_string(_raw, [{paths}]) AS _s
        FROM lines
    ),
    typed AS (
        SELECT *, {", ".join(typed)} FROM extracted
    ),
    canonical AS (
        SELECT *, {", ".join(canonical)},
               NULLIF(concat_ws(',', {", ".join(issues)}), '') AS _quality_issues,
               NULLIF(concat_ws(',', {", ".join(missing)}), '') AS _missing_fields
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
        _quality_issues, _raw, _shape, _missing_fields
    FROM canonical
    """  # noqa: S608 -- built from constants only; the file path is a bound parameter


def stage_export(con: duckdb.DuckDBPyConnection, path: Path) -> StageSummary:
    """Load the export at `path` into the temp table `staged`, or raise `PayloadError`.

    A line that is not JSON, a record that is not an object, or a record without one of the
    required keys fails the whole export; odd values only flag their row.
    """
    if path.stat().st_size == 0:
        source = "(SELECT CAST(NULL AS JSON) AS json LIMIT 0)"
    else:
        source = "read_json_objects($path, format = 'newline_delimited')"
    try:
        con.execute(_staging_sql(source), {"path": str(path)} if "$path" in source else None)
    except duckdb.InvalidInputException as error:
        raise PayloadError(f"the export is not valid JSON lines: {_first_line(error)}") from None
    rows, flagged, not_objects, first_missing = con.execute(
        f"""SELECT count(*), count(_quality_issues), count(*) FILTER (_shape <> 'OBJECT'),
                   min(_missing_fields) FILTER (_missing_fields IS NOT NULL)
            FROM {STAGED_TABLE}"""  # noqa: S608 -- constant table name
    ).fetchone()
    if not_objects:
        raise PayloadError(f"the export has {not_objects} line(s) that are not JSON objects")
    if first_missing:
        missing_rows = con.execute(
            f"SELECT count(*) FROM {STAGED_TABLE} WHERE _missing_fields IS NOT NULL"  # noqa: S608
        ).fetchone()[0]
        raise PayloadError(
            f"{missing_rows} record(s) lack required field(s) ({first_missing}); the dataset's "
            "schema has changed: check the portal and update mmds_ingest before loading"
        )
    return StageSummary(rows=rows, flagged=flagged)


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]

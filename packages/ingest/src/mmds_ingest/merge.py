"""Upsert the staged export into `bronze.service_requests` by identity and content.

Within one identity, incoming rows are matched to the rows bronze already holds: first exact
copies (same content hash), then the rest in order, which are updates; incoming rows beyond
that are new occurrences, and (on a full load) bronze rows left unmatched are gone from the
portal. Into an empty bronze every row is new: `insert_into_empty` loads the export directly.
All set-based SQL; nothing leaves DuckDB.
"""

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from mmds_ingest.identity import (
    CONTENT_FIELDS,
    key_identity_sql,
    key_occurrence_sql,
    record_key_sql,
)
from mmds_ingest.staging import (
    STAGED_TABLE,
    StageSummary,
    export_rows_sql,
    payload_errors,
    summarise,
)

PAYLOAD_COLUMNS = (*CONTENT_FIELDS, "_row_hash", "_quality_issues", "_raw")


@dataclass(frozen=True)
class MergeCounts:
    """How the staged rows changed bronze."""

    inserted: int
    updated: int
    unchanged: int
    deleted: int


def _plan_sql(full: bool) -> str:
    identity = key_identity_sql("_record_key")
    scope = "" if full else f"WHERE {identity} IN (SELECT _identity FROM {STAGED_TABLE})"  # noqa: S608
    new_key = record_key_sql(
        "i._identity", "coalesce(s.max_occurrence, 0) + i._pair - coalesce(c.left_count, 0)"
    )
    return f"""
    CREATE OR REPLACE TEMP TABLE _existing AS
    SELECT _record_key, {key_identity_sql("_record_key")} AS _identity,
           {key_occurrence_sql("_record_key")} AS _occurrence, _row_hash, last_modified_timestamp
    FROM bronze.service_requests {scope};

    CREATE OR REPLACE TEMP TABLE _incoming AS
    SELECT rowid AS _line, _identity, _row_hash, last_modified_timestamp,
           row_number() OVER (PARTITION BY _identity, _row_hash ORDER BY rowid) AS _copy
    FROM {STAGED_TABLE};

    CREATE OR REPLACE TEMP TABLE _same AS
    SELECT i._line, e._record_key
    FROM _incoming AS i
    JOIN (SELECT *, row_number() OVER (PARTITION BY _identity, _row_hash ORDER BY _occurrence)
                   AS _copy
          FROM _existing) AS e
      ON i._identity = e._identity AND i._row_hash = e._row_hash AND i._copy = e._copy;

    CREATE OR REPLACE TEMP TABLE _incoming_left AS
    SELECT *, row_number() OVER (
               PARTITION BY _identity
               ORDER BY last_modified_timestamp NULLS FIRST, _row_hash, _line) AS _pair
    FROM _incoming ANTI JOIN _same USING (_line);

    -- Rows bronze holds inside the window must come back if they still exist: pair them first.
    CREATE OR REPLACE TEMP TABLE _existing_left AS
    SELECT *, row_number() OVER (
               PARTITION BY _identity
               ORDER BY coalesce(last_modified_timestamp >= $window_start, true) DESC,
                        last_modified_timestamp NULLS FIRST, _occurrence) AS _pair
    FROM _existing ANTI JOIN _same USING (_record_key);

    CREATE OR REPLACE TEMP TABLE _plan AS
    SELECT _line, _record_key, 'unchanged' AS action FROM _same
    UNION ALL
    SELECT i._line,
           coalesce(e._record_key, {new_key}) AS _record_key,
           CASE WHEN e._record_key IS NULL THEN 'inserted' ELSE 'updated' END AS action
    FROM _incoming_left AS i
    LEFT JOIN _existing_left AS e ON i._identity = e._identity AND i._pair = e._pair
    LEFT JOIN (SELECT _identity, max(_occurrence) AS max_occurrence
               FROM _existing GROUP BY _identity) AS s ON s._identity = i._identity
    LEFT JOIN (SELECT _identity, count(*) AS left_count
               FROM _existing_left GROUP BY _identity) AS c ON c._identity = i._identity;

    CREATE OR REPLACE TEMP TABLE _gone AS
    SELECT e._record_key FROM _existing_left AS e
    ANTI JOIN _incoming_left AS i ON i._identity = e._identity AND i._pair = e._pair
    WHERE {"true" if full else "false"};
    """  # noqa: S608 -- built from constants only


def _apply_sql() -> str:
    """Changed rows are deleted and re-appended under their key: DuckDB then writes only new
    row groups and deletion marks, where an UPDATE would rewrite every row group it touches."""
    columns = ", ".join(PAYLOAD_COLUMNS)
    selected = ", ".join(f"s.{name}" for name in PAYLOAD_COLUMNS)
    return f"""
    DELETE FROM bronze.service_requests
    WHERE _record_key IN (SELECT _record_key FROM _plan WHERE action = 'updated'
                          UNION ALL SELECT _record_key FROM _gone);

    INSERT INTO bronze.service_requests ({columns}, _record_key, _load_id, _loaded_at)
    SELECT {selected}, p._record_key, $load_id, $loaded_at
    FROM _plan AS p JOIN {STAGED_TABLE} AS s ON s.rowid = p._line
    WHERE p.action IN ('inserted', 'updated');
    """  # noqa: S608 -- built from constants only


def merge_staged(
    con: duckdb.DuckDBPyConnection,
    *,
    full: bool,
    window_start: datetime | None,
    load_id: str,
    loaded_at: datetime,
) -> MergeCounts:
    """Upsert `staged` into bronze (inside the caller's transaction) and count the outcome.

    `full`: the staged rows are the whole dataset, so bronze rows they do not match are deleted.
    `window_start`: start of an incremental window; bronze rows inside it are paired first.
    """
    params = {"window_start": window_start, "load_id": load_id, "loaded_at": loaded_at}
    for statement in _split(_plan_sql(full)) + _split(_apply_sql()):
        used = {name: value for name, value in params.items() if f"${name}" in statement}
        con.execute(statement, used or None)
    inserted, updated, unchanged = con.execute(
        """SELECT count(*) FILTER (action = 'inserted'), count(*) FILTER (action = 'updated'),
                  count(*) FILTER (action = 'unchanged') FROM _plan"""
    ).fetchone()
    deleted = con.execute("SELECT count(*) FROM _gone").fetchone()[0]
    return MergeCounts(inserted=inserted, updated=updated, unchanged=unchanged, deleted=deleted)


def insert_into_empty(
    con: duckdb.DuckDBPyConnection, path: Path, *, load_id: str, loaded_at: datetime
) -> StageSummary:
    """Load the export at `path` straight into an empty bronze (inside the caller's
    transaction) and summarise it; raise `PayloadError` as `stage_export` does.

    Every row is new, so there is nothing to match: the rows go from the file to bronze in one
    pass, without a staging table. Each gets occurrence 1; the few identities that arrived more
    than once are then renumbered 1, 2, ... in order of `last_modified_timestamp` and content,
    as a merge into an empty bronze would number them.
    """
    query, params = export_rows_sql(path)
    columns = ", ".join(PAYLOAD_COLUMNS)
    # Row order in bronze carries no meaning (twins are numbered by an explicit order below);
    # letting DuckDB's threads append in any order makes the insert faster. Not reset when the
    # insert fails: the transaction is then aborted, and the failed load closes the connection.
    con.execute("SET preserve_insertion_order = false")
    with payload_errors():
        con.execute(
            f"""INSERT INTO bronze.service_requests ({columns}, _record_key, _load_id, _loaded_at)
            SELECT {columns}, {record_key_sql("_identity", "1")}, $load_id, $loaded_at
            FROM ({query})""",  # noqa: S608 -- built from constants; values are bound
            (params or {}) | {"load_id": load_id, "loaded_at": loaded_at},
        )
    con.execute("RESET preserve_insertion_order")
    occurrence = (
        "row_number() OVER (PARTITION BY _record_key "
        "ORDER BY last_modified_timestamp NULLS FIRST, _row_hash)"
    )
    # An UPDATE of the few twins' keys; a delete and re-insert of them would make DuckDB
    # rewrite every row group it touched at commit.
    con.execute(
        f"""UPDATE bronze.service_requests AS b SET _record_key = t._record_key
        FROM (SELECT rowid AS _row,
                     {record_key_sql(key_identity_sql("_record_key"), occurrence)} AS _record_key
              FROM bronze.service_requests
              WHERE _record_key IN (SELECT _record_key FROM bronze.service_requests
                                    GROUP BY _record_key HAVING count(*) > 1)) AS t
        WHERE b.rowid = t._row AND b._record_key <> t._record_key"""  # noqa: S608 -- constants
    )
    return summarise(con, "bronze.service_requests")


def _split(script: str) -> list[str]:
    return [part.strip() for part in script.split(";") if part.strip()]

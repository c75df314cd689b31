"""Upsert the staged export into a dataset's bronze table by identity and content.

Within one identity, incoming rows are matched to the rows bronze already holds: first exact
copies (same content hash), then the rest in order, which are updates (so is a copy whose
quality flags changed, e.g. a record no longer in the future once the portal's clock passed
it); incoming rows beyond that are new occurrences, and (on a full load) bronze rows left
unmatched are gone from the portal. Rows that agree on every identity field ("twins") are then
numbered as a fresh load numbers them: occurrences 1, 2, ... in order of the cursor
(`last_modified_timestamp`) and content.

An incremental export cannot say which of several twins changed when one of them lies before
the window: for such groups the whole group is re-read from the portal (`twin_groups`) and
replaces the group in bronze, so bronze ends exactly as a fresh full load would leave it.
Into an empty bronze every row is new: `fresh_load` inserts the export directly.
All set-based SQL; nothing leaves DuckDB.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from mmds_ingest.datasets import Dataset
from mmds_ingest.identity import (
    OCCURRENCE_ORDER,
    key_identity_sql,
    key_occurrence_sql,
    payload_columns,
    record_key_sql,
)
from mmds_ingest.interruptible import Executes
from mmds_ingest.staging import STAGED_TABLE
from mmds_ingest.twin_groups import REREAD_TABLE, Reread

AMBIGUOUS_TABLE = "_ambiguous"

GroupReader = Callable[[Executes, str], Reread]
"""Fills `twin_groups.REREAD_TABLE` with the whole portal groups of the identities in the
named table (`twin_groups.GroupRereader`)."""


@dataclass(frozen=True)
class MergeCounts:
    """How the staged rows changed bronze.

    `updated` includes twins whose occurrence number changed; `reread_groups` and
    `reread_rows` say what was re-read from the portal to settle ambiguous twins.
    """

    inserted: int
    updated: int
    unchanged: int
    deleted: int
    reread_groups: int = 0
    reread_rows: int = 0


def _existing_sql(dataset: Dataset, full: bool) -> str:
    identity = key_identity_sql("_record_key")
    scope = "" if full else f"WHERE {identity} IN (SELECT _identity FROM {STAGED_TABLE})"  # noqa: S608
    return f"""
    CREATE OR REPLACE TEMP TABLE _existing AS
    SELECT _record_key, {identity} AS _identity,
           {key_occurrence_sql("_record_key")} AS _occurrence, _row_hash, _quality_issues,
           {dataset.cursor_sql} AS _cursor
    FROM {dataset.table} {scope}
    """  # noqa: S608 -- built from constants only


def _ambiguous_sql() -> str:
    """Identities whose pairing an incremental export cannot settle: an incoming row that is
    not an exact copy, a bronze row before the window (so absent from the export), and more
    than one row on one side (twins)."""
    return f"""
    CREATE OR REPLACE TEMP TABLE {AMBIGUOUS_TABLE} AS
    WITH incoming AS (
        SELECT _identity, _row_hash, count(*) AS copies FROM {STAGED_TABLE} GROUP BY ALL
    ), existing AS (
        SELECT _identity, _row_hash, count(*) AS copies FROM _existing GROUP BY ALL
    ), received AS (
        SELECT i._identity, sum(i.copies) AS row_count,
               bool_or(i.copies > coalesce(e.copies, 0)) AS changed
        FROM incoming AS i
        LEFT JOIN existing AS e ON e._identity = i._identity AND e._row_hash = i._row_hash
        GROUP BY i._identity
    ), held AS (
        SELECT _identity, count(*) AS row_count,
               count(*) FILTER (coalesce(_cursor < $window_start, true)) AS before
        FROM _existing GROUP BY _identity
    )
    SELECT _identity FROM received AS r JOIN held AS h USING (_identity)
    WHERE r.changed AND h.before > 0 AND (r.row_count > 1 OR h.row_count > 1)
    """  # noqa: S608 -- built from constants only


def _regroup_sql() -> str:
    """The staged rows of the ambiguous identities give way to their re-read groups."""
    return f"""
    DELETE FROM {STAGED_TABLE} WHERE _identity IN (SELECT _identity FROM {AMBIGUOUS_TABLE});
    INSERT INTO {STAGED_TABLE} SELECT * FROM {REREAD_TABLE};
    """  # noqa: S608 -- built from constants only


def _plan_sql(full: bool) -> str:
    replaced = "true" if full else f"e._identity IN (SELECT _identity FROM {AMBIGUOUS_TABLE})"  # noqa: S608
    # Equal rows keep their old order, so identical twins are not rewritten for nothing.
    occurrence = (
        f"row_number() OVER (PARTITION BY _identity ORDER BY {OCCURRENCE_ORDER}, "
        f"{key_occurrence_sql('_old_key')} NULLS LAST, _line)"
    )
    return f"""
    CREATE OR REPLACE TEMP TABLE _incoming AS
    SELECT rowid AS _line, _identity, _row_hash, _quality_issues, _cursor,
           row_number() OVER (PARTITION BY _identity, _row_hash ORDER BY rowid) AS _copy
    FROM {STAGED_TABLE};

    CREATE OR REPLACE TEMP TABLE _same AS
    SELECT i._line, e._record_key, e._quality_issues AS _old_issues
    FROM _incoming AS i
    JOIN (SELECT *, row_number() OVER (PARTITION BY _identity, _row_hash ORDER BY _occurrence)
                   AS _copy
          FROM _existing) AS e
      ON i._identity = e._identity AND i._row_hash = e._row_hash AND i._copy = e._copy;

    CREATE OR REPLACE TEMP TABLE _incoming_left AS
    SELECT *, row_number() OVER (
               PARTITION BY _identity
               ORDER BY _cursor NULLS FIRST, _row_hash, _line) AS _pair
    FROM _incoming ANTI JOIN _same USING (_line);

    -- Rows bronze holds inside the window must come back if they still exist: pair them first.
    CREATE OR REPLACE TEMP TABLE _existing_left AS
    SELECT *, row_number() OVER (
               PARTITION BY _identity
               ORDER BY coalesce(_cursor >= $window_start, true) DESC,
                        _cursor NULLS FIRST, _occurrence) AS _pair
    FROM _existing ANTI JOIN _same USING (_record_key);

    -- Each incoming row with the bronze row it replaces (NULL: a new row).
    CREATE OR REPLACE TEMP TABLE _paired AS
    SELECT s._line, s._record_key AS _old_key, i._row_hash AS _old_hash, s._old_issues
    FROM _same AS s JOIN _incoming AS i USING (_line)
    UNION ALL
    SELECT i._line, e._record_key, e._row_hash, e._quality_issues
    FROM _incoming_left AS i
    LEFT JOIN _existing_left AS e ON i._identity = e._identity AND i._pair = e._pair;

    -- Unmatched bronze rows are gone where the export holds whole groups.
    CREATE OR REPLACE TEMP TABLE _gone AS
    SELECT e._record_key FROM _existing_left AS e
    ANTI JOIN _incoming_left AS i ON i._identity = e._identity AND i._pair = e._pair
    WHERE {replaced};

    -- Every row of the identities received, as bronze will hold them: the incoming rows and
    -- the bronze rows left in place.
    CREATE OR REPLACE TEMP TABLE _members AS
    SELECT i._identity, i._cursor, i._row_hash, i._line, p._old_key, p._old_hash,
           i._quality_issues IS NOT DISTINCT FROM p._old_issues AS _same_flags
    FROM _incoming AS i JOIN _paired AS p USING (_line)
    UNION ALL
    SELECT e._identity, e._cursor, e._row_hash, NULL, e._record_key, e._row_hash,
           true
    FROM _existing_left AS e
    ANTI JOIN _paired AS p ON p._old_key = e._record_key
    ANTI JOIN _gone AS g ON g._record_key = e._record_key;

    -- Keys as a fresh load gives them: twins numbered by the cursor and content.
    CREATE OR REPLACE TEMP TABLE _plan AS
    WITH twins AS (
        SELECT _identity FROM _members GROUP BY _identity HAVING count(*) > 1
    ), numbered AS (
        SELECT *, {record_key_sql("_identity", "1")} AS _new_key
        FROM _members ANTI JOIN twins USING (_identity)
        UNION ALL
        SELECT *, {record_key_sql("_identity", occurrence)} AS _new_key
        FROM _members SEMI JOIN twins USING (_identity)
    )
    SELECT _line, _old_key, _new_key,
           CASE WHEN _line IS NULL THEN 'rekeyed'
                WHEN _old_key IS NULL THEN 'inserted'
                WHEN _old_key = _new_key AND _old_hash = _row_hash AND _same_flags
                    THEN 'unchanged'
                ELSE 'updated' END AS action
    FROM numbered
    WHERE _line IS NOT NULL OR _old_key <> _new_key;
    """  # noqa: S608 -- built from constants only


def _apply_sql(dataset: Dataset) -> str:
    """Changed rows are deleted and re-appended under their key: DuckDB then writes only new
    row groups and deletion marks, where an UPDATE would rewrite every row group it touches.
    Unchanged twins whose occurrence moved only get their key updated (few rows)."""
    columns = ", ".join(payload_columns(dataset))
    selected = ", ".join(f"s.{name}" for name in payload_columns(dataset))
    return f"""
    DELETE FROM {dataset.table}
    WHERE _record_key IN (SELECT _old_key FROM _plan WHERE action = 'updated'
                          UNION ALL SELECT _record_key FROM _gone);

    UPDATE {dataset.table} AS b
    SET _record_key = p._new_key, _load_id = $load_id, _loaded_at = $loaded_at
    FROM _plan AS p
    WHERE p.action = 'rekeyed' AND b._record_key = p._old_key;

    INSERT INTO {dataset.table} ({columns}, _record_key, _load_id, _loaded_at)
    SELECT {selected}, p._new_key, $load_id, $loaded_at
    FROM _plan AS p JOIN {STAGED_TABLE} AS s ON s.rowid = p._line
    WHERE p.action IN ('inserted', 'updated');
    """  # noqa: S608 -- built from constants only


def merge_staged(
    con: Executes,
    dataset: Dataset,
    *,
    full: bool,
    window_start: datetime | None,
    load_id: str,
    loaded_at: datetime,
    reread: GroupReader | None,
) -> MergeCounts:
    """Upsert `staged` into the dataset's bronze table (inside the caller's transaction) and
    count the outcome.

    `full`: the staged rows are the whole dataset, so bronze rows they do not match are deleted.
    `window_start`: start of an incremental window; bronze rows inside it are paired first.
    `reread`: fetches whole groups of twins from the portal; needed by incremental merges
    (a full export already holds every group whole).
    """
    if not full and (reread is None or window_start is None):
        raise ValueError("an incremental merge needs its window start and a group reader")
    params = {"window_start": window_start, "load_id": load_id, "loaded_at": loaded_at}
    run_script(con, _existing_sql(dataset, full), params)
    fetched = Reread(groups=0, rows=0)
    if not full:
        assert reread is not None  # checked above
        run_script(con, _ambiguous_sql(), params)
        ambiguous = con.execute(f"SELECT count(*) FROM {AMBIGUOUS_TABLE}").fetchone()  # noqa: S608
        assert ambiguous is not None  # an aggregate returns one row
        if ambiguous[0]:
            fetched = reread(con, AMBIGUOUS_TABLE)
            run_script(con, _regroup_sql(), params)
    run_script(con, _plan_sql(full) + ";" + _apply_sql(dataset), params)
    planned = con.execute(
        """SELECT count(*) FILTER (action = 'inserted'),
                  count(*) FILTER (action IN ('updated', 'rekeyed')),
                  count(*) FILTER (action = 'unchanged') FROM _plan"""
    ).fetchone()
    gone = con.execute("SELECT count(*) FROM _gone").fetchone()
    assert planned is not None and gone is not None  # aggregates return one row
    inserted, updated, unchanged = planned
    deleted = gone[0]
    return MergeCounts(
        inserted=inserted,
        updated=updated,
        unchanged=unchanged,
        deleted=deleted,
        reread_groups=fetched.groups,
        reread_rows=fetched.rows,
    )


def run_script(con: Executes, script: str, params: Mapping[str, object]) -> None:
    """Execute each statement of `script`, binding the parameters it names."""
    for statement in (part.strip() for part in script.split(";")):
        if statement:
            used = {name: value for name, value in params.items() if f"${name}" in statement}
            con.execute(statement, used or None)

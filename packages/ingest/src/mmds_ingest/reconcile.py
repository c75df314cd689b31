"""Bronze against the portal at the end of every load, in both directions, with less work
than a full reload.

Compared: the number of records on each UTC day of the cursor field, on the portal (one
aggregation: `select=count(*) as n&group_by=date_format(...) as day`, beside a `total_count`
that gives the records without a day) and in bronze (one GROUP BY). A dataset without a cursor
is compared as a whole: all its records count as records without a day. Where a day differs,
the portal's records of that day are exported again (consecutive days as one range, ranges
OR-ed into batches of bounded length) and replace bronze's rows of that day: rows bronze holds
that the portal no longer has are deleted, rows it lacks are inserted, rows present on both
sides stay as they are, and every identity touched is renumbered as a fresh load numbers it.
Then the portal is asked again: agreement is claimed only when a fresh aggregation equals
bronze. When the portal keeps changing and no agreement comes after `MAX_REPAIRS` repairs,
`ReconciliationError` is raised and the caller rolls the whole load back.

All of it runs inside the caller's transaction; set-based SQL, nothing row by row in Python.
"""

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from mmds_ingest.client import PortalClient
from mmds_ingest.datasets import Dataset
from mmds_ingest.errors import ReconciliationError
from mmds_ingest.identity import (
    OCCURRENCE_ORDER,
    key_identity_sql,
    key_occurrence_sql,
    payload_columns,
    record_key_sql,
)
from mmds_ingest.interruptible import Executes, in_background
from mmds_ingest.merge import run_script
from mmds_ingest.odsql import batch_filters, day_range
from mmds_ingest.staging import Staging, payload_errors

log = logging.getLogger(__name__)

MAX_REPAIRS = 3
"""Repairs tried before giving up: each one follows a portal that changed during the last."""

REPAIR_TABLE = "_repair"
DAYS_TABLE = "_repair_days"

Counts = dict[date | None, int]
"""Records per UTC day of the cursor field; the key None counts records without one (every
record of a dataset without a cursor)."""


@dataclass(frozen=True)
class Reconciliation:
    """What the comparison found and what the repair changed."""

    bronze_count: int
    portal_count: int
    inserted: int
    deleted: int
    rekeyed: int  # rows that kept their content but changed occurrence (counted as updated)
    note: str  # one readable line for `_loads.reconciliation`

    @property
    def changed(self) -> bool:
        """Whether the repair changed bronze."""
        return bool(self.inserted or self.deleted or self.rekeyed)


def _bronze_counts(con: Executes, dataset: Dataset) -> Counts:
    rows = con.execute(
        f"SELECT CAST({dataset.cursor_sql} AS DATE), count(*) FROM {dataset.table} GROUP BY 1"  # noqa: S608 -- constants
    ).fetchall()
    return dict(rows)


def _differing(portal: Counts, held: Counts) -> list[date | None]:
    keys = set(portal) | set(held)
    return sorted(
        (key for key in keys if portal.get(key, 0) != held.get(key, 0)),
        key=lambda day: (day is not None, day or date.min),
    )


def _runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive days as (first, last) runs."""
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _describe(
    dataset: Dataset, days: list[date | None], portal: Counts, held: Counts, limit: int = 3
) -> str:
    nameless = f"no {dataset.cursor_field}" if dataset.cursor_field else "all records"
    shown = [
        f"{day or nameless}: bronze {held.get(day, 0)}, portal {portal.get(day, 0)}"
        for day in days[:limit]
    ]
    return "; ".join(shown) + ("; ..." if len(days) > limit else "")


def _apply_sql(dataset: Dataset) -> str:
    """Bronze's rows of the repaired days give way to the portal's (`REPAIR_TABLE`): rows on
    both sides (same identity, content and flags, copy for copy) stay; the others are deleted
    or inserted; every identity touched is numbered again as a fresh load numbers it."""
    identity = key_identity_sql("_record_key")
    table, cursor = dataset.table, dataset.cursor_sql
    same = (
        "f._identity = h._identity AND f._row_hash = h._row_hash "
        "AND f._quality_issues IS NOT DISTINCT FROM h._quality_issues AND f._copy = h._copy"
    )
    occurrence = (
        f"row_number() OVER (PARTITION BY _identity ORDER BY {OCCURRENCE_ORDER}, "
        f"{key_occurrence_sql('_old_key')} NULLS LAST, _line)"
    )
    columns = ", ".join(payload_columns(dataset))
    selected = ", ".join(f"s.{name}" for name in payload_columns(dataset))
    return f"""
    CREATE OR REPLACE TEMP TABLE _held AS
    SELECT _record_key, {identity} AS _identity, _row_hash, _quality_issues,
           row_number() OVER (PARTITION BY {identity}, _row_hash, _quality_issues
                              ORDER BY {key_occurrence_sql("_record_key")}) AS _copy
    FROM {table}
    WHERE CAST({cursor} AS DATE) IN (SELECT day FROM {DAYS_TABLE})
       OR ({cursor} IS NULL AND $with_nulls);

    CREATE OR REPLACE TEMP TABLE _fetched AS
    SELECT rowid AS _line, _identity, _row_hash, _quality_issues,
           row_number() OVER (PARTITION BY _identity, _row_hash, _quality_issues
                              ORDER BY rowid) AS _copy
    FROM {REPAIR_TABLE};

    CREATE OR REPLACE TEMP TABLE _gone AS
    SELECT h._record_key, h._identity FROM _held AS h ANTI JOIN _fetched AS f ON {same};

    CREATE OR REPLACE TEMP TABLE _arriving AS
    SELECT f._line, f._identity FROM _fetched AS f ANTI JOIN _held AS h ON {same};

    CREATE OR REPLACE TEMP TABLE _renumbered AS
    WITH touched AS (
        SELECT _identity FROM _gone UNION SELECT _identity FROM _arriving
    ), members AS (
        SELECT {identity} AS _identity, {cursor} AS _cursor, _row_hash, _record_key AS _old_key,
               CAST(NULL AS BIGINT) AS _line
        FROM {table}
        WHERE {identity} IN (SELECT _identity FROM touched)
          AND _record_key NOT IN (SELECT _record_key FROM _gone)
        UNION ALL
        SELECT r._identity, r._cursor, r._row_hash, NULL, a._line
        FROM _arriving AS a JOIN {REPAIR_TABLE} AS r ON r.rowid = a._line
    )
    SELECT _old_key, _line, {record_key_sql("_identity", occurrence)} AS _new_key FROM members;

    DELETE FROM {table} WHERE _record_key IN (SELECT _record_key FROM _gone);

    UPDATE {table} AS b
    SET _record_key = r._new_key, _load_id = $load_id, _loaded_at = $loaded_at
    FROM _renumbered AS r
    WHERE r._old_key IS NOT NULL AND r._old_key <> r._new_key AND b._record_key = r._old_key;

    INSERT INTO {table} ({columns}, _record_key, _load_id, _loaded_at)
    SELECT {selected}, r._new_key, $load_id, $loaded_at
    FROM _renumbered AS r JOIN {REPAIR_TABLE} AS s ON s.rowid = r._line;
    """  # noqa: S608 -- built from constants only


class Reconciler:
    """Brings the dataset's bronze table into agreement with the portal through `client`
    (see the module)."""

    def __init__(
        self,
        client: PortalClient,
        work_dir: Path,
        staging: Staging,
        *,
        load_id: str,
        loaded_at: datetime,
    ) -> None:
        self._client = client
        self._work_dir = work_dir
        self._staging = staging
        self._dataset = staging.dataset
        self._params = {"load_id": load_id, "loaded_at": loaded_at}

    def __call__(self, con: Executes) -> Reconciliation:
        """Compare bronze with the portal and repair it (inside the caller's transaction);
        raise `ReconciliationError` when they cannot be brought to agree."""
        inserted = deleted = rekeyed = fetched = 0
        first: tuple[int, int, int] | None = None  # days compared, bronze rows, portal rows
        repairs = 0
        while True:
            portal = self._portal_counts()
            held = _bronze_counts(con, self._dataset)
            differing = _differing(portal, held)
            bronze_rows, portal_rows = sum(held.values()), sum(portal.values())
            first = first or (len(set(portal) | set(held)), bronze_rows, portal_rows)
            if not differing:
                note = self._note(first, repairs, fetched, inserted, deleted, portal_rows)
                log.info("reconciled: %s", note)
                return Reconciliation(bronze_rows, portal_rows, inserted, deleted, rekeyed, note)
            if repairs == MAX_REPAIRS:
                raise ReconciliationError(
                    f"bronze could not be brought into agreement with the portal, after "
                    f"{MAX_REPAIRS} repairs {self._unit(len(differing))} still "
                    f"differ ({_describe(self._dataset, differing, portal, held)})"
                )
            log.info(
                "bronze differs from the portal on %s (%s): re-reading them",
                self._unit(len(differing)),
                _describe(self._dataset, differing, portal, held),
            )
            phase = time.perf_counter()
            rows = self._fetch(con, differing)
            log.info("re-read %d rows in %.1fs", rows, time.perf_counter() - phase)
            phase = time.perf_counter()
            added, gone, moved = self._apply(con, differing)
            log.info("replaced bronze's rows of those days in %.1fs", time.perf_counter() - phase)
            fetched += rows
            inserted, deleted, rekeyed = inserted + added, deleted + gone, rekeyed + moved
            repairs += 1

    def _unit(self, differing: int) -> str:
        if self._dataset.cursor_field is None:
            return "the record count"
        return f"{differing} day(s) of {self._dataset.cursor_field}"

    def _portal_counts(self) -> Counts:
        cursor = self._dataset.cursor_field
        if cursor is None:
            total = self._client.count()
            return {None: total} if total else {}
        # The total runs beside the aggregation: one round trip. It gives the records without
        # a day, whether or not the portal groups them itself.
        counted = in_background(self._client.count, "portal-count")
        days: Counts = dict(self._client.count_by_day(cursor).items())
        without_day = counted.result() - sum(days.values())
        if without_day:
            days[None] = without_day
        return days

    def _fetch(self, con: Executes, days: list[date | None]) -> int:
        """Export the portal's records of `days` into `REPAIR_TABLE`; return how many."""
        cursor = self._dataset.cursor_field
        filters: dict[str, str | None] = {
            f"{first}..{last}": day_range(cursor, first, last)
            for first, last in _runs(day for day in days if day is not None)
            if cursor is not None  # only a dataset with a cursor has days
        }
        if None in days:  # records without a cursor, or all of a dataset without one
            filters["null"] = f"{cursor} is null" if cursor else None
        con.execute(f"DROP TABLE IF EXISTS {REPAIR_TABLE}")
        for number, (where, _) in enumerate(batch_filters(filters)):
            path = self._work_dir / f"repair-{number}.jsonl"
            self._client.download_export(path, where=where, order_by=cursor)
            query, params = self._staging.rows_sql(path)
            verb = (
                f"INSERT INTO {REPAIR_TABLE}" if number else f"CREATE TEMP TABLE {REPAIR_TABLE} AS"
            )
            with payload_errors():
                con.execute(f"{verb} {query}", params)
            path.unlink()
        row = con.execute(f"SELECT count(*) FROM {REPAIR_TABLE}").fetchone()  # noqa: S608 -- constants
        assert row is not None  # an aggregate returns one row
        return row[0]

    def _apply(self, con: Executes, days: list[date | None]) -> tuple[int, int, int]:
        """Replace bronze's rows of `days` with `REPAIR_TABLE`; return (inserted, deleted,
        rekeyed)."""
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {DAYS_TABLE} AS SELECT unnest($days::DATE[]) AS day",
            {"days": [day for day in days if day is not None]},
        )
        run_script(con, _apply_sql(self._dataset), self._params | {"with_nulls": None in days})
        applied = con.execute(
            """SELECT (SELECT count(*) FROM _arriving), (SELECT count(*) FROM _gone),
                      (SELECT count(*) FROM _renumbered
                       WHERE _old_key IS NOT NULL AND _old_key <> _new_key)"""
        ).fetchone()
        assert applied is not None  # a SELECT of aggregates returns one row
        return applied

    def _note(
        self,
        first: tuple[int, int, int],
        repairs: int,
        fetched: int,
        inserted: int,
        deleted: int,
        portal_rows: int,
    ) -> str:
        days, bronze_before, portal_before = first
        agree = f"bronze and the portal agree: {portal_rows:,} rows"
        cursor = self._dataset.cursor_field
        compared = (
            f"counted per UTC day of {cursor} on {days:,} days" if cursor else "counted in all"
        )
        differed = "of the days that differed" if cursor else "of the dataset"
        if not repairs:
            return f"{agree}, {compared}"
        return (
            f"{compared}: bronze held {bronze_before:,} rows, the portal {portal_before:,}; "
            f"re-read {fetched:,} rows {differed}, deleted {deleted:,} and "
            f"inserted {inserted:,}"
            + (f" in {repairs} repairs" if repairs > 1 else "")
            + f"; then {agree}"
        )

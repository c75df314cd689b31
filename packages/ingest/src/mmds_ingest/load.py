"""One load of one dataset from the portal into bronze: decide the mode, download, stage,
merge, reconcile with the portal, and commit data, audit row and cursor in one transaction."""

import logging
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from mmds_ingest import bronze
from mmds_ingest.client import Metadata, PortalClient
from mmds_ingest.datasets import SERVICE_REQUESTS, Dataset
from mmds_ingest.errors import ReconciliationError
from mmds_ingest.fresh_load import load_into_empty
from mmds_ingest.interruptible import Connection
from mmds_ingest.merge import MergeCounts, merge_staged
from mmds_ingest.odsql import since
from mmds_ingest.progress import ProgressCallback, Reporter
from mmds_ingest.reconcile import Reconciler
from mmds_ingest.schema import change_token, check_fields, portal_clock
from mmds_ingest.settings import IngestSettings
from mmds_ingest.staging import StageSummary, Staging
from mmds_ingest.twin_groups import GroupRereader
from mmds_ingest.warehouses import Warehouse, open_warehouse

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadResult:
    """What one committed load did."""

    dataset: str  # the dataset's id, e.g. "3-1-1-service-requests"
    load_id: str
    mode: str  # "full" or "incremental"
    status: str  # "succeeded" or "skipped"
    rows_received: int
    rows_inserted: int
    rows_updated: int
    rows_unchanged: int
    rows_flagged: int
    rows_deleted: int
    cursor_before: datetime | None
    cursor_after: datetime | None
    portal_total: int | None
    seconds: float
    message: str | None = None
    bronze_count: int | None = None  # rows in the dataset's bronze table after the load
    reconciliation: str | None = None  # what was compared with the portal, what was repaired

    def as_dict(self) -> dict[str, object]:
        """The result as plain values (for logs, Dagster metadata, JSON)."""
        return asdict(self)


def run_load(
    settings: IngestSettings,
    *,
    dataset: Dataset = SERVICE_REQUESTS,
    full_refresh: bool = False,
    on_progress: ProgressCallback | None = None,
) -> LoadResult:
    """Load one dataset and return what the load did; raise an `IngestError` and change nothing
    if it fails.

    Full when asked, when bronze has no cursor for the dataset yet, or always for a dataset
    without a cursor; else incremental from the cursor minus the lookback. The download is
    skipped when the portal's change token has not moved. Every load ends by bringing bronze
    into agreement with the portal (`reconcile.py`); the load is recorded as skipped only when
    it changed nothing at all. `on_progress` hears of each phase and of the download's rows and
    bytes (`mmds_ingest.progress`).

    A stop reaching the calling thread (`KeyboardInterrupt`, or any `BaseException` a framework
    raises there) ends the load within a second or two, rolled back and cleaned up; it is
    re-raised with a note saying where the load stopped.
    """
    started_clock = time.perf_counter()
    started_at = datetime.now(UTC)
    load_id = f"{started_at:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    tmp_dir = settings.tmp_dir
    reporter = Reporter(dataset.id, on_progress)
    warehouse = open_warehouse(settings)
    try:
        reporter.enter("metadata")
        con = warehouse.begin(dataset, full_refresh)
    except BaseException as error:
        warehouse.close(committed=False)
        _note_stop(error, reporter, committed=False)
        raise
    load: _Load | None = None
    try:
        shutil.rmtree(tmp_dir, ignore_errors=True)  # a killed load's leftovers; we hold the lock
        bronze.make_folder(tmp_dir)
        state = bronze.read_state(con, dataset)
        with PortalClient(settings, dataset) as client:
            metadata = client.metadata()
            drift = check_fields(metadata.body, dataset)
            if drift:
                log.warning(drift)
            staging = Staging(dataset, _latest_allowed(metadata, settings.clock_skew_minutes))
            cursor, repair = _trusted_cursor(con, dataset, state.cursor, staging.latest)
            full = full_refresh or cursor is None
            log.info(
                "load %s of %s: %s (cursor %s)",
                load_id,
                dataset.id,
                "full" if full else "incremental",
                cursor,
            )
            token = change_token(metadata.body)
            load = _Load(
                warehouse,
                con,
                client,
                reporter,
                tmp_dir,
                staging,
                state,
                cursor,
                full,
                started_clock,
                audit={
                    "dataset": dataset.id,
                    "load_id": load_id,
                    "mode": "full" if full else "incremental",
                    "source_url": client.dataset_url,
                    "cursor_before": state.cursor,
                    "change_token": token,
                    "started_at": started_at,
                    "message": _join(warehouse.note, drift, repair),
                },
            )
            # A dataset without a cursor is loaded whole each time, unless it has not changed.
            incremental = not full or dataset.cursor_field is None
            if incremental and not full_refresh and token and token == state.change_token:
                return load.commit(None)

            window_start: datetime | None = None
            where: str | None = None
            if not full:
                assert cursor is not None and dataset.cursor_field is not None  # else it is full
                window_start = _window_start(cursor, settings.lookback_days)
                where = since(dataset.cursor_field, window_start)
            portal_total = client.count()
            expected = portal_total if full else client.count(where)
            load.audit |= {"window_start": window_start, "portal_total_count": portal_total}
            reporter.enter("download", expected)
            if bronze.is_empty(con, dataset):  # insert parts while the rest downloads
                fresh = partial(
                    _load_fresh,
                    con,
                    client,
                    tmp_dir,
                    where=where,
                    part_bytes=settings.export_part_bytes,
                    reporter=reporter,
                    load_id=load_id,
                    expected=expected,
                    staging=staging,
                )
                return load.commit(fresh)
            export = client.download_export(
                tmp_dir / f"{load_id}.jsonl",
                where=where,
                order_by=dataset.cursor_field,
                on_progress=reporter.received,
            )
            reporter.enter("merge")
            assert export.path is not None  # download_export writes to a file
            staged_merge = partial(
                _stage_and_merge,
                con,
                export.path,
                full=full,
                window_start=window_start,
                load_id=load_id,
                reread=GroupRereader(client, tmp_dir, staging),  # a merge may need twin groups
                expected=expected,
                staging=staging,
            )
            return load.commit(staged_merge)
    except BaseException as error:
        committed = load is not None and load.committed
        warehouse.close(committed)
        _note_stop(error, reporter, committed)
        raise
    finally:
        warehouse.close(committed=load is not None and load.committed)
        shutil.rmtree(tmp_dir, ignore_errors=True)


def _note_stop(error: BaseException, reporter: Reporter, committed: bool) -> None:
    """Say on a stop (not an error: Ctrl-C, SIGTERM, a framework's interruption) where the load
    was, and what became of it."""
    if isinstance(error, Exception):
        return
    if committed:
        error.add_note(f"stopped after the load of {reporter.dataset} committed: it is complete")
    else:
        error.add_note(
            f"stopped during the {reporter.phase} of {reporter.dataset}: nothing was committed"
        )


def _latest_allowed(metadata: Metadata, skew_minutes: float) -> datetime:
    """The latest instant a record may carry: the portal's clock plus the skew allowance
    (this machine's clock when the portal gives none)."""
    clock = portal_clock(metadata)
    if clock is None:
        log.warning("the portal gave no clock (metadata dates, Date header); using this machine's")
        clock = datetime.now(UTC)
    return clock + timedelta(minutes=skew_minutes)


def _trusted_cursor(
    con: Connection, dataset: Dataset, cursor: datetime | None, latest: datetime
) -> tuple[datetime | None, str | None]:
    """The cursor, or, when an earlier load moved it past the portal's clock, the newest change
    in bronze that is not in the future, with a note saying so."""
    if cursor is None or cursor <= latest:
        return cursor, None
    field = dataset.cursor_field
    newest = con.execute(
        f"SELECT max({field}) FROM {dataset.table} WHERE {field} <= ?",  # noqa: S608 -- constants
        [latest],
    ).fetchone()
    assert newest is not None  # an aggregate returns one row
    repaired = newest[0]
    outcome = (
        f"repaired to {repaired.isoformat()}, the newest change in bronze not in the future"
        if repaired is not None
        else "no change in bronze is older, so this load is full"
    )
    note = (
        f"the cursor {cursor.isoformat()} lay beyond the portal's clock (latest allowed "
        f"{latest.isoformat(timespec='seconds')}): {outcome}"
    )
    log.warning(note)
    return repaired, note


Fill = Callable[[datetime], tuple[StageSummary, MergeCounts]]
"""Brings the export into bronze (given the load's instant) and says what it did."""


@dataclass
class _Load:
    """One load's context, from the metadata to the commit."""

    warehouse: Warehouse
    con: Connection
    client: PortalClient
    reporter: Reporter
    tmp_dir: Path
    staging: Staging
    state: bronze.State
    cursor: datetime | None  # the trusted cursor the window starts from
    full: bool
    started_clock: float
    audit: dict[str, Any]  # the audit row's columns, of their several types
    committed: bool = False

    def commit(self, fill: Fill | None) -> LoadResult:
        """Run `fill` (None: the download is skipped), reconcile bronze with the portal, record
        the load and commit the transaction begun with the warehouse; roll everything back on
        any error or stop."""
        con, audit, dataset = self.con, self.audit, self.staging.dataset
        load_id = str(audit["load_id"])
        try:
            loaded_at = datetime.now(UTC)
            staged, counts = fill(loaded_at) if fill else (_NOTHING_STAGED, _NOTHING_MERGED)
            self.reporter.enter("reconcile")
            lifted = self.staging.lift_future_flags(con, load_id=load_id, loaded_at=loaded_at)
            reconciled = Reconciler(
                self.client, self.tmp_dir, self.staging, load_id=load_id, loaded_at=loaded_at
            )(con)
            newest = _latest(staged.newest, lifted.newest)
            cursor_after = newest if self.full else _latest(self.cursor, newest)
            changed = (
                fill is not None
                or bool(lifted.rows)
                or reconciled.changed
                or cursor_after != self.state.cursor
            )
            notes = [audit.get("message"), _reread_note(counts)]
            if fill is None:
                notes.append("change token unchanged; download skipped")
            audit |= {
                "status": "succeeded" if changed else "skipped",
                "window_end": newest,
                "rows_received": staged.rows,
                "rows_inserted": counts.inserted + reconciled.inserted,
                "rows_updated": counts.updated + lifted.rows + reconciled.rekeyed,
                "rows_unchanged": counts.unchanged,
                "rows_flagged": staged.flagged,
                "rows_deleted": counts.deleted + reconciled.deleted,
                "portal_total_count": reconciled.portal_count,
                "bronze_count": reconciled.bronze_count,
                "reconciliation": reconciled.note,
                "cursor_after": cursor_after,
                "message": _join(*notes),
            }
            audit["finished_at"] = datetime.now(UTC)
            bronze.record_load(con, audit)
            if changed:
                state = bronze.State(cursor_after, audit["change_token"], load_id)
                bronze.write_state(con, dataset, state, audit["finished_at"])
            self.reporter.enter("commit")
            phase = time.perf_counter()
            self.warehouse.commit(con, load_id)
            self.committed = True
            log.info("committed in %.1fs", _since_clock(phase))
        except BaseException:
            self.committed = self.warehouse.roll_back(con, load_id)
            raise
        # Writing a large load out takes seconds at its commit: the audit row then learns when
        # the commit returned (a kill or an error here leaves the instant just before it).
        audit["finished_at"] = self.warehouse.mark_finished(con, load_id) or audit["finished_at"]
        result = _result(audit, self.started_clock)
        self.reporter.enter("done")
        log.info(
            "load %s of %s %s: %d received, %d inserted, %d updated, %d unchanged, %d flagged, "
            "%d deleted in %.1fs",
            result.load_id,
            result.dataset,
            "committed" if changed else "skipped (the portal has not changed)",
            result.rows_received,
            result.rows_inserted,
            result.rows_updated,
            result.rows_unchanged,
            result.rows_flagged,
            result.rows_deleted,
            result.seconds,
        )
        return result


_NOTHING_STAGED = StageSummary(rows=0, flagged=0, newest=None)
_NOTHING_MERGED = MergeCounts(inserted=0, updated=0, unchanged=0, deleted=0)


def _reread_note(counts: MergeCounts) -> str | None:
    if not counts.reread_groups:
        return None
    return (
        f"re-read {counts.reread_groups} group(s) of records sharing every identity field "
        f"({counts.reread_rows} rows) to settle which of them changed"
    )


def _load_fresh(
    con: Connection,
    client: PortalClient,
    tmp_dir: Path,
    loaded_at: datetime,
    *,
    where: str | None,
    part_bytes: int,
    reporter: Reporter,
    load_id: str,
    expected: int,
    staging: Staging,
) -> tuple[StageSummary, MergeCounts]:
    phase = time.perf_counter()
    staged = load_into_empty(
        con,
        client,
        tmp_dir,
        where=where,
        order_by=staging.dataset.cursor_field,
        part_bytes=part_bytes,
        on_progress=reporter.received,
        load_id=load_id,
        loaded_at=loaded_at,
        staging=staging,
    )
    log.info("downloaded and loaded %d rows into bronze in %.1fs", staged.rows, _since_clock(phase))
    _reconcile_received(staged.rows, expected)
    return staged, MergeCounts(inserted=staged.rows, updated=0, unchanged=0, deleted=0)


def _stage_and_merge(
    con: Connection,
    path: Path,
    loaded_at: datetime,
    *,
    full: bool,
    window_start: datetime | None,
    load_id: str,
    reread: GroupRereader,
    expected: int,
    staging: Staging,
) -> tuple[StageSummary, MergeCounts]:
    phase = time.perf_counter()
    staged = staging.stage(con, path)
    log.info("staged %d rows in %.1fs", staged.rows, _since_clock(phase))
    _reconcile_received(staged.rows, expected)
    phase = time.perf_counter()
    counts = merge_staged(
        con,
        staging.dataset,
        full=full,
        window_start=window_start,
        load_id=load_id,
        loaded_at=loaded_at,
        reread=reread,
    )
    log.info("merged into bronze in %.1fs", _since_clock(phase))
    return staged, counts


def _reconcile_received(received: int, expected: int) -> None:
    if received != expected:
        raise ReconciliationError(
            f"the portal counted {expected} matching records at the start of the export "
            f"but sent {received}"
        )


def _since_clock(started: float) -> float:
    return time.perf_counter() - started


def _result(audit: dict[str, Any], started_clock: float) -> LoadResult:
    return LoadResult(
        dataset=str(audit["dataset"]),
        load_id=str(audit["load_id"]),
        mode=str(audit["mode"]),
        status=str(audit["status"]),
        rows_received=int(audit.get("rows_received") or 0),
        rows_inserted=int(audit.get("rows_inserted") or 0),
        rows_updated=int(audit.get("rows_updated") or 0),
        rows_unchanged=int(audit.get("rows_unchanged") or 0),
        rows_flagged=int(audit.get("rows_flagged") or 0),
        rows_deleted=int(audit.get("rows_deleted") or 0),
        cursor_before=audit.get("cursor_before"),
        cursor_after=audit.get("cursor_after"),
        portal_total=audit.get("portal_total_count"),
        seconds=round(time.perf_counter() - started_clock, 3),
        message=audit.get("message"),
        bronze_count=audit.get("bronze_count"),
        reconciliation=audit.get("reconciliation"),
    )


def _window_start(cursor: datetime, lookback_days: float) -> datetime:
    start = cursor - timedelta(days=lookback_days)
    return start.replace(microsecond=0)  # earlier, never later: `>=` still covers the cursor


def _latest(first: datetime | None, second: datetime | None) -> datetime | None:
    present = [value for value in (first, second) if value is not None]
    return max(present) if present else None


def _join(*parts: object) -> str | None:
    text = "; ".join(str(part) for part in parts if part)
    return text or None

"""One load from the portal into bronze: decide the mode, download, stage, merge, and commit
data, audit row and cursor in one transaction."""

import logging
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import duckdb

from mmds_ingest import bronze
from mmds_ingest.client import PortalClient, ProgressCallback
from mmds_ingest.errors import ReconciliationError
from mmds_ingest.fresh_load import load_into_empty
from mmds_ingest.merge import GroupReader, MergeCounts, merge_staged
from mmds_ingest.progress import download_progress
from mmds_ingest.schema import change_token, check_fields
from mmds_ingest.settings import IngestSettings
from mmds_ingest.staging import StageSummary, stage_export
from mmds_ingest.twin_groups import GroupRereader

log = logging.getLogger(__name__)

CURSOR_FIELD = "last_modified_timestamp"
TMP_DIR = "tmp"


@dataclass(frozen=True)
class LoadResult:
    """What one committed load did."""

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

    def as_dict(self) -> dict[str, object]:
        """The result as plain values (for logs, Dagster metadata, JSON)."""
        return asdict(self)


def run_load(settings: IngestSettings, full_refresh: bool = False) -> LoadResult:
    """Run one load and return what it did; raise an `IngestError` and change nothing if it fails.

    Full when asked or when bronze has no cursor yet, else incremental from the cursor minus
    the lookback. Skipped (and recorded) when the portal's change token has not moved.
    """
    started_clock = time.perf_counter()
    started_at = datetime.now(UTC)
    load_id = f"{started_at:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    tmp_dir = settings.data_dir / TMP_DIR
    con = bronze.connect(
        settings.warehouse_path,
        lock_wait_seconds=settings.lock_wait_seconds,
        memory_limit=settings.duckdb_memory_limit,
        temp_dir=tmp_dir / "duckdb",
    )
    try:
        _reset_tmp(tmp_dir)  # leftovers of a killed load; safe, we hold the write lock
        bronze.ensure_schema(con)
        state = bronze.read_state(con)
        full = full_refresh or state.cursor is None
        mode = "full" if full else "incremental"
        log.info("load %s: %s (cursor %s)", load_id, mode, state.cursor)
        with PortalClient(settings) as client:
            metadata = client.metadata()
            drift = check_fields(metadata)
            if drift:
                log.warning(drift)
            token = change_token(metadata)
            audit = {
                "load_id": load_id,
                "mode": mode,
                "source_url": client.dataset_url,
                "cursor_before": state.cursor,
                "change_token": token,
                "started_at": started_at,
                "message": drift,
            }
            if not full and token is not None and token == state.change_token:
                return _record_skip(con, audit, state, started_clock)

            window_start = None if full else _window_start(state.cursor, settings.lookback_days)
            where = None if window_start is None else _since(window_start)
            portal_total = client.count()
            expected = portal_total if full else client.count(where)
            audit |= {"window_start": window_start, "portal_total_count": portal_total}
            if bronze.is_empty(con):  # the first load: insert parts while the rest downloads
                with download_progress(expected) as progress:
                    fresh = partial(
                        _load_fresh,
                        con,
                        client,
                        tmp_dir,
                        where=where,
                        part_bytes=settings.export_part_bytes,
                        on_progress=progress,
                        load_id=load_id,
                        expected=expected,
                    )
                    return _commit_export(con, audit, state, full, started_clock, fresh)
            with download_progress(expected) as progress:
                export = client.download_export(
                    tmp_dir / f"{load_id}.jsonl",
                    where=where,
                    order_by=CURSOR_FIELD,
                    on_progress=progress,
                )
            staged_merge = partial(
                _stage_and_merge,
                con,
                export.path,
                full=full,
                window_start=window_start,
                load_id=load_id,
                reread=GroupRereader(client, tmp_dir),  # a merge may need whole twin groups
                expected=expected,
            )
            return _commit_export(con, audit, state, full, started_clock, staged_merge)
    finally:
        con.close()
        shutil.rmtree(tmp_dir, ignore_errors=True)


def _commit_export(
    con: duckdb.DuckDBPyConnection,
    audit: dict[str, object],
    state: bronze.State,
    full: bool,
    started_clock: float,
    fill: Callable[[datetime], tuple[StageSummary, MergeCounts]],
) -> LoadResult:
    """Run `fill(loaded_at)` (bring the export into bronze and check the rows received), then
    record the load and commit."""
    con.execute("BEGIN TRANSACTION")
    try:
        finished_at = datetime.now(UTC)
        staged, counts = fill(finished_at)
        batch_max = staged.newest
        cursor_after = batch_max if full else _latest(state.cursor, batch_max)
        if full:
            held = con.execute("SELECT count(*) FROM bronze.service_requests").fetchone()[0]
            if held != audit["portal_total_count"]:
                raise ReconciliationError(
                    f"after the full load bronze holds {held} rows but the portal counted "
                    f"{audit['portal_total_count']}; nothing was committed: run the load again"
                )
        audit |= {
            "status": "succeeded",
            "window_end": batch_max,
            "rows_received": staged.rows,
            "rows_inserted": counts.inserted,
            "rows_updated": counts.updated,
            "rows_unchanged": counts.unchanged,
            "rows_flagged": staged.flagged,
            "rows_deleted": counts.deleted,
            "cursor_after": cursor_after,
            "finished_at": finished_at,
            "message": _join(audit.get("message"), _reread_note(counts)),
        }
        bronze.record_load(con, audit)
        bronze.write_state(
            con,
            bronze.State(cursor_after, audit["change_token"], str(audit["load_id"])),
            finished_at,
        )
        phase = time.perf_counter()
        con.execute("COMMIT")
        log.info("committed in %.1fs", _since_clock(phase))
    except BaseException:
        con.execute("ROLLBACK")
        raise
    result = _result(audit, started_clock)
    log.info(
        "load %s committed: %d received, %d inserted, %d updated, %d unchanged, %d flagged, "
        "%d deleted in %.1fs",
        result.load_id,
        result.rows_received,
        result.rows_inserted,
        result.rows_updated,
        result.rows_unchanged,
        result.rows_flagged,
        result.rows_deleted,
        result.seconds,
    )
    return result


def _reread_note(counts: MergeCounts) -> str | None:
    if not counts.reread_groups:
        return None
    return (
        f"re-read {counts.reread_groups} group(s) of records sharing every identity field "
        f"({counts.reread_rows} rows) to settle which of them changed"
    )


def _load_fresh(
    con: duckdb.DuckDBPyConnection,
    client: PortalClient,
    tmp_dir: Path,
    loaded_at: datetime,
    *,
    where: str | None,
    part_bytes: int,
    on_progress: ProgressCallback,
    load_id: str,
    expected: int,
) -> tuple[StageSummary, MergeCounts]:
    phase = time.perf_counter()
    staged = load_into_empty(
        con,
        client,
        tmp_dir,
        where=where,
        order_by=CURSOR_FIELD,
        part_bytes=part_bytes,
        on_progress=on_progress,
        load_id=load_id,
        loaded_at=loaded_at,
    )
    log.info("downloaded and loaded %d rows into bronze in %.1fs", staged.rows, _since_clock(phase))
    _reconcile_received(staged.rows, expected)
    return staged, MergeCounts(inserted=staged.rows, updated=0, unchanged=0, deleted=0)


def _stage_and_merge(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    loaded_at: datetime,
    *,
    full: bool,
    window_start: datetime | None,
    load_id: str,
    reread: GroupReader,
    expected: int,
) -> tuple[StageSummary, MergeCounts]:
    phase = time.perf_counter()
    staged = stage_export(con, path)
    log.info("staged %d rows in %.1fs", staged.rows, _since_clock(phase))
    _reconcile_received(staged.rows, expected)
    phase = time.perf_counter()
    counts = merge_staged(
        con,
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
            f"but sent {received}; it probably changed meanwhile: run the load again"
        )


def _since_clock(started: float) -> float:
    return time.perf_counter() - started


def _record_skip(
    con: duckdb.DuckDBPyConnection,
    audit: dict[str, object],
    state: bronze.State,
    started_clock: float,
) -> LoadResult:
    audit |= {
        "status": "skipped",
        "cursor_after": state.cursor,
        "finished_at": datetime.now(UTC),
        "message": _join(audit.get("message"), "change token unchanged; download skipped"),
    }
    con.execute("BEGIN TRANSACTION")
    try:
        bronze.record_load(con, audit)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    log.info("load %s skipped: the portal has not changed since the last load", audit["load_id"])
    return _result(audit, started_clock)


def _result(audit: dict[str, object], started_clock: float) -> LoadResult:
    return LoadResult(
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
    )


def _window_start(cursor: datetime, lookback_days: float) -> datetime:
    start = cursor - timedelta(days=lookback_days)
    return start.replace(microsecond=0)  # earlier, never later: `>=` still covers the cursor


def _since(instant: datetime) -> str:
    """ODSQL filter with an explicit UTC offset (the portal's reading of bare dates is unsure)."""
    iso = instant.astimezone(UTC).isoformat(timespec="seconds")
    return f"{CURSOR_FIELD} >= date'{iso}'"


def _latest(first: datetime | None, second: datetime | None) -> datetime | None:
    present = [value for value in (first, second) if value is not None]
    return max(present) if present else None


def _join(*parts: object) -> str | None:
    text = "; ".join(str(part) for part in parts if part)
    return text or None


def _reset_tmp(tmp_dir: Path) -> None:
    shutil.rmtree(tmp_dir, ignore_errors=True)
    tmp_dir.mkdir(parents=True, exist_ok=True)

"""The `mmds-ingest` command: load, status, history, and the fake portal."""

import logging
import signal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from mmds_ingest import __version__, bronze
from mmds_ingest.console import LoadDisplay
from mmds_ingest.errors import IngestError
from mmds_ingest.fake_portal.cli import fake_portal
from mmds_ingest.load import run_load
from mmds_ingest.settings import IngestSettings

EXAMPLES = """Examples:

\b
  mmds-ingest load                     load what changed on the portal (all on the first run)
  mmds-ingest load --full-refresh      reload everything, rebuilding a damaged warehouse
  mmds-ingest status                   the cursor, the rows and the last loads
  mmds-ingest history --limit 5        the last five loads and how long each took
  mmds-ingest fake-portal --rows 1000  serve a fake portal (prints its URL)
  MMDS_DATA_DIR=/srv/mmds MMDS_PORTAL_URL=http://127.0.0.1:8000 mmds-ingest load

Other settings (timeouts, retries, lookback) are MMDS_* variables; see the package README.
"""

# Plain help (no rich panels): typer's rich help shows a `<bool>` type beside every flag.
app = typer.Typer(
    epilog=EXAMPLES,
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)
app.command("fake-portal", epilog=EXAMPLES)(fake_portal)

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

DataDir = Annotated[
    Path | None,
    typer.Option(
        envvar="MMDS_DATA_DIR",
        metavar="FOLDER",
        help="Folder of warehouse.duckdb.  [default: ./data]",
    ),
]
PortalUrl = Annotated[
    str | None,
    typer.Option(
        envvar="MMDS_PORTAL_URL",
        metavar="URL",
        help="The portal's site root.  [default: https://opendata.vancouver.ca]",
    ),
]


def _show_version(value: bool) -> None:
    if value:
        out.print(f"mmds-ingest {__version__}")
        raise typer.Exit


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Load the City of Vancouver's 3-1-1 requests from its portal into DuckDB bronze."""


def _settings(data_dir: Path | None, portal_url: str | None = None) -> IngestSettings:
    overrides: dict[str, object] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if portal_url is not None:
        overrides["portal_url"] = portal_url
    try:
        return IngestSettings(**overrides)
    except IngestError as invalid:
        raise _fail(invalid) from None


class _Terminated(BaseException):
    """SIGTERM, raised in the loading thread so that the load stops as it does on Ctrl-C."""


def _terminate(signum: int, frame: object) -> None:
    raise _Terminated


def _fail(error: Exception) -> typer.Exit:
    err.print(f"[bold red]error:[/] {error}")
    return typer.Exit(code=1)


@app.command(epilog=EXAMPLES)
def load(
    full_refresh: Annotated[
        bool,
        typer.Option(
            "--full-refresh",
            help="Reload the whole dataset; a warehouse that is not a DuckDB file is moved "
            "aside and rebuilt.",
        ),
    ] = False,
    data_dir: DataDir = None,
    portal_url: PortalUrl = None,
) -> None:
    """Load new and changed requests from the portal (everything on the first run)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise
    settings = _settings(data_dir, portal_url)
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        with LoadDisplay(err) as display:
            result = run_load(settings, full_refresh=full_refresh, on_progress=display)
    except IngestError as error:
        raise _fail(error) from None
    except (KeyboardInterrupt, _Terminated) as stop:
        notes = getattr(stop, "__notes__", None)
        where = notes[-1] if notes else "stopped before the load began"
        err.print(f"interrupted: {where}; run `mmds-ingest load` again to resume")
        raise typer.Exit(code=130 if isinstance(stop, KeyboardInterrupt) else 143) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    out.print(
        f"load {result.load_id}: {result.mode}, {result.status} in {result.seconds:.1f}s\n"
        f"  received {result.rows_received:,}  inserted {result.rows_inserted:,}  "
        f"updated {result.rows_updated:,}  unchanged {result.rows_unchanged:,}  "
        f"flagged {result.rows_flagged:,}  deleted {result.rows_deleted:,}\n"
        f"  cursor {result.cursor_before} -> {result.cursor_after}\n"
        f"  portal total {result.portal_total if result.portal_total is not None else '-'}"
        f"  bronze {result.bronze_count if result.bronze_count is not None else '-'}"
        + (f"\n  reconciliation: {result.reconciliation}" if result.reconciliation else "")
        + (f"\n  note: {result.message}" if result.message else "")
    )


def _open_read_only(settings: IngestSettings):
    path = settings.warehouse_path
    if not path.exists():
        raise _fail(IngestError(f"no warehouse at {path} yet", "run `mmds-ingest load` first"))
    try:
        con = bronze.connect(path, read_only=True)
        with bronze.unreadable_as_corrupt(path):
            exists = bronze.bronze_exists(con)
    except IngestError as error:
        raise _fail(error) from None
    if not exists:
        con.close()
        raise _fail(IngestError(f"{path} has no bronze tables yet", "run `mmds-ingest load`"))
    return con


@app.command(epilog=EXAMPLES)
def status(data_dir: DataDir = None) -> None:
    """Show the cursor, the row counts and the last loads."""
    settings = _settings(data_dir)
    con = _open_read_only(settings)
    try:
        state = bronze.read_state(con)
        rows, flagged = con.execute(
            "SELECT count(*), count(_quality_issues) FROM bronze.service_requests"
        ).fetchone()
        loads = con.execute("SELECT count(*) FROM bronze._loads").fetchone()[0]
        reconciled = (
            con.execute(
                "SELECT reconciliation FROM bronze._loads WHERE reconciliation IS NOT NULL "
                "ORDER BY started_at DESC LIMIT 1"
            ).fetchone()
            if "reconciliation" in bronze.load_columns(con)  # a warehouse of 0.3.0 lacks it
            else None
        )
    finally:
        con.close()
    out.print(f"warehouse   {settings.warehouse_path}")
    out.print(f"cursor      {state.cursor or '(none: the next load is full)'}")
    out.print(f"last load   {state.load_id or '(none)'}")
    out.print(f"rows        {rows:,} ({flagged:,} flagged)")
    out.print(f"loads       {loads:,}")
    out.print(f"reconciled  {reconciled[0] if reconciled else '(not yet)'}")
    _print_loads(settings, limit=5)


@app.command(epilog=EXAMPLES)
def history(
    limit: Annotated[int, typer.Option(min=1, help="How many loads to show.")] = 20,
    data_dir: DataDir = None,
) -> None:
    """List past loads, newest first."""
    _print_loads(_settings(data_dir), limit=limit)


def _print_loads(settings: IngestSettings, limit: int) -> None:
    con = _open_read_only(settings)
    try:
        rows = con.execute(
            """SELECT load_id, mode, status, rows_received, rows_inserted, rows_updated,
                      rows_flagged, rows_deleted, cursor_after,
                      round(epoch(finished_at - started_at), 1), message
               FROM bronze._loads ORDER BY started_at DESC LIMIT ?""",
            [limit],
        ).fetchall()
    finally:
        con.close()
    out.print(
        f"{'load':<27} {'mode':<11} {'status':<9} {'received':>9} {'inserted':>9} "
        f"{'updated':>8} {'deleted':>8} {'flagged':>8} {'seconds':>8}  cursor after / message"
    )
    for row in rows:
        load_id, mode, state, received, inserted, updated, flagged, deleted = row[:8]
        cursor_after, seconds, message = row[8:]
        out.print(
            f"{load_id:<27} {mode:<11} {state:<9} {received or 0:>9,} {inserted or 0:>9,} "
            f"{updated or 0:>8,} {deleted or 0:>8,} {flagged or 0:>8,} {seconds:>8}  "
            f"{cursor_after}" + (f"  ({message})" if message else "")
        )

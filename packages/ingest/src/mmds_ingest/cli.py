"""The `mmds-ingest` command: load, status, history, and the fake portal."""

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from mmds_ingest import bronze
from mmds_ingest.errors import IngestError
from mmds_ingest.fake_portal.cli import fake_portal
from mmds_ingest.load import run_load
from mmds_ingest.settings import IngestSettings

app = typer.Typer(
    help="mmds ingestion: load the City of Vancouver's 3-1-1 requests into DuckDB bronze.",
    no_args_is_help=True,
)
app.command("fake-portal")(fake_portal)

out = Console()
err = Console(stderr=True)

DataDir = Annotated[
    Path | None, typer.Option(help="Folder of warehouse.duckdb [env: MMDS_DATA_DIR].")
]
PortalUrl = Annotated[
    str | None, typer.Option(help="The portal's site root [env: MMDS_PORTAL_URL].")
]


def _settings(data_dir: Path | None, portal_url: str | None = None) -> IngestSettings:
    overrides: dict[str, object] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if portal_url is not None:
        overrides["portal_url"] = portal_url
    return IngestSettings(**overrides)


def _fail(error: Exception) -> typer.Exit:
    err.print(f"[bold red]error:[/] {error}", highlight=False)
    return typer.Exit(code=1)


@app.command()
def load(
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="Reload the whole dataset.")
    ] = False,
    data_dir: DataDir = None,
    portal_url: PortalUrl = None,
) -> None:
    """Load new and changed requests from the portal (everything on the first run)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        result = run_load(_settings(data_dir, portal_url), full_refresh=full_refresh)
    except IngestError as error:
        raise _fail(error) from None
    table = Table(title=f"load {result.load_id}: {result.mode}, {result.status}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for name, value in result.as_dict().items():
        if name not in ("load_id", "mode", "status") and value is not None:
            table.add_row(name, f"{value:,}" if isinstance(value, int) else str(value))
    out.print(table)


def _open_read_only(settings: IngestSettings):
    path = settings.warehouse_path
    if not path.exists():
        raise _fail(IngestError(f"no warehouse at {path} yet: run `mmds-ingest load` first"))
    try:
        con = bronze.connect(path, read_only=True)
    except IngestError as error:
        raise _fail(error) from None
    if not bronze.bronze_exists(con):
        con.close()
        raise _fail(IngestError(f"{path} has no bronze tables yet: run `mmds-ingest load`"))
    return con


@app.command()
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
    finally:
        con.close()
    out.print(f"warehouse   {settings.warehouse_path}")
    out.print(f"cursor      {state.cursor or '(none: the next load is full)'}")
    out.print(f"last load   {state.load_id or '(none)'}")
    out.print(f"rows        {rows:,} ({flagged:,} flagged)")
    out.print(f"loads       {loads:,}")
    _print_loads(settings, limit=5)


@app.command()
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
                      rows_unchanged, rows_flagged, rows_deleted, cursor_after,
                      round(epoch(finished_at - started_at), 1), message
               FROM bronze._loads ORDER BY started_at DESC LIMIT ?""",
            [limit],
        ).fetchall()
    finally:
        con.close()
    table = Table(title="loads (newest first)")
    for name in (
        "load",
        "mode",
        "status",
        "received",
        "inserted",
        "updated",
        "unchanged",
        "flagged",
        "deleted",
        "cursor after",
        "seconds",
        "message",
    ):
        table.add_column(name)
    for row in rows:
        table.add_row(*("" if value is None else str(value) for value in row))
    out.print(table)

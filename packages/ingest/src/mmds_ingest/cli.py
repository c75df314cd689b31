"""The `mmds-ingest` command: load, status, history, and the fake portal."""

import logging
import signal
from pathlib import Path
from typing import Annotated

import duckdb
import typer
from rich.console import Console

from mmds_ingest import __version__, bronze
from mmds_ingest.console import LoadDisplay
from mmds_ingest.datasets import (
    BRONZE_SCHEMA,
    DATASETS,
    SERVICE_REQUESTS,
    Dataset,
    dataset_by_id,
)
from mmds_ingest.errors import IngestError
from mmds_ingest.fake_portal.cli import fake_portal
from mmds_ingest.load import LoadResult, run_load
from mmds_ingest.settings import DEFAULT_DATA_DIR, DEFAULT_PORTAL_URL, IngestSettings

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
        help=f"Folder of warehouse.duckdb.  [default: ./{DEFAULT_DATA_DIR}]",
    ),
]
PortalUrl = Annotated[
    str | None,
    typer.Option(
        envvar="MMDS_PORTAL_URL",
        metavar="URL",
        help=f"The portal's site root.  [default: {DEFAULT_PORTAL_URL}]",
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


def _fail(error: Exception | str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {error}")
    return typer.Exit(code=1)


def _datasets(dataset_id: str | None) -> tuple[Dataset, ...]:
    if dataset_id is None:
        return DATASETS
    try:
        return (dataset_by_id(dataset_id),)
    except ValueError as unknown:
        raise typer.BadParameter(str(unknown), param_hint="--dataset") from None


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
    dataset: Annotated[
        str | None,
        typer.Option(
            metavar="ID",
            help=f"Load this dataset only ({', '.join(d.id for d in DATASETS)}); "
            "default: every one, in that order.",
        ),
    ] = None,
    data_dir: DataDir = None,
    portal_url: PortalUrl = None,
) -> None:
    """Load what changed on the portal into bronze (everything on the first run), dataset by
    dataset, each in one transaction; stop at the first that fails."""
    # On a terminal the live display tells what the info lines would; elsewhere they are it.
    level = logging.WARNING if err.is_terminal else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise
    chosen = _datasets(dataset)
    settings = _settings(data_dir, portal_url)
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        with LoadDisplay(err) as display:
            for each in chosen:
                try:
                    result = run_load(
                        settings, dataset=each, full_refresh=full_refresh, on_progress=display
                    )
                except IngestError as error:
                    raise _fail(f"{each.id}: {error}") from None
                _print_result(result)
    except (KeyboardInterrupt, _Terminated) as stop:
        notes = getattr(stop, "__notes__", None)
        where = notes[-1] if notes else "stopped before the load began"
        err.print(f"interrupted: {where}; run `mmds-ingest load` again to resume")
        raise typer.Exit(code=130 if isinstance(stop, KeyboardInterrupt) else 143) from None
    finally:
        signal.signal(signal.SIGTERM, previous)


def _print_result(result: LoadResult) -> None:
    def known(value: object) -> str:
        return "-" if value is None else f"{value:,}"

    out.print(
        f"{result.dataset}: load {result.load_id}, {result.mode}, {result.status} "
        f"in {result.seconds:.1f}s\n"
        f"  received {result.rows_received:,}  inserted {result.rows_inserted:,}  "
        f"updated {result.rows_updated:,}  unchanged {result.rows_unchanged:,}  "
        f"flagged {result.rows_flagged:,}  deleted {result.rows_deleted:,}\n"
        + (
            f"  cursor {result.cursor_before} -> {result.cursor_after}\n"
            if result.cursor_before or result.cursor_after
            else ""
        )
        + f"  portal total {known(result.portal_total)}  bronze {known(result.bronze_count)}"
        + (f"\n  reconciliation: {result.reconciliation}" if result.reconciliation else "")
        + (f"\n  note: {result.message}" if result.message else "")
    )


def _open_read_only(settings: IngestSettings):
    """The warehouse to read (`status`, `history`): the DuckDB file read-only, or a connection
    to the PostgreSQL server; the queries use SQL and `$n` parameters both engines run."""
    if settings.postgres_url:
        from mmds_ingest.warehouses import postgres

        try:
            server = postgres.connect(
                settings.postgres_url, shown=settings.warehouse_name, raw=True
            )
            exists = bronze.table_exists(server, BRONZE_SCHEMA, "_state")
        except IngestError as error:
            raise _fail(error) from None
        if not exists:
            server.close()
            raise _fail(
                IngestError(
                    f"{settings.warehouse_name} has no bronze tables yet", "run `mmds-ingest load`"
                )
            )
        return server
    path = settings.warehouse_path
    if not path.exists():
        raise _fail(IngestError(f"no warehouse at {path} yet", "run `mmds-ingest load` first"))
    try:
        con = bronze.connect(path, read_only=True)
        with bronze.unreadable_as_corrupt(path):
            exists = bronze.table_exists(con, BRONZE_SCHEMA, "_state")
    except IngestError as error:
        raise _fail(error) from None
    if not exists:
        con.close()
        raise _fail(IngestError(f"{path} has no bronze tables yet", "run `mmds-ingest load`"))
    return con


@app.command(epilog=EXAMPLES)
def status(data_dir: DataDir = None) -> None:
    """Show each dataset's cursor, rows and last reconciliation, then the last loads."""
    settings = _settings(data_dir)
    con = _open_read_only(settings)
    try:
        by_dataset = _dataset_sql(con, "_loads")
        loads = con.execute("SELECT count(*) FROM bronze._loads").fetchone()[0]
        sections = [_dataset_status(con, dataset, by_dataset) for dataset in DATASETS]
    finally:
        con.close()
    out.print(f"warehouse   {settings.warehouse_name}")
    out.print(f"loads       {loads:,}")
    for lines in sections:
        out.print()
        for line in lines:
            out.print(line)
    out.print()
    _print_loads(settings, limit=5)


def _dataset_sql(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """SQL naming the dataset of a row of `bronze.<table>`: its `dataset` column, or, in a
    warehouse of an earlier version (until its next load), the one dataset it could hold."""
    if "dataset" in bronze.columns(con, BRONZE_SCHEMA, table):
        return "dataset"
    return f"'{SERVICE_REQUESTS.id}'"


def _dataset_status(con: duckdb.DuckDBPyConnection, dataset: Dataset, by_dataset: str) -> list[str]:
    title = f"{dataset.id}  ({dataset.table})"
    if not bronze.table_exists(con, BRONZE_SCHEMA, dataset.bronze_table):
        return [title, "  (not loaded yet)"]
    state = con.execute(
        f"SELECT cursor, load_id FROM bronze._state WHERE {_dataset_sql(con, '_state')} = $1",  # noqa: S608 -- constants
        [dataset.id],
    ).fetchone() or (None, None)
    counts = con.execute(
        f"SELECT count(*), count(_quality_issues) FROM {dataset.table}"  # noqa: S608 -- constants
    ).fetchone()
    assert counts is not None  # an aggregate returns one row
    rows, flagged = counts
    reconciled = None
    if "reconciliation" in bronze.columns(con, BRONZE_SCHEMA, "_loads"):  # 0.3.0 lacked it
        reconciled = con.execute(
            f"SELECT reconciliation FROM bronze._loads WHERE {by_dataset} = $1 "  # noqa: S608 -- constants
            "AND reconciliation IS NOT NULL ORDER BY started_at DESC LIMIT 1",
            [dataset.id],
        ).fetchone()
    no_cursor = (
        "(none: the next load is full)" if dataset.cursor_field else "(none: loads are full)"
    )
    return [
        title,
        f"  cursor      {state[0] or no_cursor}",
        f"  last load   {state[1] or '(none)'}",
        f"  rows        {rows:,} ({flagged:,} flagged)",
        f"  reconciled  {reconciled[0] if reconciled else '(not yet)'}",
    ]


@app.command(epilog=EXAMPLES)
def history(
    limit: Annotated[int, typer.Option(min=1, help="How many loads to show.")] = 20,
    data_dir: DataDir = None,
) -> None:
    """List past loads of every dataset, newest first, with how long each took."""
    _print_loads(_settings(data_dir), limit=limit)


def _print_loads(settings: IngestSettings, limit: int) -> None:
    con = _open_read_only(settings)
    try:
        rows = con.execute(
            f"""SELECT load_id, {_dataset_sql(con, "_loads")}, mode, status, rows_received,
                      rows_inserted, rows_updated, rows_deleted, rows_flagged,
                      round(CAST(extract(epoch FROM finished_at - started_at) AS NUMERIC), 1),
                      cursor_after, message
               FROM bronze._loads ORDER BY started_at DESC LIMIT $1""",  # noqa: S608 -- constants
            [limit],
        ).fetchall()
    finally:
        con.close()
    out.print(
        f"{'load':<27} {'dataset':<22} {'mode':<11} {'status':<9} {'received':>9} "
        f"{'inserted':>9} {'updated':>8} {'deleted':>8} {'flagged':>8} {'seconds':>8}  "
        "cursor after / message"
    )
    for row in rows:
        load_id, dataset, mode, state, *counts, seconds, cursor_after, message = row
        figures = " ".join(
            f"{count or 0:>{width},}" for count, width in zip(counts, (9, 9, 8, 8, 8), strict=True)
        )
        out.print(
            f"{load_id:<27} {dataset:<22} {mode:<11} {state:<9} {figures} {seconds:>8}  "
            + (str(cursor_after) if cursor_after else "-")
            + (f"  ({message})" if message else "")
        )

"""The `mmds-ingest` command: load, status, history, and the fake portal."""

import typer

from mmds_ingest.fake_portal.cli import fake_portal

app = typer.Typer(
    help="mmds ingestion: load the City of Vancouver's 3-1-1 requests into DuckDB bronze.",
    no_args_is_help=True,
)
app.command("fake-portal")(fake_portal)

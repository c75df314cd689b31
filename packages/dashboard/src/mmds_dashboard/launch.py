"""`mmds-dashboard`: serve the dashboard with Streamlit on the loopback interface.

Usage statistics are switched off and the server binds to 127.0.0.1 by flags, so no
configuration file is needed and nothing phones home.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from mmds_dashboard import __version__, app_path
from mmds_dashboard.serving import DATA_DIR_ENV, SERVING_FILE_ENV, resolve_serving_file

DEFAULT_PORT = 8501
HOST = "127.0.0.1"
# "\b" keeps click from rewrapping the examples into one paragraph.
EXAMPLES = """\b
Examples:
  mmds-dashboard                        ./data/serving.duckdb on port 8501
  mmds-dashboard --port 8502            another port
  mmds-dashboard --serving-file s.duckdb
  MMDS_DATA_DIR=/srv/mmds mmds-dashboard

Build the serving file first: uv run mmds run (or uv run mmds run --sample).
"""

# Plain help: typer's rich help labels every flag, --help included, with a "<bool>" type.
cli = typer.Typer(add_completion=False, rich_markup_mode=None, pretty_exceptions_enable=False)


def streamlit_command(port: int, app: Path | None = None) -> list[str]:
    """The command that serves `app` (the dashboard by default) on `HOST`:`port`, headless,
    without telemetry, with the dashboard's libraries loaded before the first visit."""
    return [
        sys.executable,
        "-m",
        "mmds_dashboard.server",
        "run",
        str(app or app_path()),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.address",
        HOST,
        "--server.port",
        str(port),
        "--server.fileWatcherType",
        "none",
        "--server.runOnSave",
        "false",
        "--client.toolbarMode",
        "viewer",
    ]


def port_in_use(port: int) -> bool:
    """Whether another process listens on `HOST`:`port` (bound as Streamlit's server binds)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"mmds-dashboard {__version__}")
        raise typer.Exit()


@cli.command(epilog=EXAMPLES, context_settings={"help_option_names": ["-h", "--help"]})
def serve(
    port: Annotated[
        int, typer.Option("--port", "-p", min=1, max=65535, metavar="PORT", help=f"Port on {HOST}.")
    ] = DEFAULT_PORT,
    serving_file: Annotated[
        Path | None,
        typer.Option(
            envvar=SERVING_FILE_ENV,
            dir_okay=False,
            metavar="FILE",
            help="The serving file to read (default: serving.duckdb in the data dir).",
        ),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            envvar=DATA_DIR_ENV,
            file_okay=False,
            metavar="DIR",
            help="Folder holding serving.duckdb (default: ./data).",
        ),
    ] = None,
    _version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_show_version,
            is_eager=True,
            expose_value=False,
            help="Show the version and exit.",
        ),
    ] = False,
) -> None:
    """Serve the mmds dashboard (Vancouver 3-1-1 requests) on 127.0.0.1 until Ctrl-C."""
    if port_in_use(port):
        typer.echo(
            f"error: port {port} on {HOST} is already in use (another dashboard?): stop it, "
            f"or serve on another port with --port {port + 1 if port < 65535 else 8502}",
            err=True,
        )
        raise typer.Exit(1)
    serving = resolve_serving_file(serving_file, data_dir)
    env = {**os.environ, SERVING_FILE_ENV: str(serving)}
    typer.echo(f"Serving {serving} on http://{HOST}:{port} (Ctrl-C stops it)")
    process = subprocess.Popen(streamlit_command(port), env=env)  # noqa: S603 (own argv)
    signal.signal(signal.SIGTERM, lambda *_: process.terminate())
    try:
        code = process.wait()
    except KeyboardInterrupt:
        # The terminal sent the interrupt to Streamlit too; let it shut down cleanly.
        code = process.wait()
    raise typer.Exit(code)


def main() -> None:
    """The `mmds-dashboard` console script."""
    cli()


if __name__ == "__main__":
    main()

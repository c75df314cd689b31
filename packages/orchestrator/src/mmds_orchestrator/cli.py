"""The `mmds` command: run the pipeline, say how it stands, open Dagster's UI and the dashboard."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from mmds_orchestrator.settings import PipelineSettings, SettingsError

MAIN_EXAMPLES = """\b
Examples:
  mmds run --sample     load a generated sample, build, publish (offline)
  mmds status           the last run, the data's freshness, what is up
  mmds dashboard        the dashboard on http://127.0.0.1:8501
  mmds ui               Dagster's UI on http://127.0.0.1:3000
"""

app = typer.Typer(
    help="mmds: Vancouver 3-1-1 requests from the City's portal to a dashboard, on a laptop.",
    epilog=MAIN_EXAMPLES,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

SAMPLE_ROWS = 100_000
SAMPLE_SEED = 311
UI_PORT = 3000
DASHBOARD_PORT = 8501
HOST = "127.0.0.1"
UI_HEALTH = "/server_info"
DASHBOARD_HEALTH = "/_stcore/health"
EXIT_NOT_STARTED = 2
DISTRIBUTIONS = ("mmds-ingest", "mmds-transform", "mmds-dashboard", "dagster", "dbt-core")

RUN_EXAMPLES = """\b
Examples:
  mmds run --sample          offline, against a generated sample of 100,000 requests
  mmds run                   the City's portal (MMDS_PORTAL_URL), incremental after the first
  mmds run --full-refresh    reload everything and rebuild every model
  mmds run -v                also stream Dagster's and dbt's own logs
"""


def _show_version(value: bool) -> None:
    if not value:
        return
    versions = ", ".join(f"{name} {_installed(name)}" for name in DISTRIBUTIONS)
    typer.echo(f"mmds-orchestrator {_installed('mmds-orchestrator')} ({versions})")
    raise typer.Exit


@app.callback()
def main(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the installed versions."
        ),
    ] = False,
) -> None:
    """Every command reads its settings from MMDS_* variables (MMDS_DATA_DIR, ...)."""


@app.command(epilog=RUN_EXAMPLES)
def run(
    sample: Annotated[
        bool, typer.Option("--sample", help="Run offline against the bundled fake portal.")
    ] = False,
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="Reload everything and rebuild every model.")
    ] = False,
    sample_rows: Annotated[
        int, typer.Option(min=1, envvar="MMDS_SAMPLE_ROWS", help="Rows the sample portal serves.")
    ] = SAMPLE_ROWS,
    sample_seed: Annotated[
        int, typer.Option(envvar="MMDS_SAMPLE_SEED", help="Seed of the sample's generator.")
    ] = SAMPLE_SEED,
    verbose: Annotated[
        bool, typer.Option("-v", "--verbose", help="Also stream Dagster's and dbt's own logs.")
    ] = False,
) -> None:
    """Ingest, dbt build (tests as checks), publish serving.duckdb: the whole graph, in-process.

    Steps with nothing to do are skipped (the summary says which and why). Everything the run
    does is written to a log file under MMDS_DATA_DIR/logs/, whose path it prints last.
    Ctrl-C stops it within seconds; running it again resumes.
    """
    from mmds_orchestrator.run_session import RunSession

    session = RunSession(out=sys.stdout, err=sys.stderr, verbose=verbose)
    code = session.run(
        sample=sample, sample_rows=sample_rows, sample_seed=sample_seed, full_refresh=full_refresh
    )
    raise typer.Exit(code)


@app.command()
def status(
    ui_port: Annotated[
        int, typer.Option(envvar="MMDS_UI_PORT", help="Port of `mmds ui`.")
    ] = UI_PORT,
    dashboard_port: Annotated[
        int, typer.Option(envvar="MMDS_DASHBOARD_PORT", help="Port of `mmds dashboard`.")
    ] = DASHBOARD_PORT,
) -> None:
    """The last run and its outcome, the last loads, the data's freshness, the quarantined
    rows, and where the dashboard and the UI live (and whether they are up)."""
    settings = _settings()
    from mmds_orchestrator.status import status_lines  # Dagster: seconds

    ui = (f"http://{HOST}:{ui_port}", UI_HEALTH)
    dashboard = (f"http://{HOST}:{dashboard_port}", DASHBOARD_HEALTH)
    for line in status_lines(settings, ui=ui, dashboard=dashboard):
        typer.echo(line)


@app.command()
def ui(
    port: Annotated[
        int, typer.Option(min=1, max=65535, envvar="MMDS_UI_PORT", help="Port on 127.0.0.1.")
    ] = UI_PORT,
    verbose: Annotated[
        bool, typer.Option("-v", "--verbose", help="Show Dagster's informational logs.")
    ] = False,
) -> None:
    """Dagster's web UI and daemon (`dg dev`) on 127.0.0.1, with the instance of `mmds run`.

    The schedules start stopped: switch them on in the UI (Automation), or start it with
    MMDS_SCHEDULES_ENABLED=true.
    """
    settings = _settings()
    _require_free_port(port, "the Dagster UI", "mmds ui", "MMDS_UI_PORT")
    from mmds_transform import dbt_env

    from mmds_orchestrator.instance import prepare_dagster_home

    bin_dir = Path(sys.executable).parent
    base = {
        **os.environ,
        "DAGSTER_HOME": str(
            prepare_dagster_home(
                settings.dagster_home,
                settings.orchestrator.dagster_storage_url is not None,
            )
        ),
        # dagster-dbt's `prepare_if_dev()` runs `dbt` from PATH, also outside `uv run`
        "PATH": os.pathsep.join([str(bin_dir), os.environ.get("PATH", "")]),
    }
    command = [
        str(bin_dir / "dg"),
        "dev",
        "--use-active-venv",
        "--target-path",
        str(_dg_project_root()),
        "--host",
        HOST,
        "--port",
        str(port),
        "--log-level",
        "info" if verbose else "warning",  # no start-up chatter unless asked
    ]
    url = f"http://{HOST}:{port}"
    typer.echo(f"Dagster UI starting on {url} (Ctrl-C stops it)")
    _say_when_up(url + UI_HEALTH, f"Dagster UI ready on {url}")
    raise typer.Exit(_run_foreground(command, dbt_env(settings.data_dir, base=base)))


@app.command()
def dashboard(
    port: Annotated[
        int,
        typer.Option(min=1, max=65535, envvar="MMDS_DASHBOARD_PORT", help="Port on 127.0.0.1."),
    ] = DASHBOARD_PORT,
) -> None:
    """The Streamlit dashboard on 127.0.0.1, reading the published serving.duckdb."""
    launcher = Path(sys.executable).with_name("mmds-dashboard")
    if not launcher.exists():
        _fail("the dashboard is not installed: install mmds-orchestrator[dashboard] (or mmds)")
    settings = _settings()
    _require_free_port(port, "the dashboard", "mmds dashboard", "MMDS_DASHBOARD_PORT")
    if not settings.serving_path.exists():
        typer.echo(f"No {settings.serving_path} yet: run `mmds run` (or `mmds run --sample`).")
    command = [str(launcher), "--port", str(port), "--serving-file", str(settings.serving_path)]
    raise typer.Exit(_run_foreground(command, dict(os.environ)))


def _installed(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


def _dg_project_root() -> Path:
    """The folder whose `pyproject.toml` declares `[tool.dg]`, found as Dagster finds it."""
    return next(path for path in Path(__file__).parents if (path / "pyproject.toml").exists())


def _settings() -> PipelineSettings:
    try:
        return PipelineSettings.from_environment()
    except SettingsError as error:
        _fail(str(error))


def _require_free_port(port: int, what: str, command: str, variable: str) -> None:
    """Refuse at once, in one line, when something already listens on `port`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            _fail(
                f"port {port} on {HOST} is in use ({what} may already be running: `mmds status`"
                f" says): stop it, or start `{command} --port <another>` (or set {variable})"
            )


def _say_when_up(health_url: str, message: str, timeout: float = 300) -> None:
    """Print `message` once `health_url` answers (in the background)."""

    def wait() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(health_url, timeout=1):  # noqa: S310 - loopback
                    typer.echo(message)
                    return
            except OSError:
                time.sleep(0.5)

    threading.Thread(target=wait, name="mmds-ready", daemon=True).start()


def _run_foreground(command: list[str], env: dict[str, str]) -> int:
    """Run a server in the foreground; Ctrl-C, SIGINT or SIGTERM stop it and all its children.

    The server runs in its own process group, and interrupts are forwarded to the whole group:
    servers that start further processes (Dagster's daemon and webserver, Streamlit) stop too,
    even when only this process was signalled or it was started with SIGINT ignored.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    process = subprocess.Popen(  # noqa: S603 - our own executables, no shell
        command, env=env, start_new_session=True
    )
    try:
        return process.wait()
    except KeyboardInterrupt:
        os.killpg(process.pid, signal.SIGINT)
        try:
            return process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            return process.wait()


def _fail(message: str) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(EXIT_NOT_STARTED)

"""The `mmds` command: run the pipeline, open Dagster's UI, open the dashboard."""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from mmds_orchestrator.settings import PipelineSettings, SettingsError

app = typer.Typer(
    help="mmds: Vancouver 3-1-1 requests from the City's portal to a dashboard, on a laptop.",
    no_args_is_help=True,
    add_completion=False,
)

SAMPLE_ROWS = 100_000
SAMPLE_SEED = 311


@app.command()
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
) -> None:
    """Ingest, dbt build (tests as checks), publish serving.duckdb: the whole graph, in-process.

    Steps with nothing to do are skipped: see the summary.
    """
    settings = _settings()
    portal = sample_portal(sample_rows, sample_seed) if sample else nullcontext(None)
    try:
        with portal as portal_url:
            if portal_url:
                typer.echo(f"Sample portal: {sample_rows:,} generated rows at {portal_url}")
            typer.echo(f"Data dir: {settings.data_dir}")
            from mmds_orchestrator.pipeline_run import run_pipeline  # Dagster and dbt: seconds

            summary = run_pipeline(
                settings, full_refresh=full_refresh, portal_url=portal_url, is_sample=sample
            )
    except Exception as error:  # the command's boundary: a message, not a traceback
        _fail(f"mmds run failed before the pipeline could run: {error}")
    for line in summary.lines():
        typer.echo(line)
    if not summary.ok:
        raise typer.Exit(1)


@app.command()
def ui(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 3000,
) -> None:
    """Dagster's web UI and daemon (`dg dev`) on 127.0.0.1, with the instance of `mmds run`."""
    settings = _settings()
    from mmds_orchestrator.instance import prepare_dagster_home

    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "DAGSTER_HOME": str(prepare_dagster_home(settings.dagster_home)),
        "MMDS_DATA_DIR": str(settings.data_dir),
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
        "127.0.0.1",
        "--port",
        str(port),
    ]
    typer.echo(f"Dagster UI on http://127.0.0.1:{port} (Ctrl-C stops it)")
    raise typer.Exit(_run_foreground(command, env))


@app.command()
def dashboard(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8501,
) -> None:
    """The Streamlit dashboard on 127.0.0.1, reading the published serving.duckdb."""
    launcher = Path(sys.executable).with_name("mmds-dashboard")
    if not launcher.exists():
        _fail("The dashboard is not installed: install mmds-orchestrator[dashboard] (or `mmds`).")
    settings = _settings()
    if not settings.serving_path.exists():
        typer.echo(f"No {settings.serving_path} yet: run `mmds run` (or `mmds run --sample`).")
    command = [str(launcher), "--port", str(port), "--serving-file", str(settings.serving_path)]
    raise typer.Exit(_run_foreground(command, dict(os.environ)))


@contextmanager
def sample_portal(rows: int, seed: int) -> Iterator[str]:
    """The project's fake portal on an ephemeral loopback port: two years of generated requests."""
    from mmds_ingest.fake_portal import FakePortal
    from mmds_ingest.fake_portal.generator import DEFAULT_END

    two_years_before = DEFAULT_END.date().replace(year=DEFAULT_END.year - 2)
    with FakePortal(rows=rows, seed=seed, start=two_years_before) as portal:
        yield portal.url


def _dg_project_root() -> Path:
    """The folder whose `pyproject.toml` declares `[tool.dg]`, found as Dagster finds it."""
    return next(path for path in Path(__file__).parents if (path / "pyproject.toml").exists())


def _settings() -> PipelineSettings:
    try:
        return PipelineSettings.from_environment()
    except SettingsError as error:
        _fail(str(error))


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
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(2)

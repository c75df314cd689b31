"""The `mmds` command: run the pipeline, open Dagster's UI, open the dashboard."""

import gc
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from importlib.util import find_spec
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from mmds_orchestrator.settings import PipelineSettings

app = typer.Typer(
    help="mmds: Vancouver 3-1-1 requests from the City's portal to a dashboard, on a laptop.",
    no_args_is_help=True,
    add_completion=False,
)

SAMPLE_ROWS_HELP = "Rows the sample portal serves (default: MMDS_SAMPLE_ROWS, else 100,000)."


@app.command()
def run(
    sample: Annotated[
        bool, typer.Option("--sample", help="Run offline against the bundled fake portal.")
    ] = False,
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="Reload everything and rebuild every model.")
    ] = False,
    sample_rows: Annotated[int | None, typer.Option(min=1, help=SAMPLE_ROWS_HELP)] = None,
) -> None:
    """Ingest, dbt build (tests as checks), publish serving.duckdb: the whole graph, in-process."""
    missing = missing_pieces(sample=sample)
    if missing:
        _fail("mmds run cannot start, these pieces are missing:\n  - " + "\n  - ".join(missing))
    settings = _settings()
    rows = sample_rows or settings.sample_rows
    portal = sample_portal(rows, settings.sample_seed) if sample else nullcontext(None)
    from mmds_orchestrator.warm_dbt import warm_dbt

    try:
        # dbt is imported by its server while this process imports Dagster
        with warm_dbt(_dbt_environment()) as dbt_launcher, portal as portal_url:
            if portal_url:
                os.environ["MMDS_PORTAL_URL"] = portal_url
                typer.echo(f"Sample portal: {rows:,} generated rows at {portal_url}")
            typer.echo(f"Data dir: {settings.data_dir}")
            run_pipeline = _import_run_pipeline()
            summary = run_pipeline(settings, full_refresh=full_refresh, dbt_command=dbt_launcher)
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
    """Dagster's web UI (and its daemon, for schedules) on 127.0.0.1."""
    missing = missing_pieces(sample=False)
    if missing:
        _fail("mmds ui cannot start, these pieces are missing:\n  - " + "\n  - ".join(missing))
    settings = _settings()
    from mmds_orchestrator.instance import prepare_dagster_home

    env = {
        **os.environ,
        "DAGSTER_HOME": str(prepare_dagster_home(settings.dagster_home)),
        "MMDS_DATA_DIR": str(settings.data_dir),
    }
    command = [
        str(Path(sys.executable).with_name("dagster")),
        "dev",
        "-m",
        "mmds_orchestrator.definitions",
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
    env = {**os.environ, "MMDS_DATA_DIR": str(settings.data_dir)}
    raise typer.Exit(_run_foreground([str(launcher), "--port", str(port)], env))


def missing_pieces(sample: bool) -> list[str]:
    """What the pipeline needs from the other packages and cannot find, in plain words."""
    missing = []
    if find_spec("mmds_ingest") is None:
        missing.append("mmds-ingest is not installed")
    else:
        import mmds_ingest

        if not hasattr(mmds_ingest, "run_load"):
            missing.append("mmds_ingest.run_load (the ingest library entry point)")
        if sample and not _has_fake_portal():
            missing.append("mmds_ingest.fake_portal.FakePortal (needed by --sample)")
    if find_spec("mmds_transform") is None:
        missing.append("mmds-transform is not installed")
    else:
        import mmds_transform

        project = getattr(mmds_transform, "project_dir", None)
        if project is None or not (Path(project()) / "dbt_project.yml").is_file():
            missing.append("mmds_transform.project_dir() with a dbt_project.yml")
    return missing


@contextmanager
def sample_portal(rows: int, seed: int) -> Iterator[str]:
    """The project's fake portal on an ephemeral loopback port: two years of generated requests."""
    from mmds_ingest.fake_portal import FakePortal
    from mmds_ingest.fake_portal.generator import DEFAULT_END

    two_years_before = DEFAULT_END.date().replace(year=DEFAULT_END.year - 2)
    with FakePortal(rows=rows, seed=seed, start=two_years_before) as portal:
        yield portal.url


def _has_fake_portal() -> bool:
    try:
        from mmds_ingest.fake_portal import FakePortal  # noqa: F401
    except ImportError:
        return False
    return True


def _import_run_pipeline() -> Callable[..., Any]:
    """Import the pipeline (Dagster, dagster-dbt, dbt: seconds), without garbage collection.

    The import makes about 400,000 objects that live as long as the process: collecting while
    they are made costs a fifth of the import, and frozen afterwards they are left out of every
    later full collection, including the one at exit (seconds).
    """
    gc.disable()
    try:
        from mmds_orchestrator.pipeline_run import run_pipeline
    finally:
        gc.freeze()
        gc.enable()
    return run_pipeline


def _dbt_environment() -> dict[str, str]:
    """The environment dbt is imported in (each dbt command then gets its own)."""
    return {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}


def _settings() -> PipelineSettings:
    try:
        return PipelineSettings()
    except ValueError as error:
        _fail(f"Invalid MMDS_* setting: {error}")


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

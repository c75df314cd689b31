"""`mmds-ingest fake-portal`: serve the fake portal until stopped (SIGINT or SIGTERM).

Only typer and the standard library are imported up front: the fake portal itself needs the
`fake-portal` extra (numpy, pyarrow), and without it the command says how to install it."""

import signal
import threading
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer

from mmds_ingest.fake_portal.span import DEFAULT_END, DEFAULT_START

EXTRA_MODULES = frozenset({"numpy", "pyarrow"})
INSTALL_EXTRA = (
    "the fake portal needs the fake-portal extra (numpy, pyarrow): install "
    "'mmds-ingest[fake-portal]', e.g. `uv sync --extra fake-portal` or "
    "`pip install 'mmds-ingest[fake-portal]'`"
)


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date like 2022-01-01") from None


def _instant(value: str) -> datetime:
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        instant = None
    if instant is None or instant.tzinfo is None:
        raise typer.BadParameter(f"{value!r} is not an instant with offset like 2026-11-29T12:00Z")
    return instant


def _faults(specs: list[str]) -> list:
    from mmds_ingest.fake_portal.faults import Fault

    try:
        return [Fault.parse(spec) for spec in specs]
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--fault") from None


def fake_portal(
    rows: Annotated[int, typer.Option(min=0, help="Generated rows to serve.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Seed of the generator (same seed, same rows).")] = 0,
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port; 0 picks a free one.")] = 0,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    start: Annotated[
        str, typer.Option(help="First local date of the span.")
    ] = DEFAULT_START.isoformat(),
    end: Annotated[
        str, typer.Option(help="End of the span: the data's 'now', with an offset.")
    ] = DEFAULT_END.isoformat(),
    quota: Annotated[
        int | None, typer.Option(min=0, help="Daily request quota (429 once spent); default none.")
    ] = None,
    api_key_quota: Annotated[
        int | None,
        typer.Option(min=0, help="Daily quota of requests carrying an API key; default none."),
    ] = None,
    from_csv: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="Serve this CSV extract instead."),
    ] = None,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            help="Inject a fault, repeatable: KIND[:key=value,...], e.g. "
            "'server_error:times=3', 'rate_limit:retry_after=2', "
            "'drop_connection:after_bytes=100000', 'truncated_body', "
            "'slow_first_byte:seconds=5', 'html_error_page', "
            "'schema_change:change=removed,field=local_area'.",
        ),
    ] = None,
    rate_limit_reset: Annotated[
        str, typer.Option(help="X-RateLimit-Reset as 'epoch' seconds or an 'iso' instant.")
    ] = "epoch",
    parquet_style: Annotated[
        str, typer.Option(help="Parquet export typing: 'parquet' (native) or 'parquet_text'.")
    ] = "parquet",
    geo_shape_style: Annotated[
        str,
        typer.Option(
            help="How JSON bodies write a boundary's geom: a bare 'geometry' or a 'feature'."
        ),
    ] = "geometry",
    hostile: Annotated[
        bool,
        typer.Option(
            "--hostile",
            help="Also serve the hostile mix: future and ancient instants, new domain values, "
            "a renamed local area, 100 KB text, control characters, exact duplicates, "
            "spreadsheet formulas, close before open.",
        ),
    ] = False,
) -> None:
    """Serve a fake of the City's portal (3-1-1 requests and local-area boundaries); prints its
    base URL (for MMDS_PORTAL_URL)."""
    try:
        from mmds_ingest.fake_portal.portal import FakePortal
    except ModuleNotFoundError as missing:
        if (missing.name or "").split(".")[0] not in EXTRA_MODULES:
            raise
        typer.echo(f"fake portal not started: {INSTALL_EXTRA}", err=True)
        raise typer.Exit(2) from None
    try:
        portal = FakePortal(
            rows,
            seed,
            start=_date(start),
            end=_instant(end),
            quota=quota,
            api_key_quota=api_key_quota,
            from_csv=from_csv,
            faults=_faults(fault or []),
            parquet_style=parquet_style,
            rate_limit_reset=rate_limit_reset,
            host=host,
            port=port,
            hostile=hostile,
            geo_shape_style=geo_shape_style,
        ).start()
    except (ValueError, OSError) as error:  # bad settings, a bad extract, a port in use
        typer.echo(f"fake portal not started: {error}", err=True)
        raise typer.Exit(2) from None
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    try:
        typer.echo(portal.url)
        typer.echo(
            f"serving {portal.total_count()} rows at {portal.dataset_url} (Ctrl+C stops)", err=True
        )
        while not stopped.wait(0.5):
            pass
    finally:
        portal.stop()

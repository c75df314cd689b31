"""`mmds status`: how the pipeline stands, read from Dagster's run history and the serving file.

The serving file is read rather than the warehouse: a run in progress holds the warehouse's
lock, never the published file's.
"""

import urllib.request
from datetime import UTC, datetime

import duckdb
from dagster import DagsterEventType, DagsterInstance

from mmds_orchestrator.run_log import LOG_PREFIX
from mmds_orchestrator.run_summary import LABEL_WIDTH, failure_message, quarantined
from mmds_orchestrator.settings import PipelineSettings
from mmds_orchestrator.wording import describe_load, one_line

SHOWN_LOADS = 3
OUTCOMES = {"SUCCESS": "succeeded", "FAILURE": "failed", "CANCELED": "was canceled"}
RUNNING = "is running (or was killed: the next `mmds run` tidies it up)"


def status_lines(
    settings: PipelineSettings, *, ui: tuple[str, str], dashboard: tuple[str, str]
) -> list[str]:
    """The lines of `mmds status`; `ui` and `dashboard` are (URL, health path)."""
    rows: list[tuple[str, str]] = [("data dir", str(settings.data_dir))]
    rows += _last_run(settings)
    rows += _published(settings)
    rows += [
        ("dashboard", _server(*dashboard, start_with="mmds dashboard")),
        ("dagster ui", _server(*ui, start_with="mmds ui")),
        ("logs", _logs(settings)),
    ]
    return [f"{label:<{LABEL_WIDTH}} {text}" for label, text in rows]


def _last_run(settings: PipelineSettings) -> list[tuple[str, str]]:
    if not (settings.dagster_home / "dagster.yaml").exists():
        return [("last run", "none yet: `mmds run --sample` (offline) or `mmds run`")]
    with DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        records = instance.get_run_records(limit=1)
        if not records:
            return [("last run", "none yet: `mmds run --sample` (offline) or `mmds run`")]
        run = records[0].dagster_run
        outcome = OUTCOMES.get(run.status.value, RUNNING)
        started = records[0].start_time
        ended = records[0].end_time
        text = f"{run.job_name} {outcome}"
        if started:
            text += f", {_ago(datetime.fromtimestamp(started, UTC))}"
        if started and ended:
            text += f" ({ended - started:.1f} s)"
        failures = instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_FAILURE)
        rows = [("last run", text)]
        rows += [("", failure_message(e.dagster_event)) for e in failures[:1] if e.dagster_event]
    return rows


def _published(settings: PipelineSettings) -> list[tuple[str, str]]:
    serving = settings.serving_path
    if not serving.exists():
        return [("published", f"nothing yet: {serving.name} is written by `mmds run`")]
    try:
        with duckdb.connect(str(serving), read_only=True) as connection:
            connection.execute("set TimeZone = 'UTC'")
            published_at, newest = connection.execute(
                "select published_at, source_last_modified_at from meta.publish"
            ).fetchone() or (None, None)
            cursor = connection.execute(
                f"select * from meta.loads order by started_at desc limit {SHOWN_LOADS}"  # noqa: S608 - a constant
            )
            names = [column[0] for column in cursor.description or []]
            loads = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    except duckdb.Error as error:
        return [("published", one_line(f"{serving} cannot be read: {error}"))]
    freshness = "unknown"
    if published_at is not None:
        freshness = f"{_ago(published_at)} ({published_at:%Y-%m-%d %H:%M} UTC)"
        freshness += f"; newest change in the data {_ago(newest)}" if newest else ""
    rows = [("published", freshness)]
    for index, load in enumerate(loads):
        started = load.get("started_at")
        when = f"{started:%Y-%m-%d %H:%M} UTC " if isinstance(started, datetime) else ""
        rows.append(("last loads" if index == 0 else "", when + describe_load(load)))
    rows.append(("flagged", quarantined(serving) or "unknown"))
    return rows


def _server(url: str, health: str, start_with: str) -> str:
    try:
        with urllib.request.urlopen(url + health, timeout=1):  # noqa: S310 - loopback
            return f"{url} (up)"
    except OSError:
        return f"{url} (not running: `{start_with}` starts it)"


def _logs(settings: PipelineSettings) -> str:
    logs = sorted(settings.log_dir.glob(f"{LOG_PREFIX}*.log")) if settings.log_dir.exists() else []
    return f"{settings.log_dir} (newest: {logs[-1].name})" if logs else f"{settings.log_dir} (none)"


def _ago(instant: datetime | None) -> str:
    if instant is None:
        return "never"
    seconds = (datetime.now(UTC) - instant).total_seconds()
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "just now"

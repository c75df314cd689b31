"""Dagster's persistent instance under `MMDS_DATA_DIR/dagster_home`."""

import fcntl
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import yaml
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from mmds_orchestrator.settings import POSTGRES_STORAGE_SCHEME

DAGSTER_YAML = """\
# Written by mmds on first use; edit freely, mmds only writes it when it is missing.
telemetry:
  enabled: false
# Evaluates bronze's freshness policy while the daemon runs (`mmds ui`).
freshness:
  enabled: true
concurrency:
  pools:
    # DuckDB allows one writer per file: every step that touches the warehouse claims a slot
    # of the `warehouse` pool, so concurrent runs take turns instead of failing on the lock.
    default_limit: 1
    granularity: op
"""

STORAGE_URL_VARIABLE = "MMDS_DAGSTER_STORAGE_URL"
STORAGE_LOCK_KEY = 0x6D6D6467  # "mmdg": openings of a shared Dagster storage (not the warehouse's)
POSTGRES_STORAGE_YAML = f"""\
# Runs, events and schedules on PostgreSQL (dagster-postgres), read from {STORAGE_URL_VARIABLE}
# by every Dagster process when it starts: the password never lands in this file.
storage:
  postgres:
    postgres_url:
      env: {STORAGE_URL_VARIABLE}
"""


class DagsterHomeError(RuntimeError):
    """Dagster's home does not match the settings; the message says what to change."""


def prepare_dagster_home(home: Path, postgres_storage: bool = False) -> Path:
    """Create Dagster's home with a `dagster.yaml` (telemetry off, pools of one; with
    `postgres_storage`, runs, events and schedules in the PostgreSQL database of
    `MMDS_DAGSTER_STORAGE_URL`) if missing. Raises `DagsterHomeError` when `postgres_storage`
    is asked of an existing `dagster.yaml` that configures no storage."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        # written beside and renamed: a concurrent `mmds run` never reads half a file
        partial = home / f".dagster.yaml.{os.getpid()}"
        text = DAGSTER_YAML + (POSTGRES_STORAGE_YAML if postgres_storage else "")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, config)
    elif postgres_storage:
        existing = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
        if "storage" not in existing:
            raise DagsterHomeError(
                f"{STORAGE_URL_VARIABLE} is set but {config} configures no storage: add the "
                "storage section of docs/dagster.yaml to it, or delete it for mmds to write it"
            )
    return home


# `mmds run` writes every step's output to its own log file, so Dagster's compute logs would
# hold nothing; capturing them costs two processes per step (a `tail` and its watcher), which
# also receive the terminal's Ctrl-C and print their tracebacks on it.
NO_COMPUTE_LOGS = {
    "module": "dagster._core.storage.noop_compute_log_manager",
    "class": "NoOpComputeLogManager",
}


def open_instance(
    home: Path, compute_logs: bool = True, storage_url: str | None = None
) -> DagsterInstance:
    """Open the persistent instance of `home/dagster.yaml` (created if missing); without
    `compute_logs`, the same instance with Dagster's capture of step output switched off;
    with `storage_url` (`MMDS_DAGSTER_STORAGE_URL`'s value), its storage on PostgreSQL.

    Concurrent openings take turns while Dagster creates and migrates its storage
    (`_one_opening_at_a_time`).
    """
    prepare_dagster_home(home, postgres_storage=storage_url is not None)
    with _one_opening_at_a_time(home, storage_url):
        if compute_logs:
            return DagsterInstance.from_config(str(home))
        # the same configuration, written under a name of this process's, read, then removed
        config = yaml.safe_load((home / "dagster.yaml").read_text(encoding="utf-8")) or {}
        config["compute_logs"] = NO_COMPUTE_LOGS
        variant = home / f".dagster.{os.getpid()}.yaml"
        variant.write_text(yaml.safe_dump(config), encoding="utf-8")
        try:
            return DagsterInstance.from_config(str(home), config_filename=variant.name)
        finally:
            variant.unlink(missing_ok=True)


@contextmanager
def _one_opening_at_a_time(home: Path, storage_url: str | None) -> Iterator[None]:
    """Hold the locks under which Dagster creates and migrates its storage.

    SQLite storages under `home`: a file lock (two processes creating them at once leave two
    schema versions behind). A PostgreSQL storage, shared with other machines: an advisory lock
    on its server too. dagster-postgres creates its tables on first use and retries only some
    of the errors two processes doing so at once meet; PostgreSQL's "type already exists"
    (42710) is not among them.
    """
    with (home / ".open.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if storage_url is None:
            yield
            return
        import psycopg  # here: only a PostgreSQL storage needs it

        server_url = storage_url.replace(POSTGRES_STORAGE_SCHEME, "postgresql://", 1)
        with psycopg.connect(server_url, autocommit=True, connect_timeout=10) as server:
            server.execute("SELECT pg_advisory_lock(%s)", [STORAGE_LOCK_KEY])
            yield  # the lock ends with the session


def release_abandoned_runs(instance: DagsterInstance, tags: Mapping[str, str]) -> list[str]:
    """Mark runs carrying `tags` whose process is gone as failed and free their pool slots.

    A run killed with SIGKILL (or by a crash) never reports its end: it stays "started" and keeps
    its `warehouse` slot, so every later run would wait for that slot forever. Returns the ids.
    """
    in_progress = [DagsterRunStatus.STARTING, DagsterRunStatus.STARTED]
    released = []
    for run in instance.get_runs(RunsFilter(statuses=in_progress, tags=dict(tags))):
        pids = (e.dagster_event.pid for e in instance.all_logs(run.run_id) if e.dagster_event)
        pid = next((pid for pid in pids if pid), None)
        if pid is None or _alive(pid):
            continue
        instance.report_run_failed(run, f"The process of this run (pid {pid}) is gone: killed?")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        released.append(run.run_id)
    return released


def _alive(pid: int) -> bool:
    if pid == os.getpid():  # a dead run's pid reused by this very process
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

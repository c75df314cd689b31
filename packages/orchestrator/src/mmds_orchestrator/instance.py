"""Dagster's persistent instance under `MMDS_DATA_DIR/dagster_home`."""

import fcntl
import os
from collections.abc import Mapping
from pathlib import Path

from dagster import DagsterInstance, DagsterRunStatus, RunsFilter
from dagster._core.instance.ref import InstanceRef

from mmds_orchestrator.defs.pools import WAREHOUSE_POOL
from mmds_orchestrator.event_log import KeptOpenSqliteEventLogStorage

# Dagster's default storage when dagster.yaml configures none: SQLite files under the home.
_DEFAULT_STORAGE = "DagsterSqliteStorage"

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


def prepare_dagster_home(home: Path) -> Path:
    """Create Dagster's home with a `dagster.yaml` (telemetry off, pools of one) if missing."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        # written beside and renamed: a concurrent `mmds run` never reads half a file
        partial = home / f".dagster.yaml.{os.getpid()}"
        partial.write_text(DAGSTER_YAML, encoding="utf-8")
        os.replace(partial, config)
    return home


def open_instance(home: Path) -> DagsterInstance:
    """Open the persistent instance in `home`, with the warehouse pool limited to one slot.

    With Dagster's default SQLite storage, events are written through
    `KeptOpenSqliteEventLogStorage` (same files, one connection each): a storage configured
    in `dagster.yaml` is used as configured. A file lock makes concurrent `mmds run` take turns
    while the SQLite storages are created and migrated: two processes creating them at once
    leave two schema versions behind.
    """
    prepare_dagster_home(home)
    with (home / ".open.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        instance = DagsterInstance.from_ref(_instance_ref(home))
        storage = instance.event_log_storage
        if (
            storage.supports_global_concurrency_limits
            and storage.get_concurrency_info(WAREHOUSE_POOL).slot_count != 1
        ):
            storage.set_concurrency_slots(WAREHOUSE_POOL, 1)
    return instance


def _instance_ref(home: Path) -> InstanceRef:
    """The instance of `dagster.yaml`, with the kept-open event log if storage is the default."""
    configured = InstanceRef.from_dir(str(home))
    if configured.storage_data is None or configured.storage_data.class_name != _DEFAULT_STORAGE:
        return configured
    event_log = {
        "module": KeptOpenSqliteEventLogStorage.__module__,
        "class": KeptOpenSqliteEventLogStorage.__name__,
        # where the default storage keeps it: the UI reads the same files
        "config": {"base_dir": str(home / "history" / "runs")},
    }
    return InstanceRef.from_dir(str(home), overrides={"event_log_storage": event_log})


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

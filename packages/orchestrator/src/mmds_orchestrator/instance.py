"""Dagster's persistent instance under `MMDS_DATA_DIR/dagster_home`."""

from pathlib import Path

from dagster import DagsterInstance

from mmds_orchestrator.defs.pools import WAREHOUSE_POOL

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
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    return home


def open_instance(home: Path) -> DagsterInstance:
    """Open the persistent instance in `home`, with the warehouse pool limited to one slot."""
    prepare_dagster_home(home)
    instance = DagsterInstance.from_config(str(home))
    storage = instance.event_log_storage
    if storage.supports_global_concurrency_limits:
        limit = storage.get_concurrency_info(WAREHOUSE_POOL).slot_count
        if limit != 1:
            storage.set_concurrency_slots(WAREHOUSE_POOL, 1)
    return instance

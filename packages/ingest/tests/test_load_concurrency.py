"""A second load while one runs refuses (or waits for) the warehouse's lock; nothing breaks."""

import os
import subprocess
import sys
import time

import duckdb
import pytest
from mmds_ingest import run_load
from mmds_ingest.errors import WarehouseLockedError

LOADER = "from mmds_ingest import IngestSettings, run_load; run_load(IngestSettings())"


def _wait_until_locked(path, loader: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and loader.poll() is None:
        try:
            duckdb.connect(str(path), read_only=True).close()
        except duckdb.IOException:
            return
        time.sleep(0.05)
    pytest.fail("the loading subprocess never took the warehouse's lock")


@pytest.fixture
def running_load(fake_portal, ingest_settings):
    """A load in another process, held up by a slow portal, owning the warehouse's lock."""
    run_load(ingest_settings)
    fake_portal.advance(days=1)
    fake_portal.inject("slow_first_byte", times=1, seconds=3.0, endpoint="exports")
    env = os.environ | {
        "MMDS_DATA_DIR": str(ingest_settings.data_dir),
        "MMDS_PORTAL_URL": fake_portal.url,
        "MMDS_LOCK_WAIT_SECONDS": "30",  # our own probes below hold the lock for an instant
    }
    loader = subprocess.Popen([sys.executable, "-c", LOADER], env=env)
    _wait_until_locked(ingest_settings.warehouse_path, loader)
    yield loader
    loader.wait(timeout=60)


def test_second_load_is_refused_with_a_clear_message(running_load, ingest_settings, query):
    with pytest.raises(WarehouseLockedError, match="in use by another process") as refused:
        run_load(ingest_settings)

    assert f"PID {running_load.pid}" in str(refused.value)
    assert running_load.wait(timeout=60) == 0  # the first load is not disturbed
    assert query("SELECT status FROM bronze._loads ORDER BY started_at") == [
        ("succeeded",),
        ("succeeded",),
    ]


def test_second_load_can_wait_for_the_lock(running_load, ingest_settings, query):
    patient = ingest_settings.model_copy(update={"lock_wait_seconds": 60})

    second = run_load(patient)

    assert running_load.wait(timeout=60) == 0
    assert (second.mode, second.status) == ("incremental", "skipped")  # nothing new since
    assert query("SELECT count(*) FROM bronze._loads") == [(3,)]

"""kill -9 of loads at random moments, and what a warehouse must look like after one: shared by
the kill tests of the DuckDB file (test_load_kill.py) and of the PostgreSQL server
(test_load_postgres.py). Each passes `fetch`, which runs one query on its warehouse."""

import random
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from mmds_ingest.fake_portal import FakePortal

Fetch = Callable[[str], list[tuple]]

LOADER = (
    "import sys; from mmds_ingest import IngestSettings, run_load; "
    "run_load(IngestSettings(), full_refresh=sys.argv[1] == 'full')"
)


def run_loader(env: Mapping[str, str], mode: str) -> None:
    """One load (`full` or `incremental`) in a process of its own, configured by `env`."""
    subprocess.run([sys.executable, "-c", LOADER, mode], env=env, check=True)


def snapshot(fetch: Fetch) -> tuple:
    """What a load may change: bronze's rows (key, hash), the audit (load, status) and the
    cursor; three empty tuples before any load created the tables."""
    tables = "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'bronze'"
    if not fetch(tables)[0][0]:
        return ((), (), ())
    return (
        tuple(fetch("SELECT _record_key, _row_hash FROM bronze.service_requests ORDER BY 1")),
        tuple(fetch("SELECT load_id, status FROM bronze._loads ORDER BY started_at")),
        tuple(fetch("SELECT cursor, load_id FROM bronze._state")),
    )


def assert_consistent(fetch: Fetch) -> None:
    """Bronze holds no duplicate, every committed insert and nothing else, and the cursor
    covers its newest row for the last successful load."""
    rows, keys, newest = fetch(
        "SELECT count(*), count(DISTINCT _record_key), max(last_modified_timestamp) "
        "FROM bronze.service_requests"
    )[0]
    net, last_load = fetch(
        "SELECT sum(rows_inserted - rows_deleted), "
        "(array_agg(load_id ORDER BY started_at DESC))[1] "
        "FROM bronze._loads WHERE status = 'succeeded'"
    )[0]
    state = fetch("SELECT cursor, load_id FROM bronze._state")
    assert rows == keys
    assert rows == (net or 0)
    assert state == ([(newest, last_load)] if last_load else [])


@dataclass
class KillOutcomes:
    """How long one whole full load took, and how many kills left the warehouse unchanged or
    found the load committed."""

    whole_load_seconds: float
    unchanged: int = 0
    committed: int = 0


def kill_loads_midway(
    portal: FakePortal,
    env: Mapping[str, str],
    fetch: Fetch,
    *,
    trials: int,
    seed: int,
    earliest: float = 0.0,
    settle: float = 0.0,
) -> KillOutcomes:
    """Time one full load, then `trials` times: move the portal a day on, start a load (a full
    one every third trial), kill -9 it at a random moment from `earliest` to 1.1 times the
    full load's time after its start, wait `settle` seconds, and assert the warehouse is
    consistent and either as before or holding exactly one whole load more."""
    rng = random.Random(seed)  # noqa: S311 -- reproducible kill moments, not secrets
    started = time.monotonic()
    run_loader(env, "full")
    outcomes = KillOutcomes(whole_load_seconds=time.monotonic() - started)
    whole = outcomes.whole_load_seconds
    for trial in range(trials):
        portal.advance(days=1)
        before = snapshot(fetch)
        mode = "full" if trial % 3 == 0 else "incremental"
        loader = subprocess.Popen([sys.executable, "-c", LOADER, mode], env=env)
        time.sleep(rng.uniform(whole * earliest, whole * 1.1))
        loader.kill()
        loader.wait()
        time.sleep(settle)
        after = snapshot(fetch)
        assert_consistent(fetch)
        if after == before:
            outcomes.unchanged += 1
        else:
            outcomes.committed += 1
            assert len(after[1]) == len(before[1]) + 1  # exactly one whole load more
    return outcomes

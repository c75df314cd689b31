"""Shared fixtures of the ingest tests."""

from collections.abc import Iterator

import pytest
from mmds_ingest.fake_portal import FakePortal


@pytest.fixture
def fake_portal() -> Iterator[FakePortal]:
    """A fresh fake portal serving 2,000 generated rows (seed 7) on 127.0.0.1."""
    with FakePortal(rows=2_000, seed=7) as portal:
        yield portal


@pytest.fixture
def ingest_settings(tmp_path, fake_portal):
    """Settings of a load from `fake_portal` into a warehouse under tmp_path, with short waits."""
    from mmds_ingest.settings import IngestSettings

    return IngestSettings(
        data_dir=tmp_path / "data",
        portal_url=fake_portal.url,
        retry_attempts=4,
        retry_budget_seconds=10,
        retry_initial_wait_seconds=0.01,
        retry_max_wait_seconds=0.2,
        read_timeout_seconds=5,
    )


@pytest.fixture
def query(ingest_settings):
    """Run one SQL query on the test warehouse (opened and closed around it) and fetch all."""
    import duckdb

    def run(sql: str, params: list | None = None) -> list[tuple]:
        con = duckdb.connect(str(ingest_settings.warehouse_path), read_only=True)
        try:
            con.execute("SET TimeZone = 'UTC'")
            return con.execute(sql, params).fetchall()
        finally:
            con.close()

    return run


@pytest.fixture
def snapshot_warehouse(query):
    """Everything a load may change: bronze rows (key, hash, load), the audit and the state."""

    def take() -> tuple:
        return (
            query(
                "SELECT _record_key, _row_hash, _load_id FROM bronze.service_requests ORDER BY 1"
            ),
            query("SELECT * FROM bronze._loads ORDER BY started_at"),
            query("SELECT * FROM bronze._state"),
        )

    return take

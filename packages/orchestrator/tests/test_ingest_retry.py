"""Dagster retries a transient portal failure until the load succeeds, and only that."""

import duckdb
from dagster import DagsterEventType, materialize
from mmds_ingest.fake_portal import FakePortal
from mmds_orchestrator.defs.ingest.assets import ingest_portal
from mmds_orchestrator.instance import open_instance


def test_a_transient_portal_fault_is_retried_to_success(data_dir, monkeypatch):
    # The library gives up after one attempt, so the fault reaches Dagster's retry policy.
    monkeypatch.setenv("MMDS_RETRY_ATTEMPTS", "1")
    with FakePortal(rows=500, seed=3) as portal:
        portal.inject("server_error", times=1, statuses=(503,))
        config = {"ops": {"ingest_portal": {"config": {"portal_url": portal.url}}}}
        with open_instance(data_dir / "dagster_home") as instance:
            result = materialize([ingest_portal], run_config=config, instance=instance)
        fired = portal.faults_fired

    assert result.success
    assert fired == {"server_error": 1}
    retries = [e for e in result.all_events if e.event_type == DagsterEventType.STEP_UP_FOR_RETRY]
    assert len(retries) == 1
    assert "transient" in retries[0].event_specific_data.error.to_string()
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from bronze.service_requests").fetchone() == (500,)


def test_a_permanent_portal_error_fails_at_once_with_the_librarys_message(data_dir, monkeypatch):
    monkeypatch.setenv("MMDS_DATASET_ID", "no-such-dataset")
    with FakePortal(rows=100, seed=1) as portal:
        config = {"ops": {"ingest_portal": {"config": {"portal_url": portal.url}}}}
        with open_instance(data_dir / "dagster_home") as instance:
            result = materialize(
                [ingest_portal],
                run_config=config,
                instance=instance,
                raise_on_error=False,
            )

    assert not result.success
    types = [e.event_type for e in result.all_events]
    assert DagsterEventType.STEP_UP_FOR_RETRY not in types
    (failure,) = [e for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE]
    description = failure.step_failure_data.user_failure_data.description
    assert description.startswith("Ingest failed:")
    assert "HTTP 404" in description

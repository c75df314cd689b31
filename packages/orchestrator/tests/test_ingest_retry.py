"""A transient portal failure is retried by Dagster's retry policy until the load succeeds."""

import duckdb
from dagster import DagsterEventType, materialize
from mmds_ingest.fake_portal import FakePortal
from mmds_orchestrator.defs.ingest.assets import ingest_portal
from mmds_orchestrator.defs.ingest.resources import PortalIngestResource
from mmds_orchestrator.instance import open_instance


def test_a_transient_portal_fault_is_retried_to_success(data_dir, monkeypatch):
    # The library gives up after one attempt, so the fault reaches Dagster's retry policy.
    monkeypatch.setenv("MMDS_RETRY_ATTEMPTS", "1")
    with FakePortal(rows=500, seed=3) as portal:
        portal.inject("server_error", times=1, statuses=(503,))
        resource = PortalIngestResource(portal_url=portal.url, data_dir=str(data_dir))
        with open_instance(data_dir / "dagster_home") as instance:
            result = materialize([ingest_portal], resources={"portal": resource}, instance=instance)
        fired = portal.faults_fired

    assert result.success
    assert fired == {"server_error": 1}
    retries = [e for e in result.all_events if e.event_type == DagsterEventType.STEP_UP_FOR_RETRY]
    assert len(retries) == 1
    assert "transient" in retries[0].event_specific_data.error.to_string()
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from bronze.service_requests").fetchone() == (500,)

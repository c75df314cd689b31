"""Records deleted at the source leave bronze at the next run, not only at the weekly full load:
the incremental load reconciles bronze with the portal itself."""

from datetime import UTC, datetime

import duckdb
from dagster import materialize
from mmds_ingest.fake_portal import FakePortal
from mmds_orchestrator.defs.ingest.assets import ingest_portal
from mmds_orchestrator.instance import open_instance


def test_an_incremental_run_after_deletions_removes_them_from_bronze(data_dir):
    with FakePortal(rows=500, seed=1, end=datetime(2026, 6, 30, 12, tzinfo=UTC)) as portal:
        config = {"ops": {"ingest_portal": {"config": {"portal_url": portal.url}}}}
        with open_instance(data_dir / "dagster_home") as instance:
            materialize([ingest_portal], run_config=config, instance=instance)
            deleted = 0
            while not deleted:
                deleted = portal.advance(days=5).deleted
            result = materialize([ingest_portal], run_config=config, instance=instance)
        total = portal.total_count()

    assert result.success
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from bronze.service_requests").fetchone() == (total,)
        loads = con.execute(
            "select mode, rows_deleted from bronze._loads"
            " where dataset = '3-1-1-service-requests' order by finished_at"
        ).fetchall()
    assert [mode for mode, _ in loads] == ["full", "incremental"]
    assert loads[-1][1] >= deleted
    checks = result.get_asset_check_evaluations()
    assert [check.passed for check in checks] == [True]

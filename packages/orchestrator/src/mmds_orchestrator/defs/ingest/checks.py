"""The check on bronze: its row count reconciles with the portal's."""

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    asset_check,
)

from mmds_orchestrator.defs.ingest.assets import BRONZE_REQUESTS
from mmds_orchestrator.defs.ingest.resources import PortalIngestResource
from mmds_orchestrator.defs.pools import WAREHOUSE_POOL


@asset_check(
    asset=BRONZE_REQUESTS,
    description="Bronze holds exactly as many rows as the portal's total_count.",
    pool=WAREHOUSE_POOL,
)
def bronze_matches_portal_count(portal: PortalIngestResource) -> AssetCheckResult:
    """Compare bronze's row count with the portal's `total_count`.

    After a full load they must be equal (severity error). After an incremental load the portal
    may have changed or deleted records in between, so a difference is only a warning.
    """
    bronze_rows, last_mode = portal.bronze_state()
    portal_rows = portal.portal_total_count()
    return AssetCheckResult(
        passed=bronze_rows == portal_rows,
        severity=AssetCheckSeverity.ERROR if last_mode == "full" else AssetCheckSeverity.WARN,
        metadata={
            "bronze_rows": bronze_rows,
            "portal_total_count": portal_rows,
            "difference": bronze_rows - portal_rows,
            "last_load_mode": last_mode or "none",
        },
    )

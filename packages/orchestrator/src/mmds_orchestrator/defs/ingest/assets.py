"""The ingest asset: the portal's records into `bronze.service_requests` and `bronze._loads`."""

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Backoff,
    Failure,
    FreshnessPolicy,
    Jitter,
    MaterializeResult,
    RetryPolicy,
    multi_asset,
)
from mmds_ingest import LoadResult, errors

from mmds_orchestrator.defs.ingest.resources import PortalIngestResource
from mmds_orchestrator.defs.pools import WAREHOUSE_POOL
from mmds_orchestrator.defs.refresh import INGEST_OP, RefreshConfig

BRONZE_REQUESTS = AssetKey(["bronze", "service_requests"])
BRONZE_LOADS = AssetKey(["bronze", "_loads"])

# Freshness of bronze, evaluated by the Dagster daemon (`mmds ui`): the hourly schedule keeps it
# fresh; a warning after 2 hours without a load, a failure after 26 (the portal updates daily).
BRONZE_FRESHNESS = FreshnessPolicy.time_window(
    fail_window=timedelta(hours=26), warn_window=timedelta(hours=2)
)

# Transient failures (portal down for the library's whole retry budget, warehouse locked by a
# process outside Dagster) are retried by Dagster, later and with backoff; others fail at once.
INGEST_RETRY_POLICY = RetryPolicy(
    max_retries=3, delay=5, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS
)


@multi_asset(
    name=INGEST_OP,
    specs=[
        AssetSpec(
            BRONZE_REQUESTS,
            description="City of Vancouver 3-1-1 requests as the portal sent them, one row each.",
            group_name="bronze",
            kinds={"duckdb", "python"},
            freshness_policy=BRONZE_FRESHNESS,
        ),
        AssetSpec(
            BRONZE_LOADS,
            description="One audit row per committed load.",
            group_name="bronze",
            kinds={"duckdb", "python"},
        ),
    ],
    pool=WAREHOUSE_POOL,
    retry_policy=INGEST_RETRY_POLICY,
)
def ingest_portal(
    context: AssetExecutionContext, portal: PortalIngestResource, config: RefreshConfig
) -> Iterator[MaterializeResult]:
    """Load new and changed records (or everything, with `full_refresh`) in one transaction."""
    transient = (errors.PortalUnavailableError, errors.WarehouseLockedError)
    try:
        result = portal.load(full_refresh=config.full_refresh)
        if result.mode == "incremental" and _source_deleted_records(portal):
            context.log.info(
                "Bronze holds more rows than the portal: records were deleted at the source, "
                "which only a full load can see; running one."
            )
            result = portal.load(full_refresh=True)
    except transient as error:
        raise Failure(
            description=f"Ingest attempt {context.retry_number + 1} failed (transient): {error}",
            allow_retries=True,
        ) from error
    except errors.IngestError as error:
        raise Failure(description=f"Ingest failed: {error}", allow_retries=False) from error
    metadata = load_metadata(result)
    context.log.info(f"Load {metadata.get('load_id')}: {metadata}")
    yield MaterializeResult(asset_key=BRONZE_REQUESTS, metadata=metadata)
    yield MaterializeResult(
        asset_key=BRONZE_LOADS,
        metadata={key: metadata[key] for key in ("load_id", "mode", "status") if key in metadata},
    )


def _source_deleted_records(portal: PortalIngestResource) -> bool:
    """Whether bronze holds more rows than the portal now counts (an incremental load never
    deletes: the rows the portal dropped are not in its export)."""
    bronze_rows, _ = portal.bronze_state()
    return bronze_rows > portal.portal_total_count()


def load_metadata(result: LoadResult) -> dict[str, Any]:
    """The `LoadResult` as flat Dagster metadata (instants as ISO text, absent values dropped)."""
    metadata: dict[str, Any] = {}
    for key, value in result.as_dict().items():
        if value is None:
            continue
        if isinstance(value, datetime):
            metadata[key] = value.isoformat()
        elif isinstance(value, bool | int | float | str):
            metadata[key] = value
        else:
            metadata[key] = str(value)
    return metadata

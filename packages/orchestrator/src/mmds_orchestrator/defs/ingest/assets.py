"""The ingest asset: the portal's records into `bronze.service_requests` and `bronze._loads`."""

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from dagster import (
    AssetCheckKey,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetObservation,
    AssetSpec,
    Backoff,
    Failure,
    FreshnessPolicy,
    Jitter,
    MaterializeResult,
    RetryPolicy,
    multi_asset,
)
from mmds_ingest import IngestSettings, LoadResult, errors, run_load

from mmds_orchestrator.defs.pools import WAREHOUSE_POOL
from mmds_orchestrator.defs.refresh import INGEST_OP, IngestConfig

BRONZE_REQUESTS = AssetKey(["bronze", "service_requests"])
BRONZE_LOADS = AssetKey(["bronze", "_loads"])
RECONCILIATION_CHECK = "bronze_matches_portal_count"
RECONCILIATION = AssetCheckKey(BRONZE_REQUESTS, RECONCILIATION_CHECK)

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
            # not materialized when a load changed nothing: dbt and publish are then skipped
            skippable=True,
        ),
        AssetSpec(
            BRONZE_LOADS,
            description="One audit row per load, skipped loads included.",
            group_name="bronze",
            kinds={"duckdb", "python"},
        ),
    ],
    check_specs=[
        AssetCheckSpec(
            RECONCILIATION_CHECK,
            asset=BRONZE_REQUESTS,
            description="Bronze holds exactly as many rows as the portal's total_count.",
        )
    ],
    pool=WAREHOUSE_POOL,
    retry_policy=INGEST_RETRY_POLICY,
)
def ingest_portal(
    context: AssetExecutionContext, config: IngestConfig
) -> Iterator[MaterializeResult | AssetObservation | AssetCheckResult]:
    """Load new and changed records (or everything, with `full_refresh`) in one transaction.

    `bronze/service_requests` materializes only when the load changed bronze (or was full);
    otherwise the load's metadata is recorded as an observation and Dagster skips every step
    downstream. Bronze is reconciled with the portal's count either way. The audit row is always
    written, so `bronze/_loads` always materializes.
    """
    transient = (errors.PortalUnavailableError, errors.WarehouseLockedError)
    try:
        result = run_load(ingest_settings(config), full_refresh=config.full_refresh)
        metadata = load_metadata(result)  # shown on the asset: no log line repeats it
        if changed_bronze(result):
            yield MaterializeResult(asset_key=BRONZE_REQUESTS, metadata=metadata)
        else:
            context.log.info("Bronze is unchanged: dbt and publish have nothing to do.")
            yield AssetObservation(
                asset_key=BRONZE_REQUESTS, metadata={**metadata, "skipped": True}
            )
        yield reconciliation(result)
    except transient as error:
        raise Failure(
            description=f"Ingest attempt {context.retry_number + 1} failed (transient): {error}",
            allow_retries=True,
        ) from error
    except errors.IngestError as error:
        raise Failure(description=f"Ingest failed: {error}", allow_retries=False) from error
    yield MaterializeResult(
        asset_key=BRONZE_LOADS,
        metadata={key: metadata[key] for key in ("load_id", "mode", "status") if key in metadata},
    )


def ingest_settings(config: IngestConfig) -> IngestSettings:
    """mmds-ingest's settings, read from `MMDS_*` when the step runs, with the run's portal if
    its config names one (the sample portal of `mmds run --sample`)."""
    return IngestSettings(**({"portal_url": config.portal_url} if config.portal_url else {}))


def reconciliation(result: LoadResult) -> AssetCheckResult:
    """Bronze's row count against the portal's `total_count`, as the load verified them.

    mmds-ingest reconciles inside every load (fetching missing rows, removing deleted ones) and
    fails the load when it cannot agree, so a committed load always passes; the check makes the
    agreement visible in Dagster with what the load did to reach it.
    """
    return AssetCheckResult(
        asset_key=BRONZE_REQUESTS,
        check_name=RECONCILIATION_CHECK,
        passed=result.bronze_count == result.portal_total,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "bronze_rows": result.bronze_count,
            "portal_total_count": result.portal_total,
            "reconciliation": result.reconciliation or "",
        },
    )


def changed_bronze(result: LoadResult) -> bool:
    """Whether a load changed bronze: a full load, or rows inserted, updated or deleted."""
    if result.status != "succeeded":
        return False
    changes = result.rows_inserted + result.rows_updated + result.rows_deleted
    return result.mode == "full" or changes > 0


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

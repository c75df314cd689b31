"""The ingest asset: every portal dataset mmds-ingest declares into bronze, and `bronze._loads`."""

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
    Failure,
    FreshnessPolicy,
    MaterializeResult,
    RetryRequested,
    multi_asset,
)
from mmds_ingest import IngestSettings, LoadResult, errors, run_load
from mmds_ingest.datasets import DATASETS, LOCAL_AREA_BOUNDARIES, SERVICE_REQUESTS, Dataset

from mmds_orchestrator.defs.pools import WAREHOUSE_POOL
from mmds_orchestrator.defs.refresh import INGEST_OP, IngestConfig
from mmds_orchestrator.progress import INGEST, LoadProgressReporter, StageProgress, report
from mmds_orchestrator.wording import one_line

BRONZE_LOADS = AssetKey(["bronze", "_loads"])


def bronze_key(dataset: Dataset) -> AssetKey:
    """The asset of a dataset's bronze table (`bronze/<table>`, as dbt's sources name it)."""
    return AssetKey(["bronze", dataset.bronze_table])


BRONZE_TABLES = [bronze_key(dataset) for dataset in DATASETS]
BRONZE_REQUESTS = bronze_key(SERVICE_REQUESTS)
# What each dataset's bronze table is, for readers of the asset graph.
DESCRIPTIONS = {
    SERVICE_REQUESTS.id: "City of Vancouver 3-1-1 requests as the portal sent them, one row each.",
    LOCAL_AREA_BOUNDARIES.id: "The City's 22 local areas as the portal sent them, one polygon each",
}
RECONCILIATION_CHECK = "bronze_matches_portal_count"
RECONCILIATION = AssetCheckKey(BRONZE_REQUESTS, RECONCILIATION_CHECK)

# Freshness of bronze, evaluated by the Dagster daemon (`mmds ui`): the hourly schedule keeps it
# fresh; a warning after 2 hours without a load, a failure after 26 (the portal updates daily).
BRONZE_FRESHNESS = FreshnessPolicy.time_window(
    fail_window=timedelta(hours=26), warn_window=timedelta(hours=2)
)

# mmds-ingest retries what waiting can fix within its own budget (CONTRACT-P2 A1): a failed
# load is not retried on top of it, except once, a little later, when another process (outside
# Dagster's `warehouse` pool) held the warehouse's write lock.
LOCKED_RETRY_SECONDS = 10


@multi_asset(
    name=INGEST_OP,
    specs=[
        *(
            AssetSpec(
                bronze_key(dataset),
                description=DESCRIPTIONS[dataset.id],
                group_name="bronze",
                kinds={"duckdb", "python"},
                # bronze's freshness is the requests' (the boundaries change once in years)
                freshness_policy=BRONZE_FRESHNESS if dataset == SERVICE_REQUESTS else None,
                # not materialized when a load changed nothing: dbt and publish are then skipped
                skippable=True,
            )
            for dataset in DATASETS
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
)
def ingest_portal(
    context: AssetExecutionContext, config: IngestConfig
) -> Iterator[MaterializeResult | AssetObservation | AssetCheckResult]:
    """Load each dataset (new and changed records, or everything with `full_refresh`), each in
    one transaction, in mmds-ingest's order; stop at the first that fails.

    A dataset's bronze asset materializes only when its load changed bronze (or was full);
    otherwise the load's metadata is recorded as an observation, and when no dataset changed,
    Dagster skips every step downstream. The requests are reconciled with the portal's count
    either way. The audit rows are always written, so `bronze/_loads` always materializes.
    """
    report(StageProgress(INGEST, "started"))
    settings = ingest_settings(config)
    received = []
    for dataset in DATASETS:
        result = load(context, settings, dataset, full_refresh=config.full_refresh)
        metadata = load_metadata(result)  # shown on the asset: no log line repeats it
        received.append(f"{dataset.id} {result.rows_received:,} rows")
        if changed_bronze(result):
            yield MaterializeResult(asset_key=bronze_key(dataset), metadata=metadata)
        else:
            context.log.info(f"{dataset.id}: bronze is unchanged.")
            yield AssetObservation(
                asset_key=bronze_key(dataset), metadata={**metadata, "skipped": True}
            )
        if dataset == SERVICE_REQUESTS:
            yield reconciliation(result)
    report(StageProgress(INGEST, "finished", detail=f"received {', '.join(received)}"))
    yield MaterializeResult(asset_key=BRONZE_LOADS, metadata={"datasets": len(DATASETS)})


def load(
    context: AssetExecutionContext, settings: IngestSettings, dataset: Dataset, full_refresh: bool
) -> LoadResult:
    """One load by `mmds_ingest.run_load`, its progress reported to `mmds run`'s console.

    mmds-ingest retries what waiting can fix within its own budget, so a failed load fails the
    step, except once, a little later, when another process held the warehouse's write lock.
    """
    try:
        return run_load(
            settings,
            dataset=dataset,
            full_refresh=full_refresh,
            on_progress=LoadProgressReporter(),
        )
    except errors.WarehouseLockedError as error:
        if context.retry_number == 0:
            report(StageProgress(INGEST, "progress", detail=f"{one_line(str(error))}; retrying"))
            raise RetryRequested(max_retries=1, seconds_to_wait=LOCKED_RETRY_SECONDS) from error
        raise _failed(str(error)) from error
    except errors.IngestError as error:
        raise _failed(str(error)) from error
    except Exception as error:  # not classified by mmds-ingest: its type says more than nothing
        raise _failed(f"{type(error).__name__}: {error}") from error


def _failed(message: str) -> Failure:
    """The step's failure, one line: mmds-ingest's message says what failed and what to do."""
    line = one_line(f"ingest failed: {message}")
    report(StageProgress(INGEST, "failed", detail=line.removeprefix("ingest failed: ")))
    return Failure(description=line, allow_retries=False)


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

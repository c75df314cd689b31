"""The publish asset: gold becomes `serving.duckdb`, only once its blocking checks passed."""

from collections.abc import Sequence
from dataclasses import asdict

import pyarrow as pa
from dagster import (
    AssetCheckKey,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    DagsterType,
    Failure,
    TypeCheck,
    TypeCheckContext,
    asset,
)
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from mmds_orchestrator.defs.pools import WAREHOUSE_POOL
from mmds_orchestrator.defs.publish.resources import DataFiles
from mmds_orchestrator.defs.publish.serving import DbtTestResult, PublishError, publish_serving_file

PUBLISH_KEY = AssetKey(["serving", "gold"])
PUBLISH_SCHEMA = pa.schema(
    [
        ("published_at", pa.timestamp("us", tz="UTC")),
        ("load_id", pa.string()),
        ("source_last_modified_at", pa.timestamp("us", tz="UTC")),
        ("serving_path", pa.string()),
        ("gold_tables", pa.int64()),
        ("gold_rows", pa.int64()),
    ]
)
PUBLISH_COLUMNS = tuple(PUBLISH_SCHEMA.names)
FAILED_ROWS_METADATA = "dagster_dbt/failed_row_count"


def _is_publish_record(_: TypeCheckContext, value: object) -> TypeCheck:
    if not isinstance(value, pa.Table):
        return TypeCheck(False, description=f"Expected an Arrow table, not {type(value).__name__}")
    if tuple(value.column_names) != PUBLISH_COLUMNS or value.num_rows != 1:
        return TypeCheck(
            False,
            description=(
                f"Expected one row with columns {PUBLISH_COLUMNS}, "
                f"got {value.num_rows} row(s) with {tuple(value.column_names)}."
            ),
        )
    return TypeCheck(True)


PublishRecordTable = DagsterType(
    name="PublishRecordTable",
    type_check_fn=_is_publish_record,
    typing_type=pa.Table,
    description="One row describing the serving file just published.",
)


def build_publish_asset(
    sources: Sequence[AssetKey], test_check_keys: Sequence[AssetCheckKey]
) -> AssetsDefinition:
    """`serving/gold`, downstream of `sources` (every gold model and the load audit).

    Refuses while the newest evaluation of any error-severity dbt test failed.
    """

    @asset(
        key=PUBLISH_KEY,
        deps=sources,
        group_name="serving",
        pool=WAREHOUSE_POOL,
        kinds={"duckdb"},
        dagster_type=PublishRecordTable,
        description="serving.duckdb: gold plus meta tables, replaced atomically for the dashboard.",
    )
    def serving_gold(context: AssetExecutionContext, files: DataFiles) -> pa.Table:
        results = latest_test_results(context, test_check_keys)
        failing = [r for r in results if r.status == "fail"]
        if failing:
            names = ", ".join(f"{r.test_name} on {r.model_name}" for r in failing)
            raise Failure(
                description=(
                    f"Not publishing: error-severity dbt tests failed ({names}); "
                    f"{files.serving} is left as it was."
                ),
                allow_retries=False,
            )
        try:
            record = publish_serving_file(files.warehouse, files.serving, results)
        except PublishError as error:
            raise Failure(description=str(error), allow_retries=False) from error
        row = {**asdict(record), "serving_path": str(files.serving)}
        context.add_output_metadata(
            {
                "published_at": record.published_at.isoformat(),
                "load_id": record.load_id or "none",
                "gold_tables": record.gold_tables,
                "gold_rows": record.gold_rows,
                "tests_recorded": len(results),
            }
        )
        return pa.Table.from_pylist([row], schema=PUBLISH_SCHEMA)

    return serving_gold


def latest_test_results(
    context: AssetExecutionContext, check_keys: Sequence[AssetCheckKey]
) -> list[DbtTestResult]:
    """The newest evaluation of every dbt test (normally from this run's `dbt build`)."""
    latest = context.instance.event_log_storage.get_latest_asset_check_execution_by_key(
        list(check_keys)
    )
    results = []
    for key, record in sorted(latest.items(), key=lambda item: item[0].to_user_string()):
        evaluation = record.evaluation
        if record.status == AssetCheckExecutionRecordStatus.PLANNED or evaluation is None:
            continue
        if evaluation.passed:
            status = "pass"
        else:
            status = "warn" if evaluation.severity == AssetCheckSeverity.WARN else "fail"
        failed_rows = evaluation.metadata.get(FAILED_ROWS_METADATA)
        results.append(
            DbtTestResult(
                test_name=key.name,
                model_name=key.asset_key.path[-1],
                status=status,
                failures=int(failed_rows.value) if failed_rows is not None else 0,
            )
        )
    return results

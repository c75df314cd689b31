"""The publish asset: gold becomes `serving.duckdb`, once its blocking checks passed and only
when gold changed since the last publication."""

from collections.abc import Iterator, Sequence

from dagster import (
    AssetCheckKey,
    AssetExecutionContext,
    AssetKey,
    AssetObservation,
    AssetsDefinition,
    Failure,
    MaterializeResult,
    asset,
)

from mmds_orchestrator.check_results import latest_check_results
from mmds_orchestrator.defs.pools import WAREHOUSE_POOL
from mmds_orchestrator.defs.publish.contract import ServingColumn
from mmds_orchestrator.defs.publish.postgres_snapshot import readable_warehouse
from mmds_orchestrator.defs.publish.resources import DataFiles
from mmds_orchestrator.defs.publish.serving import (
    PublishError,
    gold_digest,
    publish_serving_file,
    published_gold_digest,
    remove_partial_publications,
)
from mmds_orchestrator.defs.refresh import PublishConfig
from mmds_orchestrator.progress import PUBLISH, StageProgress, report
from mmds_orchestrator.wording import one_line

PUBLISH_KEY = AssetKey(["serving", "gold"])
GOLD_UNCHANGED = "gold unchanged"


def build_publish_asset(
    sources: Sequence[AssetKey],
    check_keys: Sequence[AssetCheckKey],
    gold: Sequence[ServingColumn],
    recorded_check_keys: Sequence[AssetCheckKey] = (),
) -> AssetsDefinition:
    """`serving/gold`, downstream of `sources` (every gold model and the load audit), copying
    the `gold` tables and columns the contract declares.

    Refuses while the newest evaluation of any error-severity check of `check_keys` failed;
    `recorded_check_keys` (the forecast's: a model worse than its baseline is shown, not
    hidden) are recorded in `meta.test_results` beside them without refusing. Does not
    materialize (an observation says why) when gold and the tests' outcomes are those of the
    serving file already published.
    """

    @asset(
        key=PUBLISH_KEY,
        deps=sources,
        group_name="serving",
        pool=WAREHOUSE_POOL,
        kinds={"duckdb"},
        output_required=False,
        description="serving.duckdb: gold plus meta tables, replaced atomically for the dashboard.",
    )
    def serving_gold(
        context: AssetExecutionContext, files: DataFiles, config: PublishConfig
    ) -> Iterator[MaterializeResult | AssetObservation]:
        report(StageProgress(PUBLISH, "started"))
        for leftover in remove_partial_publications(files.serving):
            context.log.info(f"Removed {leftover.name}, left by a publication that was killed.")
        blocking = latest_check_results(context.instance, check_keys)
        failing = [r for r in blocking if r.status == "fail"]
        if failing:
            names = ", ".join(f"{r.test_name} on {r.model_name}" for r in failing[:3])
            more = f" and {len(failing) - 3} more" if len(failing) > 3 else ""
            raise _refused(
                f"not published: error-severity checks failed ({names}{more}); "
                "fix them and run `mmds run` again"
            )
        recorded = latest_check_results(context.instance, recorded_check_keys)
        results = [*blocking, *recorded]
        with readable_warehouse(files.warehouse, files.serving, gold) as warehouse:
            digest = gold_digest(warehouse, gold, results)
            if digest == published_gold_digest(files.serving):
                context.log.info(
                    "Gold is unchanged since the last publication: nothing to publish."
                )
                report(StageProgress(PUBLISH, "skipped", detail=GOLD_UNCHANGED))
                yield AssetObservation(
                    asset_key=PUBLISH_KEY,
                    metadata={"skipped": True, "reason": GOLD_UNCHANGED, "gold_digest": digest},
                )
                return
            try:
                record = publish_serving_file(
                    warehouse, files.serving, gold, results, is_sample=config.is_sample
                )
            except PublishError as error:
                raise _refused(f"not published: {error}") from error
        report(StageProgress(PUBLISH, "finished", detail=f"published {files.serving.name}"))
        yield MaterializeResult(
            metadata={
                "published_at": record.published_at.isoformat(),
                "load_id": record.load_id or "none",
                "gold_tables": record.gold_tables,
                "gold_rows": record.gold_rows,
                "gold_digest": record.gold_digest,
                "portal_url": record.portal_url or "none",
                "is_sample": record.is_sample,
                "tests_recorded": len(results),
                "serving_path": str(files.serving),
            }
        )

    return serving_gold


def _refused(line: str) -> Failure:
    report(StageProgress(PUBLISH, "failed", detail=line))
    return Failure(description=one_line(line), allow_retries=False)

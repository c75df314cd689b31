"""The publish stage: the serving file, downstream of every gold model and the load audit."""

import json

from dagster import Definitions, definitions

from mmds_orchestrator.defs.forecast.assets import FORECAST_CHECK
from mmds_orchestrator.defs.forecast.tables import BACKTEST_KEY, FORECAST_KEY
from mmds_orchestrator.defs.ingest.assets import BRONZE_LOADS, RECONCILIATION
from mmds_orchestrator.defs.publish.assets import build_publish_asset
from mmds_orchestrator.defs.publish.contract import forecast_contract, gold_contract
from mmds_orchestrator.defs.publish.resources import DataFiles
from mmds_orchestrator.defs.transform.assets import dbt_models
from mmds_orchestrator.settings import PipelineSettings


@definitions
def publish() -> Definitions:
    """`serving/gold` after the gold models of the dbt project and the forecast, and the `files`
    resource."""
    settings = PipelineSettings.from_environment()
    project, models = dbt_models(settings)
    gold = sorted(
        (key for key in models.keys if key.path[0] == "gold"), key=lambda k: tuple(k.path)
    )
    manifest = json.loads(project.manifest_path.read_text(encoding="utf-8"))
    serving_gold = build_publish_asset(
        [*gold, FORECAST_KEY, BACKTEST_KEY, BRONZE_LOADS],
        sorted([*models.check_keys, RECONCILIATION]),
        [*gold_contract(manifest), *forecast_contract()],
        recorded_check_keys=[FORECAST_CHECK],
    )
    return Definitions(assets=[serving_gold], resources={"files": DataFiles.of(settings)})

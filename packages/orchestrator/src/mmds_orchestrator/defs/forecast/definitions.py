"""The forecast stage: its asset and the IO manager that reads and writes the warehouse's tables."""

from dagster import Definitions, definitions

from mmds_orchestrator.defs.forecast.assets import WAREHOUSE_TABLES, forecast_demand
from mmds_orchestrator.defs.forecast.tables import WarehouseTables
from mmds_orchestrator.settings import PipelineSettings


@definitions
def forecast() -> Definitions:
    """`gold/forecast_demand_daily` and `gold/forecast_backtest`, on the settings' warehouse."""
    warehouse = PipelineSettings.from_environment().warehouse_path
    return Definitions(
        assets=[forecast_demand],
        resources={WAREHOUSE_TABLES: WarehouseTables(database=str(warehouse))},
    )

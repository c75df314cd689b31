"""The forecast's two gold tables (declared with the serving contract), and the IO manager that
reads the features and writes the tables in the warehouse, on either engine."""

from typing import Any

from dagster import (
    AssetKey,
    ConfigurableIOManagerFactory,
    InitResourceContext,
    InputContext,
    IOManager,
    OutputContext,
)
from mmds_ingest import IngestSettings
from pydantic import Field

from mmds_orchestrator.defs.publish.contract import BACKTEST_COLUMNS, FORECAST_COLUMNS, GOLD

FEATURES_KEY = AssetKey([GOLD, "agg_demand_features_daily"])
HOLIDAYS_KEY = AssetKey(["silver", "bc_statutory_holidays"])
FORECAST_KEY = AssetKey([GOLD, "forecast_demand_daily"])
BACKTEST_KEY = AssetKey([GOLD, "forecast_backtest"])

TABLES = dict(zip((FORECAST_KEY, BACKTEST_KEY), (FORECAST_COLUMNS, BACKTEST_COLUMNS), strict=True))


class Unchanged:
    """The output of an asset that kept its table as it was (no new data to learn from)."""


UNCHANGED = Unchanged()


class WarehouseTables(ConfigurableIOManagerFactory):
    """The warehouse's tables at `[schema, table]` of their asset key, as polars frames: on the
    DuckDB file through dagster-duckdb-polars' IO manager (`polars_tables.PolarsTables`), or,
    when `MMDS_WAREHOUSE_URL` names a PostgreSQL server, there (`postgres_tables`). An output
    of `UNCHANGED` leaves its table as it is."""

    database: str = Field(
        description="The warehouse's DuckDB file (unused when MMDS_WAREHOUSE_URL names a server)."
    )
    # read from this resource's config by dagster-duckdb's connection, as its own field is
    connection_config: dict[str, Any] = Field(
        default={}, description="DuckDB settings of the connection (none)."
    )

    def create_io_manager(self, context: InitResourceContext) -> IOManager:
        # Both imported here: see `polars_tables`.
        settings = IngestSettings()  # the server's URL is a secret: never in resource config
        if settings.postgres_url is not None:
            from mmds_orchestrator.defs.forecast.postgres_tables import PostgresTables

            return _KeepsUnchanged(PostgresTables(settings.postgres_url, settings.warehouse_name))
        from mmds_orchestrator.defs.forecast.polars_tables import PolarsTables

        tables = PolarsTables(database=self.database, connection_config=self.connection_config)
        return _KeepsUnchanged(tables.create_io_manager(context))


class _KeepsUnchanged(IOManager):
    def __init__(self, tables: IOManager) -> None:
        self.tables = tables

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        if isinstance(obj, Unchanged):
            return
        self.tables.handle_output(context, obj)

    def load_input(self, context: InputContext) -> Any:
        return self.tables.load_input(context)

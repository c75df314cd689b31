"""The forecast's two gold tables (declared with the serving contract), and the IO manager that
reads the features and writes the tables in the warehouse."""

from typing import Any

import polars as pl
from dagster import AssetKey, InputContext, IOManager, OutputContext
from dagster_duckdb_polars import DuckDBPolarsIOManager, DuckDBPolarsTypeHandler

from mmds_orchestrator.defs.publish.contract import BACKTEST_COLUMNS, FORECAST_COLUMNS, GOLD

FEATURES_KEY = AssetKey([GOLD, "agg_demand_features_daily"])
HOLIDAYS_KEY = AssetKey(["silver", "bc_statutory_holidays"])
FORECAST_KEY = AssetKey([GOLD, "forecast_demand_daily"])
BACKTEST_KEY = AssetKey([GOLD, "forecast_backtest"])

TABLES = dict(zip((FORECAST_KEY, BACKTEST_KEY), (FORECAST_COLUMNS, BACKTEST_COLUMNS), strict=True))

_POLARS_TYPES = {
    "DATE": pl.Date,
    "INTEGER": pl.Int32,
    "VARCHAR": pl.String,
    "DOUBLE": pl.Float64,
    "BOOLEAN": pl.Boolean,
}


def conform(frame: pl.DataFrame, key: AssetKey) -> pl.DataFrame:
    """`frame` with exactly the declared columns of `key`'s table, in order, typed as declared."""
    return frame.select(
        pl.col(column).cast(_POLARS_TYPES[data_type]) for column, data_type in TABLES[key]
    )


class Unchanged:
    """The output of an asset that kept its table as it was (no new data to learn from)."""


UNCHANGED = Unchanged()


class WarehouseTables(DuckDBPolarsIOManager):
    """dagster-duckdb-polars' IO manager on the warehouse file, tables at `[schema, table]` of
    their asset key. An output of `UNCHANGED` leaves its table as it is.

    Reads go through `to_arrow_table()`: DuckDB 2 dropped the `arrow()` of a query result that
    dagster-duckdb-polars 0.29 calls.
    """

    @staticmethod
    def type_handlers() -> list[DuckDBPolarsTypeHandler]:
        return [_ArrowTableReader()]

    def create_io_manager(self, context) -> IOManager:
        return _KeepsUnchanged(super().create_io_manager(context))


class _ArrowTableReader(DuckDBPolarsTypeHandler):
    def load_input(self, context: InputContext, table_slice: Any, connection: Any) -> pl.DataFrame:
        if table_slice.partition_dimensions:
            raise NotImplementedError("the warehouse's tables are not partitioned")
        columns = ", ".join(f'"{c}"' for c in table_slice.columns) if table_slice.columns else "*"
        query = f'select {columns} from "{table_slice.schema}"."{table_slice.table}"'  # noqa: S608 - asset keys
        return pl.DataFrame(connection.sql(query).to_arrow_table())


class _KeepsUnchanged(IOManager):
    def __init__(self, tables: IOManager) -> None:
        self.tables = tables

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        if isinstance(obj, Unchanged):
            return
        self.tables.handle_output(context, obj)

    def load_input(self, context: InputContext) -> Any:
        return self.tables.load_input(context)

"""dagster-duckdb-polars' IO manager as the forecast uses it, and the frames it writes.

Imported only when a step runs (`tables.WarehouseTables`): polars and the IO manager take half a
second to import, which every `mmds run` would otherwise pay at start-up.
"""

from typing import Any

import polars as pl
from dagster import AssetKey, InputContext
from dagster_duckdb_polars import DuckDBPolarsIOManager, DuckDBPolarsTypeHandler

from mmds_orchestrator.defs.forecast.tables import TABLES

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


class PolarsTables(DuckDBPolarsIOManager):
    """Tables at `[schema, table]` of their asset key, read and written as polars frames.

    Reads hand DuckDB's relation to polars directly: DuckDB 2 dropped the `arrow()` of a query
    result that dagster-duckdb-polars 0.29 calls.
    """

    @staticmethod
    def type_handlers() -> list[DuckDBPolarsTypeHandler]:
        return [_ArrowTableReader()]


class _ArrowTableReader(DuckDBPolarsTypeHandler):
    def load_input(self, context: InputContext, table_slice: Any, connection: Any) -> pl.DataFrame:
        if table_slice.partition_dimensions:
            raise NotImplementedError("the warehouse's tables are not partitioned")
        columns = ", ".join(f'"{c}"' for c in table_slice.columns) if table_slice.columns else "*"
        query = f'select {columns} from "{table_slice.schema}"."{table_slice.table}"'  # noqa: S608 - asset keys
        # through the Arrow C stream: no pyarrow to import (a third of a second)
        return pl.DataFrame(connection.sql(query))

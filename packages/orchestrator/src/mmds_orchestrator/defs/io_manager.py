"""The DuckDB IO manager through which Python assets hand Arrow tables to one another."""

from collections.abc import Sequence

import pyarrow as pa
from dagster import InputContext, OutputContext
from dagster._core.storage.db_io_manager import DbTypeHandler, TableSlice
from dagster_duckdb import DuckDBIOManager
from dagster_duckdb.io_manager import DuckDbClient


class ArrowTableTypeHandler(DbTypeHandler[pa.Table]):
    """Stores a `pyarrow.Table` as a DuckDB table named after the asset key, and reads it back."""

    def handle_output(
        self, context: OutputContext, table_slice: TableSlice, obj: pa.Table, connection
    ) -> dict[str, int]:
        connection.register("_mmds_output", obj)
        try:
            # Schema and table come from the asset key, not from user input.
            target = f"{table_slice.schema}.{table_slice.table}"
            connection.execute(f"create or replace table {target} as select * from _mmds_output")  # noqa: S608
        finally:
            connection.unregister("_mmds_output")
        return {"row_count": obj.num_rows}

    def load_input(self, context: InputContext, table_slice: TableSlice, connection) -> pa.Table:
        return connection.sql(DuckDbClient.get_select_statement(table_slice)).to_arrow_table()

    @property
    def supported_types(self) -> Sequence[type[object]]:
        return [pa.Table]


class DuckDBArrowIOManager(DuckDBIOManager):
    """dagster-duckdb's IO manager for Arrow tables: typed, inspectable, never a pickle."""

    @staticmethod
    def type_handlers() -> Sequence[DbTypeHandler]:
        return [ArrowTableTypeHandler()]

    @staticmethod
    def default_load_type() -> type | None:
        return pa.Table

"""The forecast's tables on a PostgreSQL warehouse (`MMDS_WAREHOUSE_URL`), as polars frames.

Dagster ships no PostgreSQL IO manager (the base of its database IO managers is not public):
this is a plain `IOManager`, the same contract as dagster-duckdb-polars' on the DuckDB file.
A table lives at `[schema, table]` of its asset key. Reads go through polars' `read_database`
on a psycopg connection, each column typed as the server declares it. A write replaces the
table, created with its declared columns, with COPY, in one transaction: a failed write leaves
the previous table as it was.

Imported only when a step runs (`tables.WarehouseTables`), as `polars_tables` is.
"""

import polars as pl
from dagster import InputContext, IOManager, OutputContext
from mmds_ingest.warehouses.postgres import PG_TYPES, connect
from psycopg import sql

from mmds_orchestrator.defs.forecast.tables import TABLES

# Declared rather than inferred from the values: a column null in the first rows has a type too.
_POLARS_TYPES: dict[str, pl.DataType] = {
    "date": pl.Date(),
    "integer": pl.Int32(),
    "bigint": pl.Int64(),
    "double precision": pl.Float64(),
    "boolean": pl.Boolean(),
    "character varying": pl.String(),
    "text": pl.String(),
}


class PostgresTables(IOManager):
    """Tables of the PostgreSQL warehouse at `url`, read and written as polars frames; `shown`
    names the server in errors (no password)."""

    def __init__(self, url: str, shown: str) -> None:
        self.url = url
        self.shown = shown

    def load_input(self, context: InputContext) -> pl.DataFrame:
        schema, table = context.asset_key.path
        wanted = (context.definition_metadata or {}).get("columns")
        with connect(self.url, shown=self.shown) as server:
            types = {
                name: _POLARS_TYPES.get(kind)
                for name, kind in server.execute(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
                    [schema, table],
                ).fetchall()
                if not wanted or name in wanted
            }
            listed = sql.SQL(", ").join(map(sql.Identifier, types))
            query = sql.SQL("SELECT {} FROM {}").format(listed, sql.Identifier(schema, table))
            return pl.read_database(
                query.as_string(server),
                server,
                schema_overrides={name: kind for name, kind in types.items() if kind is not None},
            )

    def handle_output(self, context: OutputContext, obj: pl.DataFrame) -> None:
        schema, table = context.asset_key.path
        declared = TABLES[context.asset_key]
        names = [name for name, _ in declared]
        target = sql.Identifier(schema, table)
        with connect(self.url, shown=self.shown) as server:  # one transaction: commits at exit
            server.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
            server.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(target))
            server.execute(
                sql.SQL("CREATE TABLE {} ({})").format(
                    target,
                    sql.SQL(", ").join(
                        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(PG_TYPES[kind]))
                        for name, kind in declared
                    ),
                )
            )
            copy_in = sql.SQL("COPY {} ({}) FROM STDIN").format(
                target, sql.SQL(", ").join(map(sql.Identifier, names))
            )
            with server.cursor().copy(copy_in) as copy:
                for row in obj.select(names).iter_rows():
                    copy.write_row(row)
        context.add_output_metadata({"row_count": obj.height})

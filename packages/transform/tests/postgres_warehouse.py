"""Bronze copied into PostgreSQL from a DuckDB warehouse, so that dbt alone is compared (the
server itself: tests/postgres_server.py at the repository's root).
"""

from contextlib import closing
from pathlib import Path

import duckdb
import psycopg

BRONZE_TABLES = ("service_requests", "_loads", "local_area_boundaries")
# DuckDB type -> PostgreSQL type of bronze's columns (docs/contracts.md). JSON stays `json`,
# not `jsonb`, so that its text (the boundaries' GeoJSON) is kept byte for byte.
PG_TYPES = {
    "VARCHAR": "varchar",
    "JSON": "json",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "DATE": "date",
    "DOUBLE": "double precision",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "BOOLEAN": "boolean",
}


def copy_bronze(duckdb_warehouse: Path, url: str) -> dict[str, int]:
    """Make PostgreSQL's bronze hold exactly the rows of the DuckDB warehouse's bronze.

    Each table is created with the same columns if missing, emptied and filled by COPY, all in
    one transaction. Returns the rows copied per table.
    """
    copied = {}
    with (
        closing(duckdb.connect(str(duckdb_warehouse), read_only=True)) as source,
        psycopg.connect(url) as target,
    ):
        source.execute("set TimeZone = 'UTC'")
        target.execute("create schema if not exists bronze")
        for table in BRONZE_TABLES:
            columns = source.execute(
                "select column_name, data_type from information_schema.columns"
                " where table_schema = 'bronze' and table_name = ? order by ordinal_position",
                [table],
            ).fetchall()
            names = ", ".join(f'"{name}"' for name, _ in columns)
            definition = ", ".join(f'"{name}" {PG_TYPES[kind]}' for name, kind in columns)
            target.execute(f"create table if not exists bronze.{table} ({definition})")
            target.execute(f"truncate bronze.{table}")
            rows = source.execute(f"select {names} from bronze.{table}").fetchall()  # noqa: S608
            with target.cursor().copy(f"copy bronze.{table} ({names}) from stdin") as copy:
                for row in rows:
                    copy.write_row(row)
            copied[table] = len(rows)
    return copied

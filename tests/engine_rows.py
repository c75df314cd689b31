"""The rows of a schema's tables on the DuckDB file and on a PostgreSQL server, as both engines
should agree on them, and their EXCEPT ALL difference: for the tests that compare the engines
(packages/transform/tests/test_postgres.py, packages/orchestrator/tests/test_postgres_warehouse.py).
"""

import math
from collections import Counter
from contextlib import closing
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg

TABLES_OF_SCHEMA = "SELECT table_name FROM information_schema.tables WHERE table_schema = "


def normalised(value: object) -> object:
    """A value as both engines should agree on it: instants in UTC, numbers as floats to 12
    significant digits (percentiles are computed by different code), the rest as is."""
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, Decimal | float) and not isinstance(value, bool):
        return float(f"{float(value):.12g}") if math.isfinite(value) else float(value)
    return value


def _rows(fetched: list[tuple]) -> Counter:
    return Counter(tuple(normalised(value) for value in row) for row in fetched)


def duckdb_tables(path: Path, schema: str) -> dict[str, Counter]:
    """Every table of `schema` in the DuckDB file `path`: its rows, normalised."""
    with closing(duckdb.connect(str(path), read_only=True)) as con:
        con.execute("SET TimeZone = 'UTC'")
        names = [name for (name,) in con.execute(TABLES_OF_SCHEMA + "?", [schema]).fetchall()]
        return {
            name: _rows(con.execute(f'SELECT * FROM {schema}."{name}"').fetchall())  # noqa: S608
            for name in names
        }


def postgres_tables(url: str, schema: str) -> dict[str, Counter]:
    """Every table of `schema` in the PostgreSQL database at `url`: its rows, normalised."""
    with psycopg.connect(url) as con:
        names = [name for (name,) in con.execute(TABLES_OF_SCHEMA + "%s", [schema]).fetchall()]
        return {
            name: _rows(con.execute(f'SELECT * FROM {schema}."{name}"').fetchall())  # noqa: S608
            for name in names
        }


def except_all(first: Counter, second: Counter) -> tuple[list[tuple], list[tuple]]:
    """The rows only in `first` and those only in `second` (EXCEPT ALL both ways)."""
    return list((first - second).elements()), list((second - first).elements())

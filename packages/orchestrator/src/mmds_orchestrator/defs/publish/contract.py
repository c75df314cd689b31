"""The serving file's one declared contract: every table publish writes, column by column.

Gold's tables and columns are dbt's enforced model contracts (the manifest), plus the two tables
of the forecast asset; those and the `meta` tables are declared here, and publish creates the
meta tables from these declarations. Publish writes the whole declaration into the file as
`meta.serving_contract`, and the dashboard checks what it reads against it.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

GOLD = "gold"
META = "meta"


@dataclass(frozen=True)
class ServingColumn:
    """One column of one table of the serving file, its type as DuckDB names it."""

    schema_name: str
    table_name: str
    column_name: str
    data_type: str  # e.g. VARCHAR, BIGINT, TIMESTAMP WITH TIME ZONE


TIMESTAMPTZ = "TIMESTAMP WITH TIME ZONE"

# The gold tables of the forecast asset (not dbt models, so declared here): (column, DuckDB
# type) in order; a null local_area_id / demand_group means all areas / all groups.
FORECAST_COLUMNS: tuple[tuple[str, str], ...] = (
    ("date_local", "DATE"),
    ("local_area_id", "INTEGER"),
    ("demand_group", "VARCHAR"),
    ("requests_forecast", "DOUBLE"),
    ("lower_80", "DOUBLE"),
    ("upper_80", "DOUBLE"),
    ("lower_95", "DOUBLE"),
    ("upper_95", "DOUBLE"),
    ("trained_through", "DATE"),
)
BACKTEST_COLUMNS: tuple[tuple[str, str], ...] = (
    ("local_area_id", "INTEGER"),
    ("demand_group", "VARCHAR"),
    ("is_overall", "BOOLEAN"),
    ("first_origin", "DATE"),
    ("last_origin", "DATE"),
    ("days", "INTEGER"),
    ("mean_actual", "DOUBLE"),
    ("mae_model", "DOUBLE"),
    ("mae_baseline", "DOUBLE"),
    ("mase_model", "DOUBLE"),
    ("mase_baseline", "DOUBLE"),
    ("trained_through", "DATE"),
)
FORECAST_TABLES = (
    ("forecast_demand_daily", FORECAST_COLUMNS),
    ("forecast_backtest", BACKTEST_COLUMNS),
)

# The meta tables, in the order publish writes them: (table, ((column, DuckDB type), ...)).
META_TABLES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "publish",  # one row: what this file is
        (
            ("published_at", TIMESTAMPTZ),
            ("load_id", "VARCHAR"),
            ("source_last_modified_at", TIMESTAMPTZ),
            ("gold_digest", "VARCHAR"),
            ("portal_url", "VARCHAR"),
            ("is_sample", "BOOLEAN"),
        ),
    ),
    (
        "loads",  # bronze._loads, every load with its audit
        (
            ("load_id", "VARCHAR"),
            ("dataset", "VARCHAR"),
            ("mode", "VARCHAR"),
            ("status", "VARCHAR"),
            ("source_url", "VARCHAR"),
            ("window_start", TIMESTAMPTZ),
            ("window_end", TIMESTAMPTZ),
            ("rows_received", "BIGINT"),
            ("rows_inserted", "BIGINT"),
            ("rows_updated", "BIGINT"),
            ("rows_unchanged", "BIGINT"),
            ("rows_flagged", "BIGINT"),
            ("rows_deleted", "BIGINT"),
            ("portal_total_count", "BIGINT"),
            ("cursor_before", TIMESTAMPTZ),
            ("cursor_after", TIMESTAMPTZ),
            ("change_token", "VARCHAR"),
            ("started_at", TIMESTAMPTZ),
            ("finished_at", TIMESTAMPTZ),
            ("message", "VARCHAR"),
            ("bronze_count", "BIGINT"),
            ("reconciliation", "VARCHAR"),
        ),
    ),
    (
        "layer_row_counts",  # rows of every table and view of bronze, silver and gold
        (("layer", "VARCHAR"), ("table_name", "VARCHAR"), ("row_count", "BIGINT")),
    ),
    (
        "test_results",  # the newest outcome of every check (dbt tests and the reconciliation)
        (
            ("test_name", "VARCHAR"),
            ("model_name", "VARCHAR"),
            ("status", "VARCHAR"),
            ("failures", "BIGINT"),
        ),
    ),
    (
        "serving_contract",  # this declaration
        (
            ("schema_name", "VARCHAR"),
            ("table_name", "VARCHAR"),
            ("column_name", "VARCHAR"),
            ("data_type", "VARCHAR"),
        ),
    ),
)


class ContractError(ValueError):
    """The dbt manifest does not declare a usable gold contract."""


def serving_contract(manifest: Mapping[str, Any]) -> list[ServingColumn]:
    """Every column of every table publish writes: gold's from `manifest`, the forecast's, then
    meta's."""
    return [*gold_contract(manifest), *forecast_contract(), *meta_contract()]


def forecast_contract() -> list[ServingColumn]:
    """The columns of the forecast's gold tables."""
    return [
        ServingColumn(GOLD, table, column, data_type)
        for table, columns in FORECAST_TABLES
        for column, data_type in columns
    ]


def gold_contract(manifest: Mapping[str, Any]) -> list[ServingColumn]:
    """The columns of every gold model whose contract dbt enforces, in declared order.

    Types are normalised to DuckDB's names (dbt's `timestamp with time zone` is DuckDB's
    `TIMESTAMP WITH TIME ZONE`, `integer` its `INTEGER`), as `information_schema` reports them.
    """
    models = sorted(
        (
            node
            for node in manifest["nodes"].values()
            if node["resource_type"] == "model"
            and node["schema"] == GOLD
            and node["config"].get("contract", {}).get("enforced")
        ),
        key=lambda node: node["name"],
    )
    if not models:
        raise ContractError("the dbt manifest declares no gold model with an enforced contract")
    declared = [
        (node["name"], column["name"], column.get("data_type"))
        for node in models
        for column in node["columns"].values()
    ]
    untyped = [f"{table}.{column}" for table, column, data_type in declared if not data_type]
    if untyped:
        raise ContractError(f"gold columns without a data_type: {', '.join(untyped)}")
    names = duckdb_type_names({data_type for _, _, data_type in declared})
    return [
        ServingColumn(GOLD, table, column, names[data_type])
        for table, column, data_type in declared
    ]


def meta_contract() -> list[ServingColumn]:
    """The columns of the meta tables publish writes."""
    return [
        ServingColumn(META, table, column, data_type)
        for table, columns in META_TABLES
        for column, data_type in columns
    ]


def tables(contract: Sequence[ServingColumn], schema: str) -> dict[str, list[ServingColumn]]:
    """The declared tables of one schema, each with its columns in order."""
    by_table: dict[str, list[ServingColumn]] = {}
    for column in contract:
        if column.schema_name == schema:
            by_table.setdefault(column.table_name, []).append(column)
    return by_table


def duckdb_type_names(declared: set[str]) -> dict[str, str]:
    """DuckDB's own name of each type as dbt's YAML spells it (`integer` -> `INTEGER`)."""
    names = {}
    with duckdb.connect() as connection:
        for data_type in declared:
            try:
                row = connection.execute(f"select typeof(cast(null as {data_type}))").fetchone()
            except duckdb.Error as error:
                raise ContractError(f"{data_type!r} is not a DuckDB type: {error}") from None
            names[data_type] = str(row[0]) if row else data_type
    return names

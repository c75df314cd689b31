"""The dashboard reads nothing the serving file does not declare: its expectations are a subset
of the contract publish writes (`meta.serving_contract` of a file `mmds run` published), and each
page reads exactly the gold tables its dbt exposure names (the transform package declares the
exposures)."""

from __future__ import annotations

import yaml
from mmds_dashboard.expectations import COLUMNS, PAGE_GOLD_TABLES, expected_columns, missing
from mmds_transform import project_dir


def test_what_the_dashboard_reads_is_declared_and_published(sql) -> None:
    declared = {
        (f"{schema}.{table}", column)
        for schema, table, column in sql(
            "SELECT schema_name, table_name, column_name FROM meta.serving_contract"
        )
    }
    present = {
        (f"{schema}.{table}", column)
        for schema, table, column in sql(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns"
        )
    }
    assert expected_columns() <= declared
    assert missing(declared, present) == []


def test_each_page_reads_the_gold_tables_of_its_exposure() -> None:
    exposures = yaml.safe_load(
        (project_dir() / "models" / "exposures.yml").read_text(encoding="utf-8")
    )["exposures"]
    read_by_exposure = {
        exposure["name"].removeprefix("dashboard_"): {
            "gold." + ref.removeprefix("ref('").removesuffix("')") for ref in exposure["depends_on"]
        }
        for exposure in exposures
        if exposure["type"] == "dashboard"
    }
    assert read_by_exposure == PAGE_GOLD_TABLES
    every_table = set().union(*PAGE_GOLD_TABLES.values())
    assert every_table == {table for table in COLUMNS if table.startswith("gold.")}

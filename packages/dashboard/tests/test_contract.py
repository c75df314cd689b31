"""The dashboard reads nothing the serving file does not declare: its expectations are a subset
of the contract publish writes (`meta.serving_contract` of a file `mmds run` published). The
root test `tests/test_dashboard_exposures.py` keeps each page's tables equal to its exposure."""

from __future__ import annotations

from mmds_dashboard.expectations import expected_columns, missing


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

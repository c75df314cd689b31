"""One URL chooses the warehouse dbt builds: the environment and target derived from it."""

import pytest
from mmds_transform import WarehouseUrlError, dbt_env, dbt_target, warehouse_env


def test_no_url_means_the_duckdb_file_in_the_data_dir(tmp_path):
    assert dbt_target(None) == "duckdb"
    env = dbt_env(tmp_path, base={"DBT_TARGET": "postgres"})
    assert env["DBT_TARGET"] == "duckdb"
    assert not any(name.startswith("MMDS_WAREHOUSE_") for name in env)


def test_a_postgresql_url_gives_the_postgres_target_its_details():
    url = "postgresql://ana%40city:p%40ss%3Aw%2Frd@db.example:6543/mmds?sslmode=require"
    assert dbt_target(url) == "postgres"
    assert warehouse_env(url) == {
        "DBT_TARGET": "postgres",
        "MMDS_WAREHOUSE_HOST": "db.example",
        "MMDS_WAREHOUSE_PORT": "6543",
        "MMDS_WAREHOUSE_USER": "ana@city",
        "DBT_ENV_SECRET_MMDS_WAREHOUSE_PASSWORD": "p@ss:w/rd",
        "MMDS_WAREHOUSE_DBNAME": "mmds",
        "MMDS_WAREHOUSE_SSLMODE": "require",
        "PGTZ": "UTC",
    }
    defaults = warehouse_env("postgres://mmds@127.0.0.1/warehouse")
    assert defaults["MMDS_WAREHOUSE_PORT"] == "5432"
    assert defaults["DBT_ENV_SECRET_MMDS_WAREHOUSE_PASSWORD"] == ""
    assert defaults["MMDS_WAREHOUSE_SSLMODE"] == "prefer"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://ana:secret@db/mmds", "must look like postgresql://"),
        ("postgresql://ana:secret@db", "must name a host, a user and a database"),
        ("postgresql://db/mmds", "must name a host, a user and a database"),
        ("postgresql://ana:secret@db:port/mmds", "invalid port"),
        ("postgresql://ana:secret@db/mmds?application_name=x", "only carry the option sslmode"),
    ],
)
def test_a_wrong_url_is_one_line_that_never_shows_the_password(url, says):
    with pytest.raises(WarehouseUrlError) as raised:
        dbt_target(url)
    message = str(raised.value)
    assert says in message
    assert "secret" not in message
    assert "\n" not in message

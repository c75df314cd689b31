"""The forecast asset: 28 days of every series with intervals, an honest backtest, a check that
fails a bad model, and no retraining without a new complete day."""

import sys
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import duckdb
import polars as pl
import psycopg
import pytest
from dagster import AssetCheckSeverity, AssetSpec, DagsterInstance, materialize
from mmds_ingest.warehouses.postgres import PG_TYPES
from mmds_orchestrator.defs.forecast import model
from mmds_orchestrator.defs.forecast.assets import (
    CHECK_NAME,
    FORECAST_CHECK,
    WAREHOUSE_TABLES,
    forecast_demand,
)
from mmds_orchestrator.defs.forecast.tables import (
    BACKTEST_KEY,
    FEATURES_KEY,
    FORECAST_KEY,
    HOLIDAYS_KEY,
    WarehouseTables,
)
from mmds_orchestrator.defs.publish.assets import build_publish_asset
from mmds_orchestrator.defs.publish.contract import ServingColumn, forecast_contract
from mmds_orchestrator.defs.publish.resources import DataFiles
from mmds_orchestrator.defs.publish.serving import publish_serving_file

sys.path.insert(0, str(Path(__file__).parent))
import demand_features

DAYS = 500  # 2025-01-01 .. 2026-05-15, the last day not complete
SERIES = 6 + 3 + 2 + 1  # area x group, per area, per group, the city


def _materialize(warehouse: Path, instance: DagsterInstance, **config):
    return materialize(
        [forecast_demand, AssetSpec(FEATURES_KEY), AssetSpec(HOLIDAYS_KEY)],
        selection=[forecast_demand],
        resources={WAREHOUSE_TABLES: WarehouseTables(database=str(warehouse))},
        instance=instance,
        run_config={"ops": {"forecast_demand": {"config": config}}} if config else None,
    )


def _rows(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def _materialized(result, key) -> dict:
    [event] = [e for e in result.get_asset_materialization_events() if e.asset_key == key]
    return {k: v.value for k, v in event.materialization.metadata.items()}


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> SimpleNamespace:
    """A warehouse with generated features, and the forecast's first materialization."""
    warehouse = tmp_path_factory.mktemp("forecast") / "warehouse.duckdb"
    demand_features.write_warehouse(warehouse, demand_features.features(DAYS))
    instance = DagsterInstance.ephemeral()
    result = _materialize(warehouse, instance)
    assert result.success
    return SimpleNamespace(warehouse=warehouse, instance=instance, result=result)


def test_every_series_gets_28_days_with_ordered_intervals(trained):
    last_complete = demand_features.START + timedelta(days=DAYS - 2)
    rows = _rows(
        trained.warehouse,
        "select local_area_id, demand_group, count(*), min(date_local), max(date_local),"
        " min(trained_through), max(trained_through),"
        " bool_and(0 <= lower_95 and lower_95 <= lower_80 and lower_80 <= requests_forecast"
        "  and requests_forecast <= upper_80 and upper_80 <= upper_95)"
        " from gold.forecast_demand_daily group by all",
    )
    assert len(rows) == SERIES
    first, last = last_complete + timedelta(days=1), last_complete + timedelta(days=28)
    assert {row[2:] for row in rows} == {(28, first, last, last_complete, last_complete, True)}
    city = _rows(
        trained.warehouse,
        "select dayofweek(date_local) in (0, 6), avg(requests_forecast) from"
        " gold.forecast_demand_daily where local_area_id is null and demand_group is null"
        " group by 1 order by 1",
    )
    weekday, weekend = city[0][1], city[1][1]
    assert weekend < 0.5 * weekday  # it learnt the week: weekends a third of weekdays


def test_the_backtest_scores_every_series_and_beats_the_seasonal_naive(trained):
    overall = _rows(
        trained.warehouse,
        "select mase_model, mase_baseline, first_origin, last_origin"
        " from gold.forecast_backtest where is_overall",
    )
    [(mase_model, mase_baseline, first_origin, last_origin)] = overall
    assert last_origin - first_origin == timedelta(weeks=7)  # 8 weekly origins
    assert mase_model <= 0.9 * mase_baseline
    assert _rows(trained.warehouse, "select count(*) from gold.forecast_backtest") == [
        (SERIES + 1,)
    ]
    [evaluation] = trained.result.get_asset_check_evaluations()
    assert evaluation.check_name == CHECK_NAME and evaluation.passed
    assert evaluation.metadata["mase_model"].value == pytest.approx(mase_model)


def test_the_check_fails_on_a_deliberately_bad_model_and_publish_shows_it(tmp_path):
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving.duckdb"
    demand_features.write_warehouse(warehouse, demand_features.features(DAYS))
    instance = DagsterInstance.ephemeral()

    # A point forecast at the 99th percentile overshoots nearly every day.
    result = _materialize(warehouse, instance, point_quantile=0.99)

    [evaluation] = result.get_asset_check_evaluations()
    assert not evaluation.passed
    assert evaluation.severity == AssetCheckSeverity.ERROR
    figures = {k: v.value for k, v in evaluation.metadata.items()}
    assert figures["mase_model"] > figures["mase_baseline"]
    assert figures["ratio"] > 1

    # Publish records the failure beside the other checks, and still publishes.
    _add_publish_inputs(warehouse)
    serving_gold = build_publish_asset(
        [FORECAST_KEY, BACKTEST_KEY], [], _published_gold(), recorded_check_keys=[FORECAST_CHECK]
    )
    files = DataFiles(warehouse_path=str(warehouse), serving_path=str(serving))
    published = materialize(
        [serving_gold, AssetSpec(FORECAST_KEY), AssetSpec(BACKTEST_KEY)],
        selection=[serving_gold],
        resources={"files": files},
        instance=instance,
    )
    assert published.success
    assert _rows(serving, "select * from meta.test_results") == [
        (CHECK_NAME, "forecast_backtest", "fail", 0)
    ]


def test_no_retraining_without_a_new_complete_day(trained, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    warehouse.write_bytes(trained.warehouse.read_bytes())
    before = _rows(warehouse, "select * from gold.forecast_demand_daily order by all")

    kept = _materialize(warehouse, trained.instance)

    assert kept.success
    assert _materialized(kept, FORECAST_KEY)["retrained"] is False
    assert _materialized(kept, BACKTEST_KEY)["retrained"] is False
    assert _rows(warehouse, "select * from gold.forecast_demand_daily order by all") == before
    [evaluation] = kept.get_asset_check_evaluations()  # the model in use, still reported
    assert evaluation.passed

    # One more day of data: the day before is now complete, and the model learns from it.
    demand_features.write_warehouse(warehouse, demand_features.features(DAYS + 1))
    retrained = _materialize(warehouse, trained.instance)

    metadata = _materialized(retrained, FORECAST_KEY)
    assert metadata["retrained"] is True
    newest = demand_features.START + timedelta(days=DAYS - 1)
    assert metadata["trained_through"] == str(newest)
    assert _rows(warehouse, "select distinct trained_through from gold.forecast_demand_daily") == [
        (newest,)
    ]


def test_the_backtest_cannot_see_the_future():
    series = model.demand_series(demand_features.features(DAYS))
    settings = model.ModelSettings()
    before = model.backtest(series, settings)
    origins = sorted(before["cutoff"].unique())
    origin = origins[4]
    # Everything after that origin changes: ten times the requests.
    changed = series.with_columns(
        y=pl.when(pl.col("ds") > origin).then(pl.col("y") * 10).otherwise(pl.col("y"))
    )

    after = model.backtest(changed, settings)

    def made_at(predictions: pl.DataFrame, at) -> pl.DataFrame:
        return predictions.filter(pl.col("cutoff") <= at).select("unique_id", "ds", "model")

    assert made_at(after, origin).equals(made_at(before, origin))
    later = after.filter(pl.col("cutoff") > origin)["model"]
    assert not later.equals(before.filter(pl.col("cutoff") > origin)["model"])  # it did change


def _add_publish_inputs(warehouse: Path) -> None:
    """What publish reads besides the forecast: the load audit and the fact's newest change."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema bronze")
        con.execute(
            "create table bronze._loads as select 'load-1' as load_id,"
            " '3-1-1-service-requests' as dataset, now() as finished_at,"
            " null::varchar as source_url"
        )
        con.execute("create table gold.fct_service_requests as select now() as last_modified_at")


def _published_gold() -> list[ServingColumn]:
    return [
        *forecast_contract(),
        ServingColumn(
            "gold", "fct_service_requests", "last_modified_at", "TIMESTAMP WITH TIME ZONE"
        ),
    ]


def test_the_tables_are_published_as_the_serving_contract_declares_them(trained, tmp_path):
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving.duckdb"
    warehouse.write_bytes(trained.warehouse.read_bytes())
    _add_publish_inputs(warehouse)

    publish_serving_file(warehouse, serving, _published_gold(), [])  # refuses what differs

    assert _rows(serving, "select count(*) from gold.forecast_demand_daily") == [(SERIES * 28,)]
    assert _rows(serving, "select count(*) from gold.forecast_backtest") == [(SERIES + 1,)]


def _copy_inputs_to_postgres(warehouse: Path, url: str) -> None:
    """The features and the holidays of `warehouse`, as the same tables on the server."""
    with duckdb.connect(str(warehouse), read_only=True) as duck, psycopg.connect(url) as server:
        for schema, table in (FEATURES_KEY.path, HOLIDAYS_KEY.path):
            columns = duck.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, table],
            ).fetchall()
            server.execute(f"create schema if not exists {schema}")
            listed = ", ".join(f"{name} {PG_TYPES[kind]}" for name, kind in columns)
            server.execute(f"create table {schema}.{table} ({listed})")
            with server.cursor().copy(f"copy {schema}.{table} from stdin") as copy:
                for row in duck.execute(f"select * from {schema}.{table}").fetchall():  # noqa: S608
                    copy.write_row(row)


def test_on_a_postgresql_warehouse_the_same_forecast_is_written_there(
    trained, tmp_path, postgres_url, monkeypatch
):
    _copy_inputs_to_postgres(trained.warehouse, postgres_url)
    monkeypatch.setenv("MMDS_WAREHOUSE_URL", postgres_url)
    unused = tmp_path / "warehouse.duckdb"

    result = _materialize(unused, DagsterInstance.ephemeral())

    assert result.success
    assert not unused.exists()  # everything went to the server
    for key in (FORECAST_KEY, BACKTEST_KEY):
        table = ".".join(key.path)
        with psycopg.connect(postgres_url) as server:
            on_postgres = server.execute(f"select * from {table}").fetchall()  # noqa: S608
        on_duckdb = _rows(trained.warehouse, f"select * from {table}")  # noqa: S608
        assert sorted(on_postgres, key=repr) == sorted(on_duckdb, key=repr)
    assert _materialized(result, BACKTEST_KEY)["mase_model"] == pytest.approx(
        _materialized(trained.result, BACKTEST_KEY)["mase_model"]
    )

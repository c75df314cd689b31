"""The generator gives deterministic rows with the domains, shares and quirks of PORTAL.md."""

from datetime import UTC, date, datetime

import duckdb
import pyarrow as pa
import pytest
from mmds_ingest.fake_portal import generate_batches, generate_records
from mmds_ingest.fake_portal import vocabulary as v
from mmds_ingest.fake_portal.generator import SCHEMA

LOCAL_AREAS = {area[0] for area in v.LOCAL_AREAS}
CLOSURE_REASONS = {reason for reason, _ in v.CLOSURE_REASONS} | {"N/A"}


@pytest.fixture(scope="module")
def rows() -> duckdb.DuckDBPyConnection:
    """200,000 generated rows (seed 7) in DuckDB, as table `g` (plus `opened_local`)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    table = pa.Table.from_batches(list(generate_batches(200_000, seed=7)))
    con.register("generated", table)
    con.execute(
        "CREATE TABLE g AS SELECT *, "
        "timezone('America/Vancouver', service_request_open_timestamp) AS opened_local "
        "FROM generated"
    )
    yield con
    con.close()


def value(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchone()[0]


def test_same_seed_same_rows_other_seed_other_rows():
    first = pa.Table.from_batches(list(generate_batches(5_000, seed=3)))
    again = pa.Table.from_batches(list(generate_batches(5_000, seed=3)))
    other = pa.Table.from_batches(list(generate_batches(5_000, seed=4)))
    assert first.equals(again)
    assert not first.equals(other)


def test_batches_are_bounded_and_add_up():
    sizes = [batch.num_rows for batch in generate_batches(25_001, seed=1, chunk_rows=10_000)]
    assert sizes == [10_000, 10_000, 5_001]
    assert all(batch.schema == SCHEMA for batch in generate_batches(10, seed=1))


def test_value_domains(rows):
    assert value(rows, "SELECT count(*) FROM g") == 200_000
    assert {r[0] for r in rows.execute("SELECT DISTINCT status FROM g").fetchall()} == {
        "Open", "Close",
    }  # fmt: skip
    areas = {r[0] for r in rows.execute("SELECT DISTINCT local_area FROM g").fetchall()}
    assert areas - {None} == LOCAL_AREAS
    reasons = {r[0] for r in rows.execute("SELECT DISTINCT closure_reason FROM g").fetchall()}
    assert reasons <= CLOSURE_REASONS
    channels = {r[0] for r in rows.execute("SELECT DISTINCT channel FROM g").fetchall()}
    assert channels == {name for name, _ in v.CHANNELS}
    assert value(rows, "SELECT count(DISTINCT department) FROM g") >= 40
    assert value(rows, "SELECT count(DISTINCT service_request_type) FROM g") >= 150


def test_department_type_pairs_are_consistent(rows):
    pairs = {(t.department, t.service_request_type) for t in v.REQUEST_TYPES}
    seen = set(rows.execute("SELECT DISTINCT department, service_request_type FROM g").fetchall())
    assert seen <= pairs
    assert value(rows, "SELECT count(DISTINCT department) FROM g GROUP BY service_request_type "
                       "ORDER BY 1 DESC LIMIT 1") == 1  # fmt: skip


def test_location_fields_are_null_together_on_about_two_thirds(rows):
    together = value(
        rows,
        "SELECT bool_and((address IS NULL) = (latitude IS NULL) "
        "AND (latitude IS NULL) = (longitude IS NULL)) FROM g",
    )
    assert together
    assert 0.6 < value(rows, "SELECT avg((address IS NULL)::INT) FROM g") < 0.75
    assert 0.08 < value(rows, "SELECT avg((local_area IS NULL)::INT) FROM g") < 0.25
    lat, lon = rows.execute("SELECT avg(latitude), avg(longitude) FROM g").fetchone()
    assert 49.19 < lat < 49.30 and -123.23 < lon < -123.02  # Vancouver


def test_mostly_closed_with_realistic_time_to_close(rows):
    assert 0.97 < value(rows, "SELECT avg((status = 'Close')::INT) FROM g") < 0.999
    median, p90 = rows.execute(
        "SELECT quantile_cont(d, 0.5), quantile_cont(d, 0.9) FROM (SELECT date_diff('day', "
        "opened_local::DATE, service_request_close_date) AS d FROM g WHERE status = 'Close')"
    ).fetchone()
    assert 1 <= median <= 4
    assert 12 <= p90 <= 20
    assert value(rows, "SELECT bool_and(service_request_close_date IS NULL) FROM g "
                       "WHERE status = 'Open'")  # fmt: skip
    assert (
        value(rows, "SELECT avg((closure_reason = 'N/A')::INT) FROM g WHERE status = 'Open'") > 0.9
    )
    assert (
        value(rows, "SELECT count(*) FROM g WHERE status = 'Open' AND closure_reason <> 'N/A'") > 0
    )


def test_office_hours_and_weekday_seasonality(rows):
    office = value(rows, "SELECT avg((hour(opened_local) BETWEEN 9 AND 16)::INT) FROM g")
    assert 0.62 < office < 0.78
    weekend, weekday = rows.execute(
        "SELECT count(*) FILTER (isodow(opened_local) >= 6) / 2, "
        "count(*) FILTER (isodow(opened_local) < 6) / 5 FROM g"
    ).fetchone()
    assert 0.25 < weekend / weekday < 0.6


def test_quirks_are_present(rows):
    assert value(rows, "SELECT count(*) FROM g WHERE service_request_type LIKE 'ZZ OLD - %'") > 0
    backwards = "SELECT count(*) FROM g WHERE service_request_close_date < opened_local::DATE"
    assert value(rows, backwards) > 0
    assert value(rows, "SELECT count(*) FROM g WHERE last_modified_timestamp < "
                       "service_request_open_timestamp") > 0  # fmt: skip
    late = (
        "SELECT count(*) FROM g WHERE status = 'Close' "
        "AND last_modified_timestamp > service_request_close_date + INTERVAL 30 DAY"
    )
    assert value(rows, late) > 0
    assert value(rows, "SELECT count(*) FROM g WHERE regexp_matches(address, '[^\\x00-\\x7F]')") > 0
    twins = value(
        rows,
        "SELECT count(*) FROM (SELECT count(*) FROM g GROUP BY department, service_request_type, "
        "service_request_open_timestamp, address, local_area, channel, latitude, longitude "
        "HAVING count(*) > 1)",
    )
    assert twins > 0


def test_span_is_respected_and_nothing_is_in_the_future():
    end = datetime(2024, 3, 31, 12, tzinfo=UTC)
    table = pa.Table.from_batches(
        list(generate_batches(5_000, seed=2, start=date(2024, 1, 1), end=end))
    )
    opened = table.column("service_request_open_timestamp").to_pylist()
    modified = table.column("last_modified_timestamp").to_pylist()
    assert min(opened) >= datetime(2024, 1, 1, 8, tzinfo=UTC)  # local midnight
    assert max(opened) <= end and max(modified) <= end


def test_records_are_shaped_like_the_portal_json():
    records = generate_records(200, seed=5)
    assert len(records) == 200
    located = next(r for r in records if r["latitude"] is not None)
    assert located["geom"] == {"lon": located["longitude"], "lat": located["latitude"]}
    assert located["service_request_open_timestamp"].endswith("+00:00")
    closed = next(r for r in records if r["status"] == "Close")
    assert len(closed["service_request_close_date"]) == 10  # YYYY-MM-DD
    assert all(r["geom"] is None for r in records if r["latitude"] is None)


def test_bad_arguments_are_refused_with_a_reason():
    with pytest.raises(ValueError, match="rows must be zero or more"):
        list(generate_batches(-1))
    with pytest.raises(ValueError, match="time zone"):
        list(generate_batches(1, end=datetime(2024, 1, 1)))
    with pytest.raises(ValueError, match="span is empty"):
        list(generate_batches(1, start=date(2025, 1, 1), end=datetime(2024, 1, 1, tzinfo=UTC)))


def test_located_requests_lie_inside_their_area(rows, outside_their_area, committed_polygons):
    located = rows.execute(
        "SELECT local_area, latitude, longitude FROM g "
        "WHERE latitude IS NOT NULL AND local_area IS NOT NULL"
    ).fetchall()

    assert len(located) > 50_000
    assert outside_their_area(located) == []
    assert set(committed_polygons) == LOCAL_AREAS  # the vocabulary's names are the map's


def test_points_spread_over_each_area_not_onto_one_spot(rows):
    spread = rows.execute(
        "SELECT local_area, count(DISTINCT round(latitude, 3) || ',' || round(longitude, 3)) "
        "FROM g WHERE latitude IS NOT NULL AND local_area IS NOT NULL GROUP BY 1"
    ).fetchall()

    assert len(spread) == 22
    assert min(spots for _, spots in spread) > 100  # about 100 m squares hit in every area

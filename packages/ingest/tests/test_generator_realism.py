"""Generated shares stay close to a real extract of the portal (when the extract is at hand).

The extract is never part of the repository: it is looked for beside the project
(`../shared/data/vancouver-311-real-sample.csv`) or at `MMDS_REAL_SAMPLE`.
"""

import os
from pathlib import Path

import duckdb
import httpx
import pyarrow as pa
import pytest
from mmds_ingest.fake_portal import FakePortal, generate_batches

MEASURES = {
    "closed": "avg((status = 'Close')::INT)",
    "address_null": "avg((address IS NULL)::INT)",
    "local_area_null": "avg((local_area IS NULL)::INT)",
    "web": "avg((channel = 'WEB')::INT)",
    "phone": "avg((channel = 'Phone')::INT)",
    "sanitation": "avg((department = 'ENG - Sanitation Services')::INT)",
    "service_provided": "avg((closure_reason = 'Service provided')::INT)",
    "office_hours": "avg((hour(timezone('America/Vancouver', opened)) BETWEEN 9 AND 16)::INT)",
}
TOLERANCE = 0.03


@pytest.fixture(scope="module")
def real_extract(request: pytest.FixtureRequest) -> Path:
    default = request.config.rootpath.parent / "shared/data/vancouver-311-real-sample.csv"
    path = Path(os.environ.get("MMDS_REAL_SAMPLE", default))
    if not path.is_file():
        pytest.skip(f"no real extract at {path}")
    return path


def _measure(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, float]:
    columns = ", ".join(f"{sql} AS {name}" for name, sql in MEASURES.items())
    days = (
        "date_diff('day', timezone('America/Vancouver', opened)::DATE, "
        "service_request_close_date::DATE)"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW m AS SELECT *, "  # noqa: S608 (test constants)
        f"service_request_open_timestamp::TIMESTAMPTZ AS opened FROM {table}"
    )
    row = con.execute(f"SELECT {columns} FROM m").fetchone()  # noqa: S608 (test constants)
    median, p90 = con.execute(
        f"SELECT quantile_cont({days}, 0.5), quantile_cont({days}, 0.9) "  # noqa: S608
        "FROM m WHERE status = 'Close'"
    ).fetchone()
    return {**dict(zip(MEASURES, row, strict=True)), "median_days": median, "p90_days": p90}


def test_generated_shares_match_the_real_extract(real_extract: Path):
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("generated", pa.Table.from_batches(list(generate_batches(50_000, seed=7))))
    con.execute(
        "CREATE TABLE real AS SELECT * FROM read_csv(?, all_varchar = true)", [str(real_extract)]
    )
    generated, real = _measure(con, "generated"), _measure(con, "real")
    for name in MEASURES:
        assert abs(generated[name] - real[name]) < TOLERANCE, (name, generated[name], real[name])
    assert abs(generated["median_days"] - real["median_days"]) <= 1
    assert abs(generated["p90_days"] - real["p90_days"]) <= 3


def test_the_real_extract_can_be_served(real_extract: Path):
    with FakePortal(from_csv=real_extract) as portal:
        body = httpx.get(
            f"{portal.dataset_url}/records",
            params={"where": "address is not null", "limit": 1, "timezone": "UTC"},
        ).json()
        assert portal.total_count() == 10_000
    record = body["results"][0]
    assert record["service_request_open_timestamp"].endswith("+00:00")
    assert record["geom"] == {"lon": record["longitude"], "lat": record["latitude"]}


def test_the_real_extract_passes_the_same_polygon_check(real_extract: Path, outside_their_area):
    """The check the generator passes (test_generator) holds on the real data too: every located
    request that names an area lies inside that area's committed polygon."""
    located = duckdb.execute(
        "SELECT local_area, CAST(latitude AS DOUBLE), CAST(longitude AS DOUBLE) "
        "FROM read_csv(?, all_varchar = true) "
        "WHERE latitude IS NOT NULL AND local_area IS NOT NULL",
        [str(real_extract)],
    ).fetchall()

    assert len(located) == 3_138  # as PORTAL.md counts them
    assert outside_their_area(located) == []

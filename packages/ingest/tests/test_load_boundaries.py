"""The second dataset, `local-area-boundary`, through the same connector over real HTTP: its
bronze table as the contract states it, one audit and one state row per dataset, geometries
unwrapped from Features, full loads skipped while the change token holds, and a failed load
that changes nothing."""

import json
from datetime import UTC, datetime

import duckdb
import httpx
import pytest
from mmds_ingest import IngestSettings, run_load
from mmds_ingest.cli import app
from mmds_ingest.datasets import DATASETS, LOCAL_AREA_BOUNDARIES, SERVICE_REQUESTS
from mmds_ingest.errors import PortalUnavailableError, SchemaDriftError
from mmds_ingest.fake_portal import FakePortal
from mmds_ingest.fake_portal import vocabulary as v
from mmds_ingest.staging import Staging
from typer.testing import CliRunner

BOUNDARIES = LOCAL_AREA_BOUNDARIES
AREA_NAMES = sorted(name for name, _ in v.LOCAL_AREAS)


def _load_all(settings: IngestSettings) -> list:
    return [run_load(settings, dataset=dataset) for dataset in DATASETS]


@pytest.fixture
def everything(query):
    """Every row a load may change, in every bronze table."""

    def take() -> tuple:
        return (
            query(
                "SELECT _record_key, _row_hash, _load_id FROM bronze.service_requests ORDER BY 1"
            ),
            query("SELECT * FROM bronze.local_area_boundaries ORDER BY name"),
            query("SELECT * FROM bronze._loads ORDER BY started_at"),
            query("SELECT * FROM bronze._state ORDER BY dataset"),
        )

    return take


def test_the_command_loads_every_dataset(fake_portal, ingest_settings, query):
    flags = ["--data-dir", str(ingest_settings.data_dir), "--portal-url", fake_portal.url]

    loaded = CliRunner().invoke(app, ["load", *flags])
    again = CliRunner().invoke(app, ["load", *flags])

    assert loaded.exit_code == 0, loaded.output
    assert again.exit_code == 0, again.output
    assert query(
        "SELECT dataset, status, rows_received FROM bronze._loads ORDER BY started_at"
    ) == [
        (SERVICE_REQUESTS.id, "succeeded", 2_000),
        (BOUNDARIES.id, "succeeded", 22),
        (SERVICE_REQUESTS.id, "skipped", 0),
        (BOUNDARIES.id, "skipped", 0),
    ]
    assert query("SELECT dataset, load_id IS NOT NULL FROM bronze._state ORDER BY 1") == [
        (SERVICE_REQUESTS.id, True),
        (BOUNDARIES.id, True),
    ]
    assert query("SELECT count(*) FROM bronze.service_requests") == [(2_000,)]


def test_one_dataset_on_its_own(fake_portal, ingest_settings, query):
    result = CliRunner().invoke(
        app,
        [
            "load",
            "--dataset",
            BOUNDARIES.id,
            "--data-dir",
            str(ingest_settings.data_dir),
            "--portal-url",
            fake_portal.url,
        ],
    )

    assert result.exit_code == 0, result.output
    assert query("SELECT DISTINCT dataset FROM bronze._loads") == [(BOUNDARIES.id,)]
    assert query("SELECT count(*) FROM bronze.service_requests") == [(0,)]


def test_an_unknown_dataset_is_refused_by_the_command(tmp_path):
    result = CliRunner().invoke(app, ["load", "--dataset", "parks", "--data-dir", str(tmp_path)])

    assert result.exit_code == 2
    assert "unknown dataset 'parks'; mmds loads 3-1-1-service-requests, local-area-boundary" in (
        " ".join(result.output.split())
    )


def test_the_boundaries_table_is_the_contract(fake_portal, ingest_settings, query):
    result = run_load(ingest_settings, dataset=BOUNDARIES)

    assert (result.dataset, result.mode, result.rows_inserted) == (BOUNDARIES.id, "full", 22)
    assert result.bronze_count == result.portal_total == 22
    assert query(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = "
        "'bronze' AND table_name = 'local_area_boundaries' ORDER BY ordinal_position"
    ) == [
        ("name", "VARCHAR"),
        ("geom", "JSON"),
        ("geo_point_2d", "JSON"),
        ("_record_key", "VARCHAR"),
        ("_row_hash", "VARCHAR"),
        ("_load_id", "VARCHAR"),
        ("_loaded_at", "TIMESTAMP WITH TIME ZONE"),
        ("_quality_issues", "VARCHAR"),
        ("_raw", "JSON"),
    ]
    rows = query(
        "SELECT name, geom ->> 'type', CAST(geo_point_2d ->> 'lon' AS DOUBLE), "
        "CAST(geo_point_2d ->> 'lat' AS DOUBLE), _quality_issues, _load_id "
        "FROM bronze.local_area_boundaries ORDER BY name"
    )
    assert [row[0] for row in rows] == AREA_NAMES  # 3-1-1's spellings exactly
    assert {row[1] for row in rows} <= {"Polygon", "MultiPolygon"}
    assert all(-123.3 < lon < -123.0 and 49.19 < lat < 49.32 for _, _, lon, lat, *_ in rows)
    assert {(row[4], row[5]) for row in rows} == {(None, result.load_id)}
    sent = httpx.get(f"{fake_portal.url_of(BOUNDARIES.id)}/exports/json", timeout=10).json()
    kept = query("SELECT _raw FROM bronze.local_area_boundaries")
    by_name = sorted((json.loads(raw) for (raw,) in kept), key=lambda record: record["name"])
    assert by_name == sorted(sent, key=lambda record: record["name"])


def test_a_geometry_wrapped_in_a_feature_is_unwrapped(ingest_settings, tmp_path, query):
    with FakePortal(rows=100, seed=1, geo_shape_style="feature") as portal:
        run_load(ingest_settings.model_copy(update={"portal_url": portal.url}), dataset=BOUNDARIES)
    wrapped = query(
        "SELECT name, geom, _raw -> 'geom', _row_hash FROM bronze.local_area_boundaries "
        "ORDER BY name"
    )
    with FakePortal(rows=100, seed=1, geo_shape_style="geometry") as portal:
        bare = IngestSettings(data_dir=tmp_path / "bare", portal_url=portal.url)
        run_load(bare, dataset=BOUNDARIES)
    with duckdb.connect(str(bare.warehouse_path), read_only=True) as con:
        plain = con.execute(
            "SELECT name, geom, _row_hash FROM bronze.local_area_boundaries ORDER BY name"
        ).fetchall()

    for (name, geom, raw_geom, row_hash), (_, plain_geom, plain_hash) in zip(
        wrapped, plain, strict=True
    ):
        assert json.loads(raw_geom)["type"] == "Feature", name  # as sent
        assert json.loads(geom) == json.loads(raw_geom)["geometry"] == json.loads(plain_geom)
        assert row_hash == plain_hash  # the same content, whichever way it was written


def test_boundaries_load_whole_and_only_when_the_portal_changed(fake_portal, ingest_settings):
    first = run_load(ingest_settings, dataset=BOUNDARIES)
    skipped = run_load(ingest_settings, dataset=BOUNDARIES)
    refreshed = run_load(ingest_settings, dataset=BOUNDARIES, full_refresh=True)

    assert (first.mode, first.status, first.cursor_after) == ("full", "succeeded", None)
    assert (skipped.mode, skipped.status, skipped.rows_received) == ("full", "skipped", 0)
    assert "download skipped" in skipped.message
    assert (refreshed.rows_received, refreshed.rows_unchanged, refreshed.rows_inserted) == (
        22,
        22,
        0,
    )


def test_a_failed_boundaries_load_changes_nothing(fake_portal, ingest_settings, everything):
    _load_all(ingest_settings)
    before = everything()
    fake_portal.inject("server_error", times=None, statuses=(503,), dataset=BOUNDARIES.id)
    settings = ingest_settings.model_copy(update={"retry_budget_seconds": 1})

    with pytest.raises(PortalUnavailableError, match="local-area-boundary"):
        run_load(settings, dataset=BOUNDARIES, full_refresh=True)

    assert everything() == before
    assert fake_portal.faults_fired["server_error"] > 1  # retried, within the budget
    assert run_load(settings).status == "skipped"  # the other dataset is served as before


def test_schema_drift_of_the_boundaries_fails_and_changes_nothing(
    fake_portal, ingest_settings, everything
):
    _load_all(ingest_settings)
    before = everything()
    fake_portal.inject("schema_change", change="removed", field="geom", dataset=BOUNDARIES.id)

    with pytest.raises(SchemaDriftError, match=r"no longer has field\(s\) geom"):
        run_load(ingest_settings, dataset=BOUNDARIES, full_refresh=True)

    assert everything() == before


def test_the_command_stops_at_the_dataset_that_fails(fake_portal, ingest_settings, query):
    fake_portal.inject("html_error_page", times=None, dataset=BOUNDARIES.id)

    result = CliRunner().invoke(
        app, ["load", "--data-dir", str(ingest_settings.data_dir), "--portal-url", fake_portal.url]
    )

    assert result.exit_code == 1
    assert result.output.splitlines()[-1].startswith(
        f"error: {BOUNDARIES.id}: {fake_portal.url_of(BOUNDARIES.id)} answered with an HTML page"
    )
    assert query("SELECT dataset FROM bronze._loads") == [(SERVICE_REQUESTS.id,)]
    assert query("SELECT count(*) FROM bronze.local_area_boundaries") == [(0,)]


@pytest.mark.parametrize(
    "geom, issues",
    [
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}, None),
        (
            {
                "type": "Feature",
                "geometry": {"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [0, 0]]]]},
                "properties": {},
            },
            None,
        ),
        ({"type": "Point", "coordinates": [0, 0]}, "geom_invalid"),
        ({"type": "Polygon"}, "geom_invalid"),
        ("POLYGON ((0 0, 1 0, 1 1, 0 0))", "geom_invalid"),
        (None, "geom_missing"),
    ],
    ids=["polygon", "feature", "point", "no-coordinates", "wkt", "null"],
)
def test_a_geometry_mmds_cannot_use_is_flagged_not_dropped(tmp_path, geom, issues):
    point = {"lon": -123.1, "lat": 49.28}
    good = {
        "name": "West End",
        "geom": {"type": "Polygon", "coordinates": []},
        "geo_point_2d": point,
    }
    tested = {"name": "Downtown", "geom": geom, "geo_point_2d": point}
    path = tmp_path / "export.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in (good, tested)))
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")

    summary = Staging(BOUNDARIES, datetime.now(UTC)).stage(con, path)

    kept, flags = con.execute(
        "SELECT geom, _quality_issues FROM staged WHERE name = 'Downtown'"
    ).fetchone()
    assert (summary.rows, flags) == (2, issues)
    assert (kept is None) == (issues is not None)


def test_a_warehouse_from_before_datasets_migrates_at_its_next_load(
    fake_portal, ingest_settings, query
):
    run_load(ingest_settings)
    with duckdb.connect(str(ingest_settings.warehouse_path)) as con:  # as 0.3.0 made it
        con.execute("DROP TABLE bronze.local_area_boundaries")
        for table, column in (("_loads", "dataset"), ("_state", "dataset")):
            con.execute(f"ALTER TABLE bronze.{table} DROP COLUMN {column}")
    status = CliRunner().invoke(app, ["status", "--data-dir", str(ingest_settings.data_dir)])
    assert status.exit_code == 0, status.output
    assert "local-area-boundary  (bronze.local_area_boundaries)\n  (not loaded yet)" in (
        status.output
    )

    fake_portal.advance(days=1)
    _load_all(ingest_settings)

    assert query("SELECT dataset, count(*) FROM bronze._loads GROUP BY 1 ORDER BY 1") == [
        (SERVICE_REQUESTS.id, 2),
        (BOUNDARIES.id, 1),
    ]
    assert query("SELECT dataset FROM bronze._state ORDER BY 1") == [
        (SERVICE_REQUESTS.id,),
        (BOUNDARIES.id,),
    ]

"""The local areas come from the portal's boundaries: what a change there does to gold.

A small warehouse is built once as the portal sends it; then the City renames an area in its
boundary dataset (and in the requests of that area), and later the boundaries are missing
altogether. Each state is built with a plain ``dbt build``.
"""

import json
import sys
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from mmds_transform import dbt_target_dir, run_dbt

sys.path.insert(0, str(Path(__file__).parent))
import seeded_warehouse

pytestmark = pytest.mark.slow

OLD_NAME, NEW_NAME = "Kitsilano", "Kitsilano-Point Grey"


@dataclass(frozen=True)
class Build:
    exit_code: int
    results: dict
    areas: dict[str, int]
    requests_per_area: dict[int, int]


def _build(data_dir: Path) -> Build:
    completed = run_dbt(["build"], data_dir, check=False)
    results = json.loads((dbt_target_dir(data_dir) / "run_results.json").read_text("utf-8"))
    with closing(duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)) as con:
        areas = dict(
            con.execute(
                "select local_area_name, local_area_id from gold.dim_local_areas"
            ).fetchall()
        )
        per_area = dict(
            con.execute(
                "select local_area_id, count(*) from gold.fct_service_requests group by 1"
            ).fetchall()
        )
    return Build(
        exit_code=completed.returncode,
        results={r["unique_id"].split(".")[2]: r for r in results["results"]},
        areas=areas,
        requests_per_area=per_area,
    )


def _execute(data_dir: Path, *statements: str) -> None:
    with closing(duckdb.connect(str(data_dir / "warehouse.duckdb"))) as con:
        for statement in statements:
            con.execute(statement, {"old": OLD_NAME, "new": NEW_NAME})


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Build]:
    data_dir = tmp_path_factory.mktemp("local-areas")
    seeded_warehouse.load_generated(data_dir, rows=300, seed=4)
    as_sent = _build(data_dir)
    _execute(
        data_dir,
        "update bronze.local_area_boundaries set name = $new where name = $old",
        "update bronze.service_requests set local_area = $new, _loaded_at = now()"
        " where local_area = $old",
    )
    renamed = _build(data_dir)
    _execute(data_dir, "delete from bronze.local_area_boundaries where $old <> $new")
    without_boundaries = _build(data_dir)
    return {"as_sent": as_sent, "renamed": renamed, "without_boundaries": without_boundaries}


def test_areas_are_the_boundaries_numbered_by_the_seed(builds):
    areas = builds["as_sent"].areas
    assert len(areas) == 23
    assert areas["Unknown"] == 0
    assert areas["Arbutus Ridge"] == 1
    assert areas["West Point Grey"] == 22
    assert builds["as_sent"].requests_per_area[areas[OLD_NAME]] > 0


def test_an_area_the_seed_does_not_number_yet_is_unknown_and_named_by_a_warning(builds):
    renamed = builds["renamed"]
    assert renamed.exit_code == 0
    assert OLD_NAME not in renamed.areas
    assert NEW_NAME not in renamed.areas
    warning = renamed.results["stg_portal__local_area_boundaries_area_is_numbered"]
    assert (warning["status"], warning["failures"]) == ("warn", 1)
    # The renamed area's requests moved to the unknown member; no other area changed.
    moved = builds["as_sent"].requests_per_area[builds["as_sent"].areas[OLD_NAME]]
    assert renamed.requests_per_area[0] == builds["as_sent"].requests_per_area[0] + moved
    unchanged = {name: area for name, area in renamed.areas.items() if name != "Unknown"}
    for area_id in unchanged.values():
        assert renamed.requests_per_area.get(area_id) == (
            builds["as_sent"].requests_per_area.get(area_id)
        )


def test_missing_boundaries_stop_the_build_and_say_what_to_load(builds):
    broken = builds["without_boundaries"]
    assert broken.exit_code != 0
    result = broken.results["int_local_areas"]
    assert result["status"] == "error"
    assert "bronze.local_area_boundaries is empty while" in result["message"]
    assert "load the local-area-boundary dataset" in result["message"]
    assert broken.results["fct_service_requests"]["status"] == "skipped"
    # gold stays as the previous build left it
    assert broken.areas == builds["renamed"].areas

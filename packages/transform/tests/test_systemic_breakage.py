"""Systemic breakage stops the build, isolated rows do not: each threshold on both sides.

A clean warehouse gets a newest load in which half the rows carry a new channel. The newest
load and all requests are each broken when more than ``min_flagged_rows`` of their rows are
flagged AND the flagged share exceeds ``max_flagged_share`` (dbt vars, from the environment
variables ``MMDS_MIN_FLAGGED_ROWS`` / ``MMDS_MAX_FLAGGED_SHARE``).
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
import hostile_bronze
import seeded_warehouse

pytestmark = pytest.mark.slow

NEWEST_LOAD = "flagged_share_of_newest_load_within_threshold"
ALL_REQUESTS = "flagged_share_of_all_requests_within_threshold"
FLAGGED_IN_LOAD, CLEAN_IN_LOAD = 25, 25


@dataclass(frozen=True)
class BrokenLoad:
    data_dir: Path
    fact_rows_before: int
    default_build: dict
    default_build_exit_code: int
    flagged_requests: int
    requests: int

    def query(self, sql: str) -> list[tuple]:
        with closing(
            duckdb.connect(str(self.data_dir / "warehouse.duckdb"), read_only=True)
        ) as con:
            return con.execute(sql).fetchall()


def _run(data_dir: Path, *args: str) -> tuple[int, dict]:
    completed = run_dbt(list(args), data_dir, check=False)
    results = json.loads((dbt_target_dir(data_dir) / "run_results.json").read_text("utf-8"))
    return completed.returncode, {r["unique_id"].split(".")[2]: r for r in results["results"]}


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> BrokenLoad:
    data_dir = tmp_path_factory.mktemp("broken-load")
    seeded_warehouse.load_generated(data_dir, rows=200, seed=3)
    seeded_warehouse.dbt_build(data_dir)
    with closing(duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)) as con:
        (fact_rows_before,) = con.execute(
            "select count(*) from gold.fct_service_requests"
        ).fetchone()
    rows = [
        hostile_bronze.HostileRow(f"fax-{i}", {"channel": "Fax"}) for i in range(FLAGGED_IN_LOAD)
    ]
    rows += [hostile_bronze.HostileRow(f"clean-{i}") for i in range(CLEAN_IN_LOAD)]
    hostile_bronze.insert_rows(data_dir, rows, "half-flagged-load")
    exit_code, default_build = _run(data_dir, "build")
    with closing(duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)) as con:
        flagged, requests = con.execute(
            "select count(quality_reasons), count(*) from silver.int_service_requests_flagged"
        ).fetchone()
    return BrokenLoad(data_dir, fact_rows_before, default_build, exit_code, flagged, requests)


def _outcome(broken: BrokenLoad, test: str, max_share: float, min_rows: int) -> dict:
    variables = json.dumps({"max_flagged_share": max_share, "min_flagged_rows": min_rows})
    _, results = _run(broken.data_dir, "test", "--select", test, "--vars", variables)
    return results[test]


def test_default_thresholds_stop_the_build_before_gold_and_say_why(broken):
    assert broken.default_build_exit_code != 0
    newest = broken.default_build[NEWEST_LOAD]
    assert newest["status"] == "error"
    message = newest["message"]
    assert "systemic breakage: 25 of 50 rows of the newest load (half-flagged-load)" in message
    assert "(50.0%), more than max_flagged_share 0.05 and more than min_flagged_rows 20" in message
    assert "unknown_channel 25" in message
    assert broken.default_build[ALL_REQUESTS]["status"] == "error"
    assert "requests in silver" in broken.default_build[ALL_REQUESTS]["message"]
    # nothing downstream of the flags was built: gold is as before the broken load
    assert broken.default_build["fct_service_requests"]["status"] == "skipped"
    assert broken.query("select count(*) from gold.fct_service_requests") == [
        (broken.fact_rows_before,)
    ]


@pytest.mark.parametrize(
    ("max_share", "min_rows", "status"),
    [
        (0.505, 20, "pass"),  # share 0.50 just under max_flagged_share
        (0.495, 20, "error"),  # just over
        (0.0, 25, "pass"),  # 25 flagged rows: not more than min_flagged_rows
        (0.0, 24, "error"),  # one more than min_flagged_rows
    ],
)
def test_newest_load_thresholds_on_both_sides(broken, max_share, min_rows, status):
    result = _outcome(broken, NEWEST_LOAD, max_share, min_rows)
    assert result["status"] == status
    if status == "error":
        assert (
            f"max_flagged_share {max_share} and more than min_flagged_rows {min_rows}"
            in (result["message"])
        )


@pytest.mark.parametrize(("side", "status"), [("under", "pass"), ("over", "error")])
def test_all_requests_share_on_both_sides(broken, side, status):
    share = broken.flagged_requests / broken.requests
    max_share = round(share + (0.0005 if side == "under" else -0.0005), 4)
    result = _outcome(broken, ALL_REQUESTS, max_share, 20)
    assert result["status"] == status
    if status == "error":
        assert (
            f"{broken.flagged_requests} of {broken.requests} requests in silver"
            in (result["message"])
        )


@pytest.mark.parametrize(("offset", "status"), [(0, "pass"), (-1, "error")])
def test_all_requests_flagged_rows_on_both_sides(broken, offset, status):
    result = _outcome(broken, ALL_REQUESTS, 0.0, broken.flagged_requests + offset)
    assert result["status"] == status


def test_thresholds_come_from_the_environment(broken, monkeypatch):
    monkeypatch.setenv("MMDS_MAX_FLAGGED_SHARE", "0.505")
    monkeypatch.setenv("MMDS_MIN_FLAGGED_ROWS", "20")
    _, passing = _run(broken.data_dir, "test", "--select", NEWEST_LOAD)
    monkeypatch.setenv("MMDS_MAX_FLAGGED_SHARE", "0.495")
    _, failing = _run(broken.data_dir, "test", "--select", NEWEST_LOAD)
    monkeypatch.setenv("MMDS_MAX_FLAGGED_SHARE", "five percent")
    exit_code, _ = _run(broken.data_dir, "test", "--select", NEWEST_LOAD)
    assert passing[NEWEST_LOAD]["status"] == "pass"
    assert failing[NEWEST_LOAD]["status"] == "error"
    assert exit_code != 0


def test_a_build_just_under_both_thresholds_publishes_the_load_to_gold(broken):
    variables = json.dumps({"max_flagged_share": 0.505, "min_flagged_rows": 20})
    exit_code, results = _run(broken.data_dir, "build", "--vars", variables)
    assert exit_code == 0
    assert {results[NEWEST_LOAD]["status"], results[ALL_REQUESTS]["status"]} == {"pass"}
    assert broken.query("select count(*) from gold.fct_service_requests") == [
        (broken.fact_rows_before + FLAGGED_IN_LOAD + CLEAN_IN_LOAD,)
    ]
    assert broken.query(
        "select count(*) from gold.fct_service_requests where channel = 'Other'"
    ) == [(FLAGGED_IN_LOAD,)]

"""Soak: `mmds run` cycle after cycle while the portal's time moves, faults fire and runs die.

A fake portal runs in this process. Each cycle moves its clock, injects faults chosen by a
seeded RNG (every kind the fake supports fires at least once over the soak) and runs the whole
pipeline (ingest, dbt build, publish): in-process like `mmds run` for most cycles, and as an
`mmds run` subprocess killed with SIGKILL during a chosen stage for some. Failed cycles are
allowed: the next one completes the work. After one last clean cycle, the published gold must
equal, row for row, the gold of a fresh warehouse built by one clean full load of the same
portal state and `dbt build`.
"""

import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from mmds_ingest import IngestSettings, run_load
from mmds_ingest.fake_portal import FakePortal, FaultKind
from mmds_orchestrator.cli import app
from mmds_transform import dbt_env, project_dir
from typer.testing import CliRunner

pytestmark = [pytest.mark.slow, pytest.mark.heavy]
log = logging.getLogger(__name__)

SEED = 20_261_130
ROWS = 2_000
CYCLES = 20
KILL_CYCLES = {3: "ingest", 7: "dbt", 11: "publish", 15: "dbt", 18: "ingest"}
# Each schema change the fake can make: (change, field, new name).
SCHEMA_CHANGES = (
    ("added", "priority", ""),
    ("removed", "channel", ""),
    ("renamed", "channel", "request_channel"),
)
READ_TIMEOUT_SECONDS = 5.0
# The portal's clock starts well in the past: the soak moves it by at most 60 days, and gold's
# tests reject instants in the future.
PORTAL_END = datetime(2026, 6, 30, 12, tzinfo=UTC)


@dataclass
class SoakReport:
    """What the soak did, for the one-line report."""

    cycles: int = 0
    succeeded: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    kills: list[str] = field(default_factory=list)
    differences: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def line(self) -> str:
        faults = ", ".join(f"{kind} {count}" for kind, count in sorted(self.faults.items()))
        kills = ", ".join(f"{stage} {n}" for stage, n in sorted(Counter(self.kills).items()))
        return (
            f"soak: {self.cycles} cycles ({self.succeeded} succeeded), "
            f"faults fired {sum(self.faults.values())} ({faults}), "
            f"kills {len(self.kills)} ({kills}), "
            f"differences {sum(self.differences.values())} {self.differences}, "
            f"{self.seconds:.0f}s"
        )


def fault_plan(rng: random.Random) -> dict[int, list[FaultKind]]:
    """Faults per cycle: every kind once on a random cycle of its own, plus random extras on
    the other cycles. A kind's own cycle is not one that kills the run, and holds no other
    fault: a fault that fails the load at once (an HTML page, a removed field) would keep
    another one of its cycle from ever firing."""
    plan: dict[int, list[FaultKind]] = {cycle: [] for cycle in range(CYCLES)}
    calm = [cycle for cycle in range(1, CYCLES) if cycle not in KILL_CYCLES]
    for kind, cycle in zip(FaultKind, rng.sample(calm, len(FaultKind)), strict=True):
        plan[cycle].append(kind)
    for cycle in range(1, CYCLES):
        extra = rng.choice([kind for kind in FaultKind if kind is not FaultKind.SCHEMA_CHANGE])
        if rng.random() < 0.5 and not plan[cycle]:
            plan[cycle].append(extra)
    return plan


def inject(portal: FakePortal, kind: FaultKind, rng: random.Random) -> None:
    """Put one fault in force, with options drawn from the RNG."""
    if kind is FaultKind.SCHEMA_CHANGE:
        change, name, to = rng.choice(SCHEMA_CHANGES)
        portal.inject(kind, change=change, field=name, **({"to": to} if to else {}))
    elif kind is FaultKind.SERVER_ERROR:
        portal.inject(kind, times=rng.randint(1, 3))
    elif kind in (FaultKind.DROP_CONNECTION, FaultKind.TRUNCATED_BODY):
        portal.inject(kind, after_bytes=rng.randint(1_000, 200_000))
    elif kind is FaultKind.SLOW_FIRST_BYTE:
        portal.inject(kind, seconds=READ_TIMEOUT_SECONDS + 1)
    else:
        portal.inject(kind)


def dbt_log_written(data_dir: Path) -> float:
    """When dbt last wrote its log (0 if never): a dbt command has started since if it grew."""
    log = data_dir / "dbt" / "target" / "dbt.log"
    return log.stat().st_mtime if log.exists() else 0.0


def stage_started(data_dir: Path, stage: str, dbt_log_before: float) -> bool:
    """Whether the pipeline is inside `stage`, from the files that stage writes while it runs."""
    if stage == "ingest":
        return any((data_dir / "tmp").glob("*.jsonl"))
    if stage == "dbt":
        return dbt_log_written(data_dir) > dbt_log_before
    return any(data_dir.glob(".serving.duckdb.*.tmp"))


def run_and_kill(data_dir: Path, stage: str, rng: random.Random) -> int:
    """Start `mmds run` and SIGKILL its process group at a random moment of `stage`.

    Returns the run's exit status: -SIGKILL if killed, else how it ended before that stage.
    """
    dbt_log_before = dbt_log_written(data_dir)
    delay = rng.uniform(0, {"ingest": 0.3, "dbt": 8.0, "publish": 0.05}[stage])
    command = [str(Path(sys.executable).with_name("mmds")), "run"]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        while process.poll() is None:
            if stage_started(data_dir, stage, dbt_log_before):
                time.sleep(delay)
                os.killpg(process.pid, signal.SIGKILL)  # the run and its dbt child, like kill -9
                return process.wait()
            time.sleep(0.005)
        return process.returncode
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def gold_differences(published: Path, reference: Path) -> dict[str, int]:
    """Rows of each gold table found on one side only (EXCEPT ALL both ways)."""
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute(f"attach '{published}' as published (read_only)")
        con.execute(f"attach '{reference}' as reference (read_only)")
        tables = {
            catalog: {
                name
                for (name,) in con.execute(
                    "select table_name from duckdb_tables() "
                    "where database_name = ? and schema_name = 'gold'",
                    [catalog],
                ).fetchall()
            }
            for catalog in ("published", "reference")
        }
        assert tables["published"] == tables["reference"], tables
        assert tables["published"], "no gold tables were built"
        differences = {}
        for table in sorted(tables["published"]):
            a, b = f'published.gold."{table}"', f'reference.gold."{table}"'
            (count,) = con.execute(
                f"select (select count(*) from (from {a} except all from {b})) "  # noqa: S608
                f"+ (select count(*) from (from {b} except all from {a}))"
            ).fetchone()
            differences[table] = count
    return differences


def dbt_build(project: Path, data_dir: Path) -> None:
    """`dbt build` of `project` against `data_dir`'s warehouse, as mmds-transform runs it."""
    command = [str(Path(sys.executable).with_name("dbt")), "build", "--project-dir", str(project)]
    completed = subprocess.run(
        [*command, "--profiles-dir", str(project)],
        env=dbt_env(data_dir),
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:]


@pytest.fixture
def soak_env(tmp_path, monkeypatch) -> Path:
    """MMDS_* settings for a fresh data dir, with short retry waits and timeouts.

    Both warehouses are built from one copy of the dbt project taken now, so an edit of the
    working tree during the soak cannot make the two builds differ.
    """
    data_dir = tmp_path / "soak"
    project = tmp_path / "dbt_project"
    shutil.copytree(project_dir(), project, ignore=shutil.ignore_patterns("target", "logs"))
    for name in ("MMDS_PORTAL_API_KEY", "DAGSTER_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MMDS_DBT_PROJECT_DIR", str(project))
    monkeypatch.setenv("MMDS_DATA_DIR", str(data_dir))
    monkeypatch.setenv("MMDS_RETRY_INITIAL_WAIT_SECONDS", "0.01")
    monkeypatch.setenv("MMDS_RETRY_MAX_WAIT_SECONDS", "0.2")
    monkeypatch.setenv("MMDS_READ_TIMEOUT_SECONDS", str(READ_TIMEOUT_SECONDS))
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    return data_dir


@pytest.mark.timeout(1800)
def test_gold_after_a_faulty_soak_equals_one_clean_full_load(
    soak_env, tmp_path, monkeypatch, capsys, record_property
):
    started = time.perf_counter()
    rng = random.Random(SEED)  # noqa: S311 - a reproducible schedule, not a secret
    plan = fault_plan(rng)
    report = SoakReport()
    runner = CliRunner()
    with FakePortal(rows=ROWS, seed=SEED, end=PORTAL_END) as portal:
        monkeypatch.setenv("MMDS_PORTAL_URL", portal.url)
        for cycle in range(CYCLES):
            portal.clear_faults()  # a schema change stays until cleared
            if cycle:
                portal.advance(days=rng.choice([0.5, 1, 2, 3]))
            for kind in plan[cycle]:
                inject(portal, kind, rng)
            cycle_started = time.perf_counter()
            if cycle in KILL_CYCLES:
                status = run_and_kill(soak_env, KILL_CYCLES[cycle], rng)
                if status == -signal.SIGKILL:
                    report.kills.append(KILL_CYCLES[cycle])
                report.succeeded += status == 0
                outcome = f"killed during {KILL_CYCLES[cycle]}" if status < 0 else f"exit {status}"
            else:
                result = runner.invoke(app, ["run"])
                report.succeeded += result.exit_code == 0
                outcome = f"exit {result.exit_code}: {result.output.splitlines()[-1:]}"
            log.info(
                "cycle %d, faults %s: %s in %.0fs",
                cycle,
                [k.value for k in plan[cycle]],
                outcome,
                time.perf_counter() - cycle_started,
            )
            report.cycles += 1
        portal.clear_faults()
        report.faults.update(portal.faults_fired)

        final = runner.invoke(app, ["run"])
        report.cycles += 1
        assert final.exit_code == 0, final.output
        report.succeeded += 1

        reference = tmp_path / "reference"
        run_load(IngestSettings(data_dir=reference, portal_url=portal.url), full_refresh=True)
    dbt_build(tmp_path / "dbt_project", reference)

    report.differences = gold_differences(
        soak_env / "serving.duckdb", reference / "warehouse.duckdb"
    )
    report.seconds = time.perf_counter() - started
    record_property("soak_report", report.line())
    with capsys.disabled():
        print(f"\n{report.line()}")

    assert set(report.faults) == {kind.value for kind in FaultKind}, report.faults
    assert len(report.kills) >= 3, report.kills
    assert sum(report.differences.values()) == 0, report.line()

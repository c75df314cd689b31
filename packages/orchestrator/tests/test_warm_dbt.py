"""dbt forked from the warm server behaves like dbt: same work, same exit codes, stoppable."""

import os
import subprocess
import time

import duckdb
from mmds_orchestrator.warm_dbt import warm_dbt


def _where(project) -> list[str]:
    return ["--project-dir", str(project), "--profiles-dir", str(project)]


def test_the_launcher_runs_dbt_and_reports_its_exit_code(dbt_probe):
    with warm_dbt(dict(os.environ)) as launcher:
        built = subprocess.run(
            [str(launcher), "build", "--select", "quick", *_where(dbt_probe.project)],
            capture_output=True,
            text=True,
            check=False,
        )
        refused = subprocess.run(
            [str(launcher), "build", "--profiles-dir", str(dbt_probe.scratch / "missing")],
            capture_output=True,
            text=True,
            check=False,
        )

    assert built.returncode == 0, built.stdout + built.stderr
    assert "Completed successfully" in built.stdout
    with duckdb.connect(str(dbt_probe.warehouse), read_only=True) as con:
        assert con.execute("select id from main.quick").fetchall() == [(1,)]
    assert refused.returncode == 2
    assert "Usage: dbt build" in refused.stderr


def test_a_killed_launcher_takes_its_dbt_along_and_frees_the_warehouse(dbt_probe):
    with warm_dbt(dict(os.environ)) as launcher:
        build = subprocess.Popen(
            [str(launcher), "build", *_where(dbt_probe.project)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for line in build.stdout:  # until dbt sits in `slow`, holding the warehouse
            if "slow" in line and "START" in line:
                break
        build.kill()
        build.wait()

        deadline = time.monotonic() + 15
        while True:
            try:
                with duckdb.connect(str(dbt_probe.warehouse)) as con:
                    assert con.execute("select id from main.quick").fetchall() == [(1,)]
                break
            except duckdb.IOException:
                assert time.monotonic() < deadline, "dbt still holds the warehouse"
                time.sleep(0.2)

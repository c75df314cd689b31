"""A newcomer's first minutes: clone, then the README's two commands, literally."""

import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from tests.readme import ROOT, quick_start_commands


def test_quick_start_is_the_main_job_then_the_tests():
    assert quick_start_commands() == [
        ["uv", "run", "mmds", "run", "--sample"],
        ["uv", "run", "pytest"],
    ]


@pytest.mark.slow
@pytest.mark.heavy
def test_fresh_clone_runs_the_readme_quick_start(tmp_path):
    clone = tmp_path / "mmds"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MMDS_", "VIRTUAL_ENV", "UV_PROJECT", "PYTEST", "DAGSTER_"))
    }
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env["PATH"] = os.pathsep.join([str(Path(shutil.which("uv")).parent), env.get("PATH", "")])
    main_job, tests = quick_start_commands()

    run = subprocess.run(
        main_job, cwd=clone, env=env, capture_output=True, text=True, check=False, timeout=1200
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    assert "published at" in run.stdout
    with duckdb.connect(str(clone / "data" / "serving.duckdb"), read_only=True) as serving:
        (requests,) = serving.execute("select count(*) from gold.fct_service_requests").fetchone()
    assert requests > 0

    # The slow tests (this one, the soak) are left out of the nested run: it would recurse.
    suite = subprocess.run(
        [*tests, "-m", "not slow", "-q", "-p", "no:cacheprovider"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    summary = suite.stdout.strip().splitlines()[-1] if suite.stdout.strip() else ""
    assert suite.returncode == 0, suite.stdout[-6000:] + suite.stderr[-2000:]
    assert " passed" in summary and "failed" not in summary, summary

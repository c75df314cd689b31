"""A newcomer's first minutes: clone, then the README's two commands, literally."""

import re
import subprocess

import duckdb
import pytest

from tests.readme import quick_start_commands


def test_quick_start_is_the_main_job_then_the_tests():
    assert quick_start_commands() == [
        ["uv", "run", "mmds", "run", "--sample"],
        ["uv", "run", "pytest"],
    ]


@pytest.mark.slow
def test_fresh_clone_runs_the_readme_quick_start(sample_run_in_a_fresh_clone):
    run = sample_run_in_a_fresh_clone
    assert run.main_job.returncode == 0, run.failure()
    assert "\npublished  20" in run.main_job.stdout  # the summary's publication line
    serving_file = run.clone / "data" / "serving.duckdb"
    with duckdb.connect(str(serving_file), read_only=True) as serving:
        (requests,) = serving.execute("select count(*) from gold.fct_service_requests").fetchone()
    assert requests > 0

    # The README's second command: in the clone it finds and imports every test (its plugins,
    # helpers and dependencies all committed). Running them is CI's own job, on a fresh clone.
    tests = quick_start_commands()[1]
    suite = subprocess.run(
        # syrupy would call every snapshot unused when nothing runs
        [*tests, "--collect-only", "-q", "-p", "no:cacheprovider", "--snapshot-warn-unused"],
        cwd=run.clone,
        env=run.env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    summary = suite.stdout.strip().splitlines()[-1] if suite.stdout.strip() else ""
    assert suite.returncode == 0, suite.stdout[-6000:] + suite.stderr[-2000:]
    collected = re.fullmatch(r"(\d+) tests collected in [\d.]+s", summary)
    assert collected, summary  # no error, nothing deselected
    assert int(collected[1]) > 500, summary  # every package's tests, not a subset

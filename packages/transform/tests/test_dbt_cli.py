"""The helpers that point dbt at a data directory, and dbt's executable."""

import json
import subprocess
from importlib.metadata import version
from pathlib import Path

import yaml
from mmds_transform import (
    dbt_env,
    dbt_executable,
    dbt_vars,
    profiles_dir,
    project_dir,
    run_dbt,
)


def test_project_and_profiles_ship_in_the_package():
    assert (project_dir() / "dbt_project.yml").is_file()
    assert (profiles_dir() / "profiles.yml").is_file()
    assert "env_var('MMDS_DATA_DIR')" in (profiles_dir() / "profiles.yml").read_text()


def test_dbt_env_makes_the_data_dir_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = dbt_env("data", base={})
    assert env["MMDS_DATA_DIR"] == str(tmp_path / "data")
    assert Path(env["DBT_TARGET_PATH"]) == tmp_path / "data" / "transform" / "target"


def test_dbt_vars_give_the_profile_the_absolute_data_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert dbt_vars("data") == {"mmds_data_dir": str(tmp_path / "data")}


def test_telemetry_is_off_in_the_project_alone(tmp_path):
    project = yaml.safe_load((project_dir() / "dbt_project.yml").read_text(encoding="utf-8"))
    assert project["flags"]["send_anonymous_usage_stats"] is False
    # No caller has to say it again: the environment dbt gets does not mention it.
    assert not any("ANONYMOUS" in name for name in dbt_env(tmp_path, base={}))


def test_dbt_keeps_a_bytecode_cache_under_the_data_dir_where_writing_bytecode_is_off(tmp_path):
    env = dbt_env(tmp_path, base={"PYTHONDONTWRITEBYTECODE": "1"})
    assert "PYTHONDONTWRITEBYTECODE" not in env
    assert Path(env["PYTHONPYCACHEPREFIX"]) == tmp_path / "transform" / "pycache"
    assert "PYTHONPYCACHEPREFIX" not in dbt_env(tmp_path, base={})


def test_mmds_dbt_answers_version_from_package_metadata_without_the_network():
    completed = subprocess.run(
        [str(dbt_executable()), "--version"],
        capture_output=True,
        text=True,
        check=True,
        # dbt's own --version would ask pypi.org; with no proxy reachable it would print an
        # error or a banner about the latest version.
        env={"PATH": "", "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"},
        timeout=60,
    )
    assert completed.stdout == f"Core:\n  - installed: {version('dbt-core')}\n"


def test_run_dbt_runs_dbt_through_mmds_dbt_and_writes_no_usage_file(tmp_path):
    listed = run_dbt(["ls", "--quiet", "--resource-type", "seed", "--output", "json"], tmp_path)
    lines = [line for line in listed.stdout.splitlines() if line.startswith("{")]
    assert "statuses" in {json.loads(line)["name"] for line in lines}
    # With usage statistics on, dbt writes a `.user.yml` beside the profile.
    assert not (profiles_dir() / ".user.yml").exists()

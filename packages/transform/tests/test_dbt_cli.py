"""The helpers that point dbt at a data directory."""

from pathlib import Path

from mmds_transform import dbt_env, profiles_dir, project_dir


def test_project_and_profiles_ship_in_the_package():
    assert (project_dir() / "dbt_project.yml").is_file()
    assert (profiles_dir() / "profiles.yml").is_file()
    assert "env_var('MMDS_DATA_DIR')" in (profiles_dir() / "profiles.yml").read_text()


def test_dbt_env_makes_the_data_dir_absolute_and_turns_telemetry_off(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = dbt_env("data", base={})
    assert env["MMDS_DATA_DIR"] == str(tmp_path / "data")
    assert Path(env["DBT_TARGET_PATH"]) == tmp_path / "data" / "transform" / "target"
    assert env["DBT_SEND_ANONYMOUS_USAGE_STATS"] == "false"


def test_dbt_keeps_a_bytecode_cache_under_the_data_dir_where_writing_bytecode_is_off(tmp_path):
    env = dbt_env(tmp_path, base={"PYTHONDONTWRITEBYTECODE": "1"})
    assert "PYTHONDONTWRITEBYTECODE" not in env
    assert Path(env["PYTHONPYCACHEPREFIX"]) == tmp_path / "transform" / "pycache"
    assert "PYTHONPYCACHEPREFIX" not in dbt_env(tmp_path, base={})

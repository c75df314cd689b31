"""Nothing phones home: each tool's usage statistics are switched off by the project itself."""

import yaml
from mmds_dashboard.launch import streamlit_command
from mmds_orchestrator.instance import open_instance
from mmds_transform import project_dir


def test_dbt_anonymous_usage_stats_are_off_in_the_project():
    project = yaml.safe_load((project_dir() / "dbt_project.yml").read_text())
    assert project["flags"]["send_anonymous_usage_stats"] is False


def test_dagster_instance_under_the_data_dir_has_telemetry_off(tmp_path):
    instance = open_instance(tmp_path / "dagster_home")
    try:
        assert not instance.is_ephemeral
        assert instance.telemetry_enabled is False
    finally:
        instance.dispose()


def test_streamlit_is_started_without_usage_stats_on_loopback():
    command = streamlit_command(port=8501)

    def value_of(flag: str) -> str:
        return command[command.index(flag) + 1]

    assert value_of("--browser.gatherUsageStats") == "false"
    assert value_of("--server.address") == "127.0.0.1"

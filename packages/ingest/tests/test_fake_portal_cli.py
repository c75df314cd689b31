"""`mmds-ingest fake-portal` prints its base URL, serves, and stops on SIGTERM."""

import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
from mmds_ingest.cli import app
from mmds_ingest.fake_portal import hostile_records
from typer.testing import CliRunner

COMMAND = str(Path(sys.executable).with_name("mmds-ingest"))
NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)


def test_serves_until_sigterm_with_faults_from_flags():
    process = subprocess.Popen(
        [COMMAND, "fake-portal", "--rows", "300", "--seed", "2", "--port", "0",
         "--fault", "server_error:times=1,statuses=503", "--quota", "50"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        dataset = f"{url}/api/explore/v2.1/catalog/datasets/3-1-1-service-requests"
        assert httpx.get(dataset).status_code == 503
        response = httpx.get(f"{dataset}/records", params={"limit": 0})
        assert response.json()["total_count"] == 300
        assert response.headers["X-RateLimit-Limit"] == "50"
    finally:
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=20)
    assert returncode == 0


def test_hostile_flag_serves_the_hostile_mix_too():
    process = subprocess.Popen(
        [COMMAND, "fake-portal", "--rows", "200", "--hostile"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = process.stdout.readline().strip()
        dataset = f"{url}/api/explore/v2.1/catalog/datasets/3-1-1-service-requests"
        count = httpx.get(f"{dataset}/records", params={"limit": 0}).json()["total_count"]
        mix = sum(len(records) for records in hostile_records(NOW, NOW).values())
        assert count == 200 + mix
        future = {"where": "last_modified_timestamp >= date'2999-01-01T00:00:00+00:00'", "limit": 0}
        assert httpx.get(f"{dataset}/records", params=future).json()["total_count"] == 1
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


def test_bad_flags_are_refused_with_a_reason():
    result = CliRunner().invoke(app, ["fake-portal", "--fault", "meteor_strike"])
    assert result.exit_code == 2
    assert "unknown fault 'meteor_strike'" in result.output


def test_an_unusable_extract_is_refused_without_a_traceback(tmp_path):
    extract = tmp_path / "other.csv"
    extract.write_text("a,b\n1,2\n")
    result = CliRunner().invoke(app, ["fake-portal", "--from-csv", str(extract)])
    assert result.exit_code == 2
    assert "lacks the portal's fields" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)

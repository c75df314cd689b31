"""Security review: loopback only, no secret in any output or file, nothing leaves the machine."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.guarded import SECRET, files_containing, guarded
from tests.servers import free_port, listening_addresses, serve


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


@pytest.fixture
def guarded_env(tmp_path):
    """Environment for subprocesses: outbound network refused and recorded, API key set."""
    log = tmp_path / "netguard.log"
    env = {
        **guarded(dict(os.environ), log),
        "MMDS_DATA_DIR": str(tmp_path / "data"),
        "MMDS_RETRY_INITIAL_WAIT_SECONDS": "0.05",
        "MMDS_RETRY_MAX_WAIT_SECONDS": "0.2",
    }
    return env, log


def test_the_network_guard_refuses_and_records_outbound_connections(guarded_env):
    env, log = guarded_env
    probe = "import socket; socket.create_connection(('192.0.2.1', 443), timeout=1)"
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "outbound network refused" in result.stderr
    assert "192.0.2.1" in log.read_text()


@pytest.mark.slow
def test_sample_run_keeps_the_key_secret_and_stays_on_the_machine(sample_run_in_a_fresh_clone):
    run = sample_run_in_a_fresh_clone  # `uv run mmds run --sample` with a key set, guarded
    assert run.main_job.returncode == 0, run.failure()
    assert SECRET not in run.main_job.stdout + run.main_job.stderr
    assert files_containing(run.clone / "data", SECRET.encode()) == []
    assert not run.netguard_log.exists(), run.netguard_log.read_text()


def test_failed_load_names_the_problem_without_the_key(guarded_env, tmp_path):
    env, log = guarded_env
    with serve(
        [_bin("mmds-ingest"), "fake-portal", "--rows", "500", "--fault", "server_error:times=50"],
        env=env,
    ) as portal:
        result = subprocess.run(
            [_bin("mmds-ingest"), "load", "--portal-url", portal.url],
            env={**env, "MMDS_RETRY_ATTEMPTS": "2"},
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "500" in output or "server error" in output.lower(), output
    assert SECRET not in output + portal.output()
    assert files_containing(tmp_path, SECRET.encode()) == []
    assert not log.exists(), log.read_text()


def test_servers_bind_loopback_by_default(guarded_env, tmp_path):
    env, _ = guarded_env
    with serve([_bin("mmds-ingest"), "fake-portal", "--rows", "100"], env=env) as portal:
        assert portal.url.startswith("http://127.0.0.1:")
        assert listening_addresses(portal.pid) == {"127.0.0.1"}
    with serve(
        [_bin("mmds-dashboard"), "--port", str(free_port())], env=env, health="/_stcore/health"
    ) as dashboard:
        assert listening_addresses(dashboard.pid) == {"127.0.0.1"}

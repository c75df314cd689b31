"""Start the project's servers as real subprocesses, wait until they answer, stop them by PID."""

import os
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import psutil

LOOPBACK_URL = re.compile(r"http://127\.0\.0\.1:\d+")


@dataclass
class Server:
    """A running server subprocess, its URL and everything it printed so far."""

    process: subprocess.Popen
    url: str = ""
    lines: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        """The server's process id."""
        return self.process.pid

    def output(self) -> str:
        """Everything the server printed (stdout and stderr)."""
        return "".join(self.lines)


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serve(
    command: Sequence[str], env: dict[str, str], health: str = "/", timeout: float = 120
) -> Iterator[Server]:
    """Run `command`, wait for the loopback URL it prints to answer `health`, stop it on exit."""
    process = subprocess.Popen(
        list(command),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    server = Server(process)
    threading.Thread(target=lambda: server.lines.extend(process.stdout), daemon=True).start()
    try:
        _wait_until_serving(server, health, timeout)
        yield server
    finally:
        _stop(process)


def _wait_until_serving(server: Server, health: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            code = server.process.returncode
            raise RuntimeError(f"server exited with {code}:\n{server.output()}")
        match = LOOPBACK_URL.search(server.output())
        if match:
            server.url = match.group(0)
            try:
                if httpx.get(server.url + health, timeout=2).status_code < 500:
                    return
            except httpx.TransportError:
                pass
        time.sleep(0.2)
    raise TimeoutError(f"server did not answer within {timeout} s:\n{server.output()}")


def _stop(process: subprocess.Popen) -> None:
    """Interrupt the server's own process group (it started it), then kill what is left."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def listening_addresses(pid: int) -> set[str]:
    """The IP addresses on which the process and its children listen for TCP connections."""
    root = psutil.Process(pid)
    addresses = set()
    for process in [root, *root.children(recursive=True)]:
        for connection in process.net_connections(kind="inet"):
            if connection.status == psutil.CONN_LISTEN:
                addresses.add(connection.laddr.ip)
    return addresses

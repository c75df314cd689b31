"""A throwaway PostgreSQL server for the tests of every package, and fixtures around it.

The server runs from a temporary directory on a free loopback port, as the `postgres` user when
the tests run as root (PostgreSQL refuses root), with `fsync=off`, and is stopped with
`pg_ctl -m immediate`. Binaries: `$MMDS_POSTGRES_BIN`, else Debian's
`/usr/lib/postgresql/<version>/bin` (15 first). Where none can be started, the fixtures skip
and say why.

Loaded for every test by the root conftest.py: use the fixtures `postgres_server_url`
(one server per session) and `postgres_url` (a new database per test).
"""

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

DEBIAN_BINARIES = Path("/usr/lib/postgresql")


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server can be started here; the message says why."""


def binaries() -> Path:
    """The folder holding `initdb` and `pg_ctl`, or raise `PostgresUnavailable`."""
    chosen = os.environ.get("MMDS_POSTGRES_BIN")
    candidates = [Path(chosen)] if chosen else []
    versions = sorted(DEBIAN_BINARIES.glob("*/bin"), key=lambda path: path.parent.name != "15")
    for folder in [*candidates, *versions]:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    raise PostgresUnavailable(
        f"PostgreSQL is not installed (no initdb under {DEBIAN_BINARIES}/*/bin or "
        "$MMDS_POSTGRES_BIN; `apt-get install postgresql`)"
    )


def _free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    if shutil.which("runuser") is None:
        raise PostgresUnavailable("running as root without `runuser` to become `postgres`")
    return ["runuser", "-u", "postgres", "--", *command]


@contextmanager
def postgres_server(password: str | None = None, fsync: bool = False) -> Iterator[str]:
    """Start a PostgreSQL server; yield the URL of an empty database `warehouse` on it.

    With `password`, the user `mmds` must give it (scram-sha-256) and the URL carries it;
    without, any local connection is trusted. `fsync` off (the default) suits tests; the
    benchmark turns it on, as a real server runs.
    """
    bin_dir = binaries()
    directory = Path(tempfile.mkdtemp(prefix="mmds-postgres-"))
    if os.geteuid() == 0:
        shutil.chown(directory, user="postgres")
    data, port = directory / "data", _free_port()
    run = {"check": True, "capture_output": True, "timeout": 120}
    auth = ["-A", "trust"]
    if password is not None:
        secret = directory / "password"
        secret.write_text(password)
        if os.geteuid() == 0:
            shutil.chown(secret, user="postgres")
        auth = ["-A", "scram-sha-256", f"--pwfile={secret}"]
    try:
        subprocess.run(
            _as_server_user([str(bin_dir / "initdb"), "-D", str(data), *auth, "-U", "mmds"]),
            **run,
        )
        durable = "on" if fsync else "off"
        options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync={durable}"
        subprocess.run(
            _as_server_user(
                [
                    *(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options),
                    *("-l", str(directory / "log"), "-w", "start"),
                ]
            ),
            **run,
        )
    except (OSError, subprocess.SubprocessError) as error:
        shutil.rmtree(directory, ignore_errors=True)
        raise PostgresUnavailable(f"the server did not start: {error}") from error
    try:
        import psycopg  # here: the dashboard's tests run without it

        credentials = "mmds" if password is None else f"mmds:{password}"
        server = f"postgresql://{credentials}@127.0.0.1:{port}"
        with psycopg.connect(f"{server}/postgres", autocommit=True) as con:
            con.execute("create database warehouse")
        yield f"{server}/warehouse"
    finally:
        subprocess.run(
            _as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
            check=False,
            timeout=120,
        )
        shutil.rmtree(directory, ignore_errors=True)


_databases = itertools.count()


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """One PostgreSQL server for the session: the URL of its database `warehouse`."""
    try:
        with postgres_server() as url:
            yield url
    except PostgresUnavailable as error:
        pytest.skip(f"no PostgreSQL server can be started here: {error}")


@pytest.fixture
def postgres_url(postgres_server_url: str) -> str:
    """The URL of a new, empty database on the session's server (one per test)."""
    import psycopg

    name = f"test_{os.getpid()}_{next(_databases)}"
    with psycopg.connect(postgres_server_url, autocommit=True) as con:
        con.execute(f"create database {name}")
    return postgres_server_url.rpartition("/")[0] + f"/{name}"

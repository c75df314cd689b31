"""A throwaway PostgreSQL 15 server, and bronze copied into it from a DuckDB warehouse.

The server runs from a temporary directory on a free loopback port, as the `postgres` user when
the tests run as root (PostgreSQL refuses root), and is stopped with `pg_ctl -m immediate`.
Bronze is copied table by table with psycopg 3's COPY, the way ingest will load it there.
"""

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import duckdb
import psycopg

PG_BIN = Path("/usr/lib/postgresql/15/bin")
BRONZE_TABLES = ("service_requests", "_loads", "local_area_boundaries")
# DuckDB type -> PostgreSQL type of bronze's columns (docs/contracts.md). JSON stays `json`,
# not `jsonb`, so that its text (the boundaries' GeoJSON) is kept byte for byte.
PG_TYPES = {
    "VARCHAR": "varchar",
    "JSON": "json",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "DATE": "date",
    "DOUBLE": "double precision",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "BOOLEAN": "boolean",
}


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server can be started here; the message says why."""


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
def postgres_server() -> Iterator[str]:
    """Start a PostgreSQL server; yield the URL of an empty database `warehouse` on it."""
    if not (PG_BIN / "initdb").exists():
        raise PostgresUnavailable(f"PostgreSQL 15 is not installed ({PG_BIN} has no initdb)")
    directory = Path(tempfile.mkdtemp(prefix="mmds-postgres-"))
    if os.geteuid() == 0:
        shutil.chown(directory, user="postgres")
    data, port = directory / "data", _free_port()
    run = {"check": True, "capture_output": True, "timeout": 120}
    try:
        subprocess.run(
            _as_server_user([str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "mmds"]),
            **run,
        )
        options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            _as_server_user(
                [
                    *(str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options),
                    *("-l", str(directory / "log"), "-w", "start"),
                ]
            ),
            **run,
        )
    except (OSError, subprocess.SubprocessError) as error:
        shutil.rmtree(directory, ignore_errors=True)
        raise PostgresUnavailable(f"the server did not start: {error}") from error
    try:
        server = f"postgresql://mmds@127.0.0.1:{port}"
        with psycopg.connect(f"{server}/postgres", autocommit=True) as con:
            con.execute("create database warehouse")
        yield f"{server}/warehouse"
    finally:
        subprocess.run(
            _as_server_user([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
            check=False,
            timeout=120,
        )
        shutil.rmtree(directory, ignore_errors=True)


def copy_bronze(duckdb_warehouse: Path, url: str) -> dict[str, int]:
    """Make PostgreSQL's bronze hold exactly the rows of the DuckDB warehouse's bronze.

    Each table is created with the same columns if missing, emptied and filled by COPY, all in
    one transaction. Returns the rows copied per table.
    """
    copied = {}
    with (
        closing(duckdb.connect(str(duckdb_warehouse), read_only=True)) as source,
        psycopg.connect(url) as target,
    ):
        source.execute("set TimeZone = 'UTC'")
        target.execute("create schema if not exists bronze")
        for table in BRONZE_TABLES:
            columns = source.execute(
                "select column_name, data_type from information_schema.columns"
                " where table_schema = 'bronze' and table_name = ? order by ordinal_position",
                [table],
            ).fetchall()
            names = ", ".join(f'"{name}"' for name, _ in columns)
            definition = ", ".join(f'"{name}" {PG_TYPES[kind]}' for name, kind in columns)
            target.execute(f"create table if not exists bronze.{table} ({definition})")
            target.execute(f"truncate bronze.{table}")
            rows = source.execute(f"select {names} from bronze.{table}").fetchall()  # noqa: S608
            with target.cursor().copy(f"copy bronze.{table} ({names}) from stdin") as copy:
                for row in rows:
                    copy.write_row(row)
            copied[table] = len(rows)
    return copied

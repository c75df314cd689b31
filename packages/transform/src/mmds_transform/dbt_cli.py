"""Run the dbt command line against the project and a data directory."""

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from mmds_transform.project import profiles_dir, project_dir

# Under MMDS_DATA_DIR, `dbt/` belongs to the orchestrator (docs/contracts.md): our own runs keep
# their artefacts apart so they never overwrite the orchestrator's manifest.
ARTEFACTS_DIR = "transform"


class DbtCommandError(RuntimeError):
    """A dbt command exited with a non-zero status; the message holds the end of its output."""


class WarehouseUrlError(ValueError):
    """The warehouse URL is not one dbt can use; the message says what is expected."""


POSTGRES_SCHEMES = ("postgresql", "postgres")
POSTGRES_DEFAULT_PORT = 5432
# The profile's postgres target reads these (profiles.yml); dbt scrubs DBT_ENV_SECRET_* values
# from its logs, so the password never reaches an artefact.
PASSWORD_VARIABLE = "DBT_ENV_SECRET_MMDS_WAREHOUSE_PASSWORD"  # noqa: S105 (a name, not a value)


def dbt_target(warehouse_url: str | None = None) -> str:
    """Return the profile's target for a warehouse: ``duckdb`` (no URL: ``warehouse.duckdb`` in
    the data dir) or ``postgres`` (a ``postgresql://`` URL). Pass it as ``--target``."""
    if warehouse_url is None:
        return "duckdb"
    _postgres_parts(warehouse_url)
    return "postgres"


def warehouse_env(warehouse_url: str | None = None) -> dict[str, str]:
    """Return the environment selecting the warehouse: ``DBT_TARGET`` and, for a
    ``postgresql://user:password@host:port/database[?sslmode=...]`` URL, the connection
    details the profile's postgres target reads (password in ``DBT_ENV_SECRET_...``)."""
    env = {"DBT_TARGET": dbt_target(warehouse_url)}
    if warehouse_url is not None:
        env.update(_postgres_parts(warehouse_url))
    return env


def _postgres_parts(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    expected = "postgresql://user:password@host:port/database"
    shown = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()  # no credentials
    if parts.scheme not in POSTGRES_SCHEMES:
        raise WarehouseUrlError(
            f"the warehouse URL must look like {expected} (or be unset for the DuckDB file in "
            f"the data dir), got {shown!r}"
        )
    database = unquote(parts.path.lstrip("/"))
    options = parse_qs(parts.query)
    if not parts.hostname or not parts.username or not database or "/" in database:
        raise WarehouseUrlError(
            f"the warehouse URL must name a host, a user and a database ({expected}), got {shown!r}"
        )
    if set(options) - {"sslmode"}:
        raise WarehouseUrlError(
            f"the warehouse URL may only carry the option sslmode, got {shown!r}"
        )
    try:
        port = parts.port or POSTGRES_DEFAULT_PORT
    except ValueError as error:
        raise WarehouseUrlError(f"the warehouse URL has an invalid port: {shown!r}") from error
    return {
        "MMDS_WAREHOUSE_HOST": parts.hostname,
        "MMDS_WAREHOUSE_PORT": str(port),
        "MMDS_WAREHOUSE_USER": unquote(parts.username),
        PASSWORD_VARIABLE: unquote(parts.password or ""),
        "MMDS_WAREHOUSE_DBNAME": database,
        "MMDS_WAREHOUSE_SSLMODE": options.get("sslmode", ["prefer"])[-1],
        # Every instant is read and written in UTC, as on DuckDB (libpq's session time zone).
        "PGTZ": "UTC",
    }


def dbt_target_dir(data_dir: Path | str) -> Path:
    """Return where ``run_dbt`` makes dbt write its artefacts (manifest, run results, docs)."""
    return Path(data_dir).expanduser().resolve() / ARTEFACTS_DIR / "target"


def dbt_executable() -> Path:
    """Return ``mmds-dbt`` (dbt's command line, ``--version`` answered offline), installed
    beside the running interpreter, so it is found outside an activated virtual environment."""
    return Path(sys.executable).with_name("mmds-dbt")


def dbt_vars(data_dir: Path | str) -> dict[str, str]:
    """Return the ``--vars`` the project needs: the absolute data dir of the DuckDB warehouse.

    Pass them as ``["--vars", json.dumps(dbt_vars(data_dir))]``; the committed profile prefers
    them to ``MMDS_DATA_DIR``.
    """
    return {"mmds_data_dir": str(Path(data_dir).expanduser().resolve())}


def dbt_env(
    data_dir: Path | str,
    base: Mapping[str, str] | None = None,
    *,
    warehouse_url: str | None = None,
) -> dict[str, str]:
    """Return an environment for dbt: ``MMDS_DATA_DIR`` made absolute, artefacts under it, and
    the warehouse chosen by ``warehouse_url`` (``warehouse_env``; none: the DuckDB file).

    ``base`` defaults to the current process environment. dbt writes its artefacts (manifest,
    run results, logs) under ``<data_dir>/transform/`` rather than inside the installed package.
    Telemetry is off in the project itself (``dbt_project.yml`` ``flags``).
    Where the environment forbids writing bytecode (``PYTHONDONTWRITEBYTECODE``), Python's
    bytecode cache goes to ``<data_dir>/transform/pycache`` instead of being skipped.
    """
    data_path = Path(data_dir).expanduser().resolve()
    env = dict(os.environ if base is None else base)
    env.update(
        MMDS_DATA_DIR=str(data_path),
        DBT_TARGET_PATH=str(dbt_target_dir(data_path)),
        DBT_LOG_PATH=str(data_path / ARTEFACTS_DIR / "logs"),
    )
    env.update(warehouse_env(warehouse_url))
    # `mmds-dbt` follows MMDS_WAREHOUSE_URL: make it say what the caller chose.
    env.pop("MMDS_WAREHOUSE_URL", None)
    if warehouse_url is not None:
        env["MMDS_WAREHOUSE_URL"] = warehouse_url
    if env.pop("PYTHONDONTWRITEBYTECODE", ""):
        # Without cached bytecode every dbt process compiles dbt from source again (about 2 CPU
        # seconds of its start-up): keep the cache under the data dir, never beside the sources.
        env.setdefault("PYTHONPYCACHEPREFIX", str(data_path / ARTEFACTS_DIR / "pycache"))
    return env


def run_dbt(
    args: Sequence[str],
    data_dir: Path | str,
    *,
    check: bool = True,
    warehouse_url: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``dbt <args>`` on the mmds project against ``<data_dir>/warehouse.duckdb``, or
    against the PostgreSQL database of ``warehouse_url``; artefacts go under ``data_dir``.

    dbt runs as ``dbt_executable()``. Raises ``DbtCommandError`` when ``check`` is true and dbt
    fails.
    """
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    command = [
        str(dbt_executable()),
        *args,
        "--project-dir",
        str(project_dir()),
        "--profiles-dir",
        str(profiles_dir()),
    ]
    completed = subprocess.run(  # noqa: S603 (fixed executable, arguments from our callers)
        command,
        env=dbt_env(data_dir, warehouse_url=warehouse_url),
        capture_output=True,
        text=True,
        check=False,
    )
    if check and completed.returncode != 0:
        tail = "\n".join(completed.stdout.splitlines()[-40:])
        raise DbtCommandError(
            f"`dbt {' '.join(args)}` failed with exit code {completed.returncode} "
            f"(data dir {Path(data_dir).resolve()}):\n{tail}\n{completed.stderr[-2000:]}"
        )
    return completed

"""The dbt project of mmds-transform, with its manifest prepared whenever it is missing or stale."""

import fcntl
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import mmds_transform
from dagster_dbt import DbtProject

# Folders dbt writes into, or that hold no project source: ignored by the staleness check.
_NOT_SOURCE = {"target", "logs", "dbt_packages", "__pycache__"}


class DbtProjectError(RuntimeError):
    """The dbt project is missing or does not parse; the message says what to fix."""


def dbt_executable() -> Path:
    """The `dbt` installed beside this interpreter (found even outside `uv run`)."""
    return Path(sys.executable).with_name("dbt")


def default_project_dir() -> Path:
    """The dbt project shipped by mmds-transform."""
    return Path(mmds_transform.project_dir())


def prepare_dbt_project(project_dir: Path, artifacts_dir: Path, data_dir: Path) -> DbtProject:
    """Return the project with an up-to-date `manifest.json` under `artifacts_dir/target`.

    Runs `dbt parse` (about 10 s; it never opens the warehouse) when the manifest is missing or
    any project file changed since it was written. A file lock keeps concurrent callers from
    parsing at the same time.
    """
    if not (project_dir / "dbt_project.yml").is_file():
        raise DbtProjectError(f"No dbt_project.yml in {project_dir}: is mmds-transform installed?")
    target = artifacts_dir / "target"
    target.mkdir(parents=True, exist_ok=True)
    stamp = target / "manifest.fingerprint"
    with (target / ".prepare.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        fingerprint = project_fingerprint(project_dir)
        manifest = target / "manifest.json"
        current = stamp.read_text(encoding="utf-8") if stamp.exists() else ""
        if not manifest.exists() or current != fingerprint:
            _parse(project_dir, target, data_dir)
            stamp.write_text(fingerprint, encoding="utf-8")
    return DbtProject(project_dir=project_dir, target_path=target, profiles_dir=project_dir)


def project_fingerprint(project_dir: Path) -> str:
    """A digest of every project file's path, size and modification time."""
    digest = hashlib.sha256(str(project_dir.resolve()).encode())
    for path in sorted(project_dir.rglob("*")):
        relative = path.relative_to(project_dir)
        if path.is_file() and not _NOT_SOURCE.intersection(relative.parts):
            info = path.stat()
            digest.update(f"{relative}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def dbt_environment(data_dir: Path, log_dir: Path) -> dict[str, str]:
    """Environment for a dbt subprocess: the warehouse location, logs aside, no telemetry."""
    return {
        **os.environ,
        "MMDS_DATA_DIR": str(data_dir),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_LOG_PATH": str(log_dir),
    }


def _parse(project_dir: Path, target: Path, data_dir: Path) -> None:
    command = [
        str(dbt_executable()),
        "parse",
        "--quiet",
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(project_dir),
        "--target-path",
        str(target),
    ]
    completed = subprocess.run(  # noqa: S603 - fixed executable and arguments, no shell
        command,
        env=dbt_environment(data_dir, target / "logs"),
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        output = (completed.stdout + completed.stderr).strip()[-2000:]
        raise DbtProjectError(f"`dbt parse` failed for {project_dir}:\n{output}")

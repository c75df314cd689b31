"""A newcomer's checkout: a fresh clone of the repository and the environment of their shell."""

import os
import shutil
import subprocess
from pathlib import Path

from tests.readme import ROOT

# What our own runs set (the outer `uv run`, pytest, the project's settings) and a newcomer's
# shell would not.
NOT_A_NEWCOMERS = ("MMDS_", "VIRTUAL_ENV", "UV_PROJECT", "PYTEST", "DAGSTER_")


def newcomer_env() -> dict[str, str]:
    """This environment without our own settings, with uv on PATH and no interpreter download."""
    uv = shutil.which("uv")
    if uv is None:
        raise RuntimeError("uv is not on PATH: the README's commands start with `uv run`")
    env = {key: value for key, value in os.environ.items() if not key.startswith(NOT_A_NEWCOMERS)}
    env["UV_PYTHON_DOWNLOADS"] = "never"  # as .ci/run: use this machine's Python 3.11
    env["PATH"] = os.pathsep.join([str(Path(uv).parent), env.get("PATH", "")])
    return env


def clone_repository(destination: Path) -> Path:
    """Clone the repository's committed HEAD (not the working tree) to `destination`."""
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(destination)], check=True)
    return destination

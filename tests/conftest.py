"""Root test configuration: heavy tests run only when asked for; one fresh clone per session."""

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fresh_clone import clone_repository, newcomer_env
from tests.guarded import guarded
from tests.readme import quick_start_commands

HEAVY_ENV = "MMDS_HEAVY_TESTS"


def pytest_collection_modifyitems(config, items):
    """Skip tests marked `heavy` unless MMDS_HEAVY_TESTS=1 (CI runs them in their own job)."""
    if os.environ.get(HEAVY_ENV) == "1":
        return
    skip = pytest.mark.skip(reason=f"heavy (several minutes): set {HEAVY_ENV}=1 to run it")
    for item in items:
        if "heavy" in item.keywords:
            item.add_marker(skip)


@dataclass(frozen=True)
class CloneRun:
    """A fresh clone after the README's main job ran in it."""

    clone: Path
    env: dict[str, str]  # the newcomer's environment, without the key and the network guard
    main_job: subprocess.CompletedProcess[str]
    netguard_log: Path

    def failure(self) -> str:
        """The end of what the main job printed, to explain a failure."""
        return self.main_job.stdout[-4000:] + self.main_job.stderr[-4000:]


@pytest.fixture(scope="session")
def sample_run_in_a_fresh_clone(tmp_path_factory: pytest.TempPathFactory) -> CloneRun:
    """Clone, then run the quick start's main job (`uv run mmds run --sample`) literally.

    An API key is set and the network guard is on, so one run serves both the newcomer's
    quick start and the security review. Only `slow` tests may use it (minutes).
    """
    folder = tmp_path_factory.mktemp("fresh-clone")
    clone = clone_repository(folder / "mmds")
    env = newcomer_env()
    log = folder / "netguard.log"
    main_job = quick_start_commands()[0]
    result = subprocess.run(
        main_job,
        cwd=clone,
        env=guarded(env, log),
        capture_output=True,
        text=True,
        check=False,
        timeout=1200,
    )
    return CloneRun(clone=clone, env=env, main_job=result, netguard_log=log)

"""The connector works without the `fake-portal` extra: with numpy and pyarrow refused at
import, `import mmds_ingest`, `mmds-ingest --help`, a load of every dataset, `status` and
`history` all run, and `mmds-ingest fake-portal` says in one line how to install the extra.

The fake portal needs the extra, so it runs in this process; the connector runs in a child
process whose imports of numpy and pyarrow fail as if they were not installed."""

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

# The child: refuse the extra's modules, then run one `mmds-ingest` command in-process and
# report the modules of the extra that got imported anyway.
CHILD = """
import sys

EXTRA = {"numpy", "pyarrow"}


class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in EXTRA:
            raise ModuleNotFoundError(f"No module named {name!r} (refused)", name=name)
        return None


sys.meta_path.insert(0, Refuse())
import mmds_ingest
from mmds_ingest import IngestSettings, run_load
from mmds_ingest.cli import app

try:
    app(sys.argv[1:], prog_name="mmds-ingest")
finally:
    print("imported:", sorted(m for m in sys.modules if m.split(".")[0] in EXTRA), file=sys.stderr)
"""


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", CHILD, *args], capture_output=True, text=True, timeout=120
    )


def _imported(done: subprocess.CompletedProcess) -> str:
    return done.stderr.strip().splitlines()[-1]


def test_the_connector_runs_without_numpy_or_pyarrow(fake_portal, tmp_path):
    flags = ["--data-dir", str(tmp_path)]

    helped = _run("--help")
    loaded = _run("load", "--portal-url", fake_portal.url, *flags)
    status = _run("status", *flags)
    history = _run("history", *flags)

    for done in (helped, loaded, status, history):
        assert done.returncode == 0, done.stderr
        assert _imported(done) == "imported: []"
    assert "Examples:" in helped.stdout
    assert "3-1-1-service-requests: load " in loaded.stdout
    assert "local-area-boundary: load " in loaded.stdout
    assert "rows        2,000 (0 flagged)" in status.stdout
    assert "rows        22 (0 flagged)" in status.stdout
    assert len(history.stdout.splitlines()) == 3  # the header and two loads


def test_the_fake_portal_without_its_extra_says_how_to_install_it():
    done = _run("fake-portal", "--rows", "10")

    assert done.returncode == 2
    message, imported = done.stderr.strip().splitlines()
    assert message == (
        "fake portal not started: the fake portal needs the fake-portal extra (numpy, pyarrow): "
        "install 'mmds-ingest[fake-portal]', e.g. `uv sync --extra fake-portal` or "
        "`pip install 'mmds-ingest[fake-portal]'`"
    )
    assert imported == "imported: []"


@pytest.mark.parametrize("name", ["numpy", "pyarrow"])
def test_only_the_extra_declares_numpy_and_pyarrow(name):
    project = tomllib.loads(
        (Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    )["project"]

    assert not [d for d in project["dependencies"] if d.startswith(name)]
    assert [d for d in project["optional-dependencies"]["fake-portal"] if d.startswith(name)]

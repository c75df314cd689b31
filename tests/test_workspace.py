"""The workspace installs, lints, builds and releases each member on its own."""

import importlib.util
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MEMBERS = ["ingest", "transform", "orchestrator", "dashboard"]


def _load_release_member():
    spec = importlib.util.spec_from_file_location(
        "release_member", ROOT / ".github" / "scripts" / "release_member.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


release_member = _load_release_member()


def test_root_is_a_project_without_build_system_depending_on_every_member():
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "build-system" not in root
    assert root["tool"]["uv"]["workspace"]["members"] == ["packages/*"]
    # the root installs mmds-ingest with its fake-portal extra (`mmds run --sample`, the tests)
    names = sorted(dependency.split("[")[0] for dependency in root["project"]["dependencies"])
    assert names == sorted(f"mmds-{m}" for m in MEMBERS)
    assert all(root["tool"]["uv"]["sources"][f"mmds-{m}"] == {"workspace": True} for m in MEMBERS)
    # the workspace's sources are declared once, at the root (issue 14)
    for member in MEMBERS:
        project = tomllib.loads((ROOT / "packages" / member / "pyproject.toml").read_text())
        assert "sources" not in project.get("tool", {}).get("uv", {}), member
    assert (ROOT / ".python-version").read_text().strip() == "3.11"


@pytest.mark.parametrize("member", MEMBERS)
def test_each_member_is_versioned_documented_and_tested_on_its_own(member):
    package = ROOT / "packages" / member
    project = tomllib.loads((package / "pyproject.toml").read_text())["project"]
    assert project["name"] == f"mmds-{member}"
    assert (package / "src" / f"mmds_{member}" / "__init__.py").is_file()
    changelog = (package / "CHANGELOG.md").read_text()
    assert f"## [{project['version']}]" in changelog, "the current version has a changelog entry"
    assert (package / "README.md").is_file()
    assert any((package / "tests").glob("test_*.py"))


def test_lockfile_matches_every_pyproject():
    result = subprocess.run(
        ["uv", "lock", "--check"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_workflows_match_the_github_schema():
    workflows = sorted(str(p) for p in (ROOT / ".github" / "workflows").glob("*.yml"))
    assert len(workflows) == 2
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            *workflows,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_release_tag_must_match_the_member_version():
    version = tomllib.loads((ROOT / "packages/ingest/pyproject.toml").read_text())["project"][
        "version"
    ]
    outputs = release_member.check(f"ingest/v{version}")
    assert outputs["distribution"] == "mmds-ingest"
    assert Path(outputs["notes_file"]).read_text().strip()
    with pytest.raises(ValueError, match="bump the version"):
        release_member.check("ingest/v99.0.0")
    with pytest.raises(ValueError, match="members are"):
        release_member.check("warehouse/v0.1.0")
    with pytest.raises(ValueError, match="not of the form"):
        release_member.check("v0.1.0")


def test_release_notes_are_the_section_of_that_version():
    changelog = (
        "# Changelog\n\n## [Unreleased]\n\n## [0.2.0] - d\n\n- new\n\n## [0.1.0] - d\n\n- old\n"
    )
    assert release_member.release_notes(changelog, "0.2.0") == "- new\n"
    assert release_member.release_notes(changelog, "0.1.0") == "- old\n"
    with pytest.raises(ValueError, match=r"\[0\.3\.0\]"):
        release_member.release_notes(changelog, "0.3.0")


@pytest.mark.parametrize("member", MEMBERS)
def test_each_member_builds_a_wheel_and_sdist(member, tmp_path):
    result = subprocess.run(
        ["uv", "build", "--package", f"mmds-{member}", "--out-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    wheels = list(tmp_path.glob(f"mmds_{member}-*.whl"))
    assert len(wheels) == 1
    assert len(list(tmp_path.glob(f"mmds_{member}-*.tar.gz"))) == 1
    names = zipfile.ZipFile(wheels[0]).namelist()
    assert f"mmds_{member}/__init__.py" in names
    if member == "transform":
        assert "mmds_transform/dbt_project/dbt_project.yml" in names
        assert not any("/target/" in name for name in names), "dbt artefacts stay out of wheels"

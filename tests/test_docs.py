"""The architecture page shows what the code defines."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_diagrams():
    spec = importlib.util.spec_from_file_location("diagrams", ROOT / "docs" / "diagrams.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


diagrams = _load_diagrams()


@pytest.mark.slow  # loads the Dagster definitions and parses the dbt project
def test_architecture_page_diagrams_match_the_definitions_and_the_dbt_manifest(tmp_path):
    repository, manifest = diagrams.load_code(tmp_path)
    page = diagrams.PAGE.read_text()
    assert diagrams.render_page(page, repository, manifest) == page, (
        "docs/architecture.md is stale: run `uv run python docs/diagrams.py`"
    )
    assert "gold/fct_service_requests" in page and "stg_portal__service_requests" in page
    assert diagrams.SCREENSHOT.stat().st_size > 10_000


def test_every_package_readme_covers_what_it_does_its_interface_settings_and_tests():
    for readme in sorted((ROOT / "packages").glob("*/README.md")):
        lines = readme.read_text().splitlines()
        headings = [line.lower() for line in lines if line.startswith("#")]
        for topic in ("test", "setting"):
            assert any(topic in heading for heading in headings), f"{readme}: no '{topic}' section"

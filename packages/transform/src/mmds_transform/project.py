"""Where the dbt project lives inside the installed package."""

from pathlib import Path

_PROJECT_DIR = Path(__file__).resolve().parent / "dbt_project"


def project_dir() -> Path:
    """Return the directory holding ``dbt_project.yml`` (package data of mmds-transform)."""
    return _PROJECT_DIR


def profiles_dir() -> Path:
    """Return the directory holding the committed ``profiles.yml`` (the project directory)."""
    return _PROJECT_DIR


# The dbt selector (selectors.yml) of the pipeline's routine build: everything but the unit
# tests and the full-rebuild proofs, which pytest and the CI seeded build still run.
ROUTINE_SELECTOR = "routine_build"

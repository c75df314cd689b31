"""The single entry point of mmds' Dagster definitions (`dg check defs`, `dg dev`, `mmds run`).

Every stage lives in its own folder under `defs/` and brings its own assets and resources;
Dagster loads them all from there. Settings are read when the definitions load, never at import.
"""

from pathlib import Path

from dagster import Definitions, definitions, load_from_defs_folder


@definitions
def defs() -> Definitions:
    """Everything under `defs/`: portal, bronze, dbt's silver and gold, serving file, dashboard."""
    return load_from_defs_folder(path_within_project=Path(__file__).parent)

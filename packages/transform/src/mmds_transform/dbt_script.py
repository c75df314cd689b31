"""`mmds-dbt`: dbt's own command line, answering `--version` without asking pypi.org.

dagster-dbt runs `<dbt executable> --version` before every dbt command to learn dbt's major
version. dbt answers that option by also fetching its newest release from pypi.org (one request
with a 1 s timeout, on every call; neither `--no-version-check` nor `DBT_VERSION_CHECK=false`
turns it off in dbt-core 1.12). mmds promises that nothing phones home, so every caller runs dbt
as this script (`mmds_transform.dbt_executable()`): `--version` alone prints the installed
dbt-core's version from package metadata, and every other command runs dbt's console entry
point, exactly as the `dbt` script does.
"""

import sys
from importlib.metadata import version

VERSION_ONLY = ["--version"]


def main() -> None:
    """Run dbt with this process's arguments (the `mmds-dbt` script)."""
    if sys.argv[1:] == VERSION_ONLY:
        print(f"Core:\n  - installed: {version('dbt-core')}")
        return
    from dbt.cli.main import cli

    sys.exit(cli())

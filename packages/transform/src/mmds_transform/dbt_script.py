"""`mmds-dbt`: dbt's own command line, answering `--version` without asking pypi.org.

dagster-dbt runs `<dbt executable> --version` before every dbt command to learn dbt's major
version. dbt answers that option by also fetching its newest release from pypi.org (one request
with a 1 s timeout, on every call; neither `--no-version-check` nor `DBT_VERSION_CHECK=false`
turns it off in dbt-core 1.12). mmds promises that nothing phones home, so every caller runs dbt
as this script (`mmds_transform.dbt_executable()`): `--version` alone prints the installed
dbt-core's version from package metadata, and every other command runs dbt's console entry
point, exactly as the `dbt` script does.

With `MMDS_WAREHOUSE_URL` in its environment (a `postgresql://` URL), dbt runs against that
server: the script starts dbt again with `warehouse_env(url)` added to its environment (the
profile's postgres target reads it), so any caller that runs dbt as `mmds-dbt` (dagster-dbt's
`DbtCliResource` among them) needs nothing but that one setting.
"""

import os
import sys
from importlib.metadata import version

from mmds_transform.dbt_cli import warehouse_env

WAREHOUSE_URL = "MMDS_WAREHOUSE_URL"

VERSION_ONLY = ["--version"]


def main() -> None:
    """Run dbt with this process's arguments (the `mmds-dbt` script)."""
    if sys.argv[1:] == VERSION_ONLY:
        print(f"Core:\n  - installed: {version('dbt-core')}")
        return
    url = os.environ.get(WAREHOUSE_URL, "").strip() or None
    wanted = warehouse_env(url) if url else {}
    if any(os.environ.get(name) != value for name, value in wanted.items()):
        # exec keeps the process id (dagster-dbt signals it) and costs no second start-up:
        # dbt is not imported yet.
        script = [sys.executable, "-m", "mmds_transform.dbt_script", *sys.argv[1:]]
        os.execve(sys.executable, script, {**os.environ, **wanted})  # noqa: S606 -- ourselves
    from dbt.cli.main import cli

    sys.exit(cli())


if __name__ == "__main__":
    main()

"""The dbt CLI resource, without the in-process dbt adapter mmds never uses."""

from collections.abc import Sequence
from functools import cached_property
from importlib.metadata import version as installed_version

from dagster_dbt import DbtCliResource
from packaging import version


class DbtCli(DbtCliResource):
    """`DbtCliResource` that skips building a dbt adapter inside the Dagster process.

    dagster-dbt imports dbt and opens an adapter before every command, only to fetch relation
    metadata (row counts, column schemas) on request. mmds never requests it, and the import
    costs 10-15 s per run on a small machine; dbt itself still runs as a subprocess as usual.
    """

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None

    @cached_property
    def _cli_version(self) -> version.Version:
        """The installed dbt-core's version, read from package metadata.

        dagster-dbt runs `dbt --version` to learn it, and that command asks pypi.org for the
        newest release: a phone-home (and a stall offline) on every run. The executable is the
        venv's own dbt, so the package metadata gives the same answer without a network call.
        """
        return version.parse(installed_version("dbt-core"))

"""The dbt CLI resource, without the in-process dbt adapter mmds never uses."""

from collections.abc import Sequence

from dagster_dbt import DbtCliResource


class DbtCli(DbtCliResource):
    """`DbtCliResource` that skips building a dbt adapter inside the Dagster process.

    dagster-dbt imports dbt and opens an adapter before every command, only to fetch relation
    metadata (row counts, column schemas) on request. mmds never requests it, and the import
    costs 10-15 s per run on a small machine; dbt itself still runs as a subprocess as usual.
    """

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None

"""The ingest library as a Dagster resource: portal location, API key and data dir."""

import os

import duckdb
from dagster import ConfigurableResource, Definitions, EnvVar, definitions
from mmds_ingest import IngestSettings, LoadResult, run_load
from mmds_ingest.client import PortalClient
from mmds_ingest.settings import DEFAULT_PORTAL_URL
from pydantic import Field

from mmds_orchestrator.settings import PipelineSettings


class PortalIngestResource(ConfigurableResource):
    """Loads the portal into bronze through `mmds_ingest.run_load` and counts both sides.

    Every other ingest setting (timeouts, retries, lookback) comes from `MMDS_*` variables, read
    by `mmds_ingest.settings.IngestSettings` when a step runs.
    """

    portal_url: str = Field(description="The portal's site root.")
    data_dir: str = Field(description="Absolute directory holding warehouse.duckdb.")
    portal_api_key: str | None = Field(default=None, description="Opendatasoft API key (secret).")

    def ingest_settings(self) -> IngestSettings:
        """The ingest library's settings with this resource's values on top of the environment."""
        return IngestSettings(
            portal_url=self.portal_url,
            data_dir=self.data_dir,
            portal_api_key=self.portal_api_key,
        )

    def load(self, full_refresh: bool) -> LoadResult:
        """Run one load (one transaction) and return the library's `LoadResult`."""
        return run_load(self.ingest_settings(), full_refresh=full_refresh)

    def portal_total_count(self) -> int:
        """How many records the portal holds right now (`total_count`)."""
        with PortalClient(self.ingest_settings()) as client:
            return client.count()

    def bronze_state(self) -> tuple[int, str | None]:
        """Rows in `bronze.service_requests` and the mode of the newest committed load."""
        warehouse = self.ingest_settings().warehouse_path
        with duckdb.connect(str(warehouse), read_only=True) as connection:
            rows = connection.execute("select count(*) from bronze.service_requests").fetchone()
            mode = connection.execute(
                "select mode from bronze._loads where status <> 'skipped' "
                "order by finished_at desc limit 1"
            ).fetchone()
        return (rows[0] if rows else 0), (mode[0] if mode else None)


def portal_resource(settings: PipelineSettings) -> PortalIngestResource:
    """The resource for `settings`' data dir: `MMDS_PORTAL_URL` and `MMDS_PORTAL_API_KEY` as
    `EnvVar`s (resolved when a run starts, never shown), else the City's portal without a key."""
    return PortalIngestResource(
        portal_url=_from_environment("MMDS_PORTAL_URL", DEFAULT_PORTAL_URL),
        data_dir=str(settings.data_dir),
        portal_api_key=_from_environment("MMDS_PORTAL_API_KEY", None),
    )


def _from_environment(name: str, default: str | None) -> EnvVar | str | None:
    return EnvVar(name) if name in os.environ else default


@definitions
def ingest_resources() -> Definitions:
    """The `portal` resource for the current settings."""
    return Definitions(resources={"portal": portal_resource(PipelineSettings())})

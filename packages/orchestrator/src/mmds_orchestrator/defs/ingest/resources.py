"""The ingest library as a Dagster resource: portal location, API key and data dir."""

import os

from dagster import ConfigurableResource, Definitions, EnvVar, definitions
from mmds_ingest import IngestSettings, LoadResult, run_load
from mmds_ingest.settings import DEFAULT_PORTAL_URL
from pydantic import Field

from mmds_orchestrator.settings import PipelineSettings


class PortalIngestResource(ConfigurableResource):
    """Loads the portal into bronze through `mmds_ingest.run_load`.

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

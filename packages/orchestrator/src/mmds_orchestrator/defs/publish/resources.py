"""Where the pipeline's files live, for the assets that read or publish them."""

from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field

from mmds_orchestrator.settings import PipelineSettings


class DataFiles(ConfigurableResource):
    """The warehouse and the serving file, as the settings resolve them."""

    warehouse_path: str = Field(description="bronze, silver and gold (one writer).")
    serving_path: str = Field(description="The published copy of gold the dashboard reads.")

    @classmethod
    def of(cls, settings: PipelineSettings) -> "DataFiles":
        """The files of `settings`' data dir."""
        return cls(
            warehouse_path=str(settings.warehouse_path), serving_path=str(settings.serving_path)
        )

    @property
    def warehouse(self) -> Path:
        """bronze, silver and gold (one writer)."""
        return Path(self.warehouse_path)

    @property
    def serving(self) -> Path:
        """The published copy of gold the dashboard reads."""
        return Path(self.serving_path)

"""Where the pipeline's files live, for the assets that read or publish them."""

from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field

from mmds_orchestrator.settings import SERVING_FILE, WAREHOUSE_FILE


class DataFiles(ConfigurableResource):
    """The warehouse and the serving file under `MMDS_DATA_DIR`."""

    data_dir: str = Field(description="Absolute directory holding the DuckDB files.")

    @property
    def warehouse(self) -> Path:
        """bronze, silver and gold (one writer)."""
        return Path(self.data_dir) / WAREHOUSE_FILE

    @property
    def serving(self) -> Path:
        """The published copy of gold the dashboard reads."""
        return Path(self.data_dir) / SERVING_FILE

"""Settings of the orchestration, read from `MMDS_*` environment variables when constructed."""

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

WAREHOUSE_FILE = "warehouse.duckdb"
SERVING_FILE = "serving.duckdb"
DAGSTER_HOME_DIR = "dagster_home"
DBT_ARTIFACTS_DIR = "dbt"


class PipelineSettings(BaseSettings):
    """Where the data lives, when the schedules fire and how big the offline sample is.

    Environment variables carry the `MMDS_` prefix (`MMDS_DATA_DIR`, `MMDS_SAMPLE_ROWS`, ...);
    nothing is read until an instance is created, so tests set variables before building one.
    """

    model_config = SettingsConfigDict(env_prefix="MMDS_", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Holds the DuckDB files and Dagster's home.")
    dbt_project_dir: Path | None = Field(
        None, description="Use another copy of the dbt project (development, tests)."
    )
    incremental_cron: str = Field("0 * * * *", description="Hourly incremental refresh (UTC).")
    full_refresh_cron: str = Field("0 4 * * 0", description="Weekly full refresh (UTC).")
    schedules_enabled: bool = Field(
        False, description="Start both schedules as running when the Dagster daemon is up."
    )
    sample_rows: int = Field(100_000, gt=0, description="Rows the `--sample` fake portal serves.")
    sample_seed: int = Field(311, description="Seed of the `--sample` generator (reproducible).")

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def warehouse_path(self) -> Path:
        """The DuckDB file holding bronze, silver and gold (one writer)."""
        return self.data_dir / WAREHOUSE_FILE

    @property
    def serving_path(self) -> Path:
        """The published, read-only copy of gold the dashboard reads."""
        return self.data_dir / SERVING_FILE

    @property
    def dagster_home(self) -> Path:
        """Dagster's persistent instance: run history, event logs, schedules' state."""
        return self.data_dir / DAGSTER_HOME_DIR

    @property
    def dbt_artifacts_dir(self) -> Path:
        """dbt's manifest and the artefacts of its latest command (run results, logs)."""
        return self.data_dir / DBT_ARTIFACTS_DIR

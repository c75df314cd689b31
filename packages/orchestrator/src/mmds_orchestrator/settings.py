"""Settings of the orchestration: mmds-ingest's own settings, composed with the orchestrator's.

mmds-ingest owns where the data lives (`MMDS_DATA_DIR`) and the warehouse in it; the
orchestrator adds the files it owns there (serving file, Dagster's home, dbt's artefacts, run
logs) and its own variables. Nothing is read until `PipelineSettings.from_environment()`.
"""

from dataclasses import dataclass
from pathlib import Path

from mmds_ingest import IngestError, IngestSettings
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "MMDS_"
SERVING_FILE = "serving.duckdb"
DAGSTER_HOME_DIR = "dagster_home"
DBT_ARTIFACTS_DIR = "dbt"
LOGS_DIR = "logs"
CRON_FIELDS = 5
POSTGRES_STORAGE_SCHEME = "postgresql+psycopg2://"
# Settings whose value is never repeated in a message.
SECRET_SETTINGS = {"portal_api_key", "warehouse_url", "dagster_storage_url"}


class SettingsError(ValueError):
    """A setting is invalid; the message is one line naming its variable."""


class OrchestratorSettings(BaseSettings):
    """The orchestrator's own `MMDS_*` variables: the schedules and the dbt project to run."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    dbt_project_dir: Path | None = Field(
        None, description="Use another copy of the dbt project (development, tests)."
    )
    incremental_cron: str = Field("0 * * * *", description="Hourly incremental refresh (UTC).")
    full_refresh_cron: str = Field("0 4 * * 0", description="Weekly full refresh (UTC).")
    dagster_storage_url: SecretStr | None = Field(
        None,
        description="postgresql+psycopg2://user:password@host:port/database: Dagster's runs, "
        "events and schedules there (dagster-postgres) instead of SQLite files in its home.",
    )
    schedules_enabled: bool = Field(
        False, description="Start both schedules as running when the Dagster daemon is up."
    )

    @field_validator("dagster_storage_url", mode="before")
    @classmethod
    def _postgres_url(cls, value: object) -> object:
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if text is None or not str(text).strip():
            return None
        # Dagster hands the URL to SQLAlchemy, whose default PostgreSQL driver (psycopg 3)
        # rejects the NOTIFY dagster-postgres sends: the driver is named in the URL.
        if not str(text).strip().startswith(POSTGRES_STORAGE_SCHEME):
            raise ValueError(
                f"expected {POSTGRES_STORAGE_SCHEME}user:password@host:port/database, or unset"
            )
        return str(text).strip()

    @property
    def storage_url(self) -> str | None:
        """Dagster's PostgreSQL storage URL (secret: never show it), or None for SQLite."""
        return self.dagster_storage_url.get_secret_value() if self.dagster_storage_url else None

    @field_validator("incremental_cron", "full_refresh_cron")
    @classmethod
    def _five_fields(cls, value: str) -> str:
        if len(value.split()) != CRON_FIELDS:
            raise ValueError("a cron expression has 5 fields: minute hour day month weekday")
        return value


@dataclass(frozen=True)
class PipelineSettings:
    """Everything a run needs to know: mmds-ingest's settings and the orchestrator's."""

    ingest: IngestSettings
    orchestrator: OrchestratorSettings

    @classmethod
    def from_environment(cls, **ingest_values: object) -> "PipelineSettings":
        """Read and validate every `MMDS_*` setting (`ingest_values` win over the environment).

        Raises `SettingsError`, one line naming the variable, on the first invalid one.
        """
        try:
            return cls(IngestSettings(**ingest_values), OrchestratorSettings())
        except ValidationError as invalid:
            raise SettingsError(describe_invalid(invalid)) from None
        except IngestError as invalid:  # mmds-ingest's own one-line message
            raise SettingsError(str(invalid)) from None

    @property
    def data_dir(self) -> Path:
        """The absolute folder holding every file of the pipeline (mmds-ingest resolves it)."""
        return self.ingest.data_dir

    @property
    def warehouse_path(self) -> Path:
        """The DuckDB file holding bronze, silver and gold (one writer; mmds-ingest's)."""
        return self.ingest.warehouse_path

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

    @property
    def log_dir(self) -> Path:
        """One log file per `mmds run`, named by its start time."""
        return self.data_dir / LOGS_DIR


def describe_invalid(invalid: ValidationError) -> str:
    """The first problem of a settings model's validation, as one line naming the variable."""
    problem = invalid.errors()[0]
    field = str(problem["loc"][0]) if problem["loc"] else ""
    variable = f"{ENV_PREFIX}{field.upper()}"
    message = problem["msg"].removeprefix("Value error, ")
    if variable in message:
        return message
    if field in SECRET_SETTINGS:
        return f"{variable}: {message}"
    return f"{variable}={problem.get('input')!r}: {message}"

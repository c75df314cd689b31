"""Settings of the ingestion, read from `MMDS_*` environment variables when constructed."""

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mmds_ingest.datasets import DEFAULT_PORTAL_URL
from mmds_ingest.errors import SettingsError

DEFAULT_DATA_DIR = Path("data")
WAREHOUSE_FILE = "warehouse.duckdb"
TMP_DIR = "tmp"
POSTGRES_SCHEMES = ("postgresql", "postgres")


class IngestSettings(BaseSettings):
    """Where to read from, where to write to, and how patient to be.

    Environment variables carry the `MMDS_` prefix (`MMDS_DATA_DIR`, `MMDS_PORTAL_URL`, ...);
    nothing is read until an instance is created, and an instance is valid: a value that cannot
    be used raises `SettingsError` naming its variable.
    """

    model_config = SettingsConfigDict(env_prefix="MMDS_", extra="ignore")

    data_dir: Path = Field(DEFAULT_DATA_DIR, description="Holds warehouse.duckdb; made absolute.")
    warehouse_url: SecretStr | None = Field(
        None,
        description="Unset: the DuckDB file in the data dir; `postgresql://user:password@host:"
        "port/database` a PostgreSQL server. Secret: it may hold a password.",
    )
    portal_url: str = Field(DEFAULT_PORTAL_URL, description="The portal's site root.")
    portal_api_key: SecretStr | None = Field(None, description="Optional Opendatasoft API key.")
    lookback_days: float = Field(3.0, ge=0, description="Incremental loads re-read this window.")
    clock_skew_minutes: float = Field(
        60.0,
        ge=0,
        description="Allowance added to the portal's clock: records stamped later are flagged "
        "as in the future, and the cursor never moves past it.",
    )
    connect_timeout_seconds: float = Field(10.0, gt=0)
    read_timeout_seconds: float = Field(60.0, gt=0)
    retry_attempts: int = Field(6, ge=1, description="Attempts per request, the first included.")
    retry_budget_seconds: float = Field(
        120.0,
        gt=0,
        description="Time one load may spend on failed attempts and the waits between them, "
        "all its requests together.",
    )
    retry_initial_wait_seconds: float = Field(1.0, ge=0)
    retry_max_wait_seconds: float = Field(60.0, ge=0)
    lock_wait_seconds: float = Field(
        0.0, ge=0, description="How long a load waits for another writer; 0 refuses at once."
    )
    duckdb_memory_limit: str = Field("512MB", description="DuckDB memory_limit while loading.")
    export_part_bytes: int = Field(
        128 << 20,  # 2 DuckDB threads then fill whole row groups; smaller parts cost 10% more CPU
        gt=0,
        description="A first load inserts the export in parts of this size while the rest "
        "downloads.",
    )

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as invalid:
            raise SettingsError(_describe(invalid)) from None

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("portal_url")
    @classmethod
    def _site_root(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        try:
            host = httpx.URL(value).host
        except httpx.InvalidURL:
            host = ""
        if not value.startswith(("http://", "https://")) or not host:
            raise ValueError(f"not a web address like {DEFAULT_PORTAL_URL}")
        return value

    @field_validator("warehouse_url", mode="before")
    @classmethod
    def _server_url(cls, value: object) -> object:
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if text is None or not str(text).strip():
            return None  # unset (or empty): the DuckDB file
        parts = urlsplit(str(text).strip())
        if parts.scheme not in POSTGRES_SCHEMES:
            raise ValueError(
                "expected postgresql://user:password@host:port/database, or unset for the "
                "DuckDB file in the data dir"
            )
        if not parts.hostname or not parts.username or not parts.path.strip("/"):
            raise ValueError("a postgresql:// URL must name a host, a user and a database")
        return str(text).strip()

    @property
    def postgres_url(self) -> str | None:
        """The PostgreSQL warehouse's URL (secret: never show it), or None for DuckDB."""
        return self.warehouse_url.get_secret_value() if self.warehouse_url else None

    @property
    def warehouse_name(self) -> str:
        """The warehouse as it may be shown: the DuckDB file, or the server without its
        credentials (`postgresql://host:port/database`)."""
        if self.warehouse_url is None:
            return str(self.warehouse_path)
        assert self.postgres_url is not None  # a warehouse URL is a PostgreSQL one
        parts = urlsplit(self.postgres_url)
        return parts._replace(netloc=parts.netloc.rpartition("@")[2], query="").geturl()

    @property
    def tmp_dir(self) -> Path:
        """A load's scratch folder (its downloads, DuckDB's spills), emptied after each load."""
        return self.data_dir / TMP_DIR

    @property
    def warehouse_path(self) -> Path:
        """The DuckDB file holding bronze, silver and gold."""
        return self.data_dir / WAREHOUSE_FILE


SECRET_SETTINGS = frozenset({"portal_api_key", "warehouse_url"})


def _describe(invalid: ValidationError) -> str:
    """One line naming each invalid variable, its value (never a secret's) and the problem."""
    problems = []
    for error in invalid.errors():
        name = str(error["loc"][0]) if error["loc"] else "settings"
        variable = f"MMDS_{name.upper()}"
        value = "" if name in SECRET_SETTINGS else f"={error.get('input')!r}"
        reason = error["msg"].removeprefix("Value error, ")
        problems.append(f"{variable}{value} is invalid ({reason})")
    return "; ".join(problems)

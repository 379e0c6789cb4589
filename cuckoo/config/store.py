"""[store] section of cuckoo.toml: where notifications, attempts and the outbox live."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from cuckoo.config.secrets import env_checked, file_checked, resolve_secret


class StoreSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # SQLAlchemy URL. Empty: SQLite file `<var_dir>/cuckoo.sqlite`. For several workers use
    # PostgreSQL, e.g. "postgresql+psycopg://cuckoo@db.local/cuckoo".
    url: str = Field(default="", repr=False)
    url_env: str | None = None  # or: the environment variable holding the URL
    url_file: str | None = None  # or: a file holding it (relative to cuckoo.toml's folder)
    # SQLite only: how long a writer waits for another process's lock before giving up.
    busy_timeout_ms: int = Field(default=10_000, ge=0)
    # Country assumed for phone numbers written without "+" (ISO 3166 alpha-2).
    default_region: str = "RU"
    # Log every SQL statement (debugging only).
    echo: bool = False
    # Personal data no longer than needed (152-ФЗ): notifications final for more than this many
    # days lose their phone, variables, transcripts and recordings (cuckoo.store.retention);
    # counts by status and day stay. 0 = keep everything (then purge by hand: db purge).
    retention_days: int = Field(default=0, ge=0, le=36_500)

    @field_validator("url_env")
    @classmethod
    def _url_env(cls, v: str | None) -> str | None:
        return env_checked(v)

    @field_validator("url_file")
    @classmethod
    def _url_file(cls, v: str | None, info: ValidationInfo) -> str | None:
        return file_checked(v, info)

    @model_validator(mode="after")
    def _url_secret(self, info: ValidationInfo) -> Self:
        resolve_secret(self, "url", info)
        return self

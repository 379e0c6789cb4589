"""[store] section of cuckoo.toml: where notifications, attempts and the outbox live."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class StoreSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # SQLAlchemy URL. Empty: SQLite file `<var_dir>/cuckoo.sqlite`. For several workers use
    # PostgreSQL, e.g. "postgresql+psycopg://cuckoo@db.local/cuckoo".
    url: str = ""
    # SQLite only: how long a writer waits for another process's lock before giving up.
    busy_timeout_ms: int = Field(default=10_000, ge=0)
    # Country assumed for phone numbers written without "+" (ISO 3166 alpha-2).
    default_region: str = "RU"
    # Log every SQL statement (debugging only).
    echo: bool = False

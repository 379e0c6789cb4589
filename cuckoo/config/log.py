"""[log] section of cuckoo.toml: how cuckoo logs (the set-up is cuckoo.logs / cuckoo.cli.logs)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

LevelName = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


class LogSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # "text": one human line per record; "json": one JSON object per line (ts, level, logger,
    # message, and notification / tenant / attempt for a line about a notification). Applies
    # to stderr (always written) and to the file.
    format: Literal["text", "json"] = "text"
    level: LevelName = "INFO"  # `cuckoo -v` lowers it to DEBUG
    # Also write the log to this file (relative to var_dir; created 0600). Rotation is left to
    # logrotate: the call worker processes append to the same file, and size-based rotation
    # done by each process on its own would race; the file is reopened when logrotate moves it.
    file: str = ""

    @field_validator("level", mode="before")
    @classmethod
    def _any_case(cls, v: object) -> object:
        return v.upper() if isinstance(v, str) else v

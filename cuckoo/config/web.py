"""[web] section of cuckoo.toml: the web console and the HTTP API (cuckoo.web)."""

from __future__ import annotations

import ipaddress
from typing import Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from cuckoo.config.secrets import env_checked, file_checked, resolve_secret


def split_listen(listen: str) -> tuple[str, int]:
    """ "HOST:PORT" (an IPv6 host in brackets) → (host, port). Raises ValueError."""
    host, sep, port = listen.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{listen!r} is not HOST:PORT (e.g. 127.0.0.1:8080)")
    return host.strip("[]"), int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class WebSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Where `cuckoo web` listens, and `cuckoo run` too when set ("" = not in `run`).
    listen: str = ""
    # Listening on an address other than loopback needs this: put it behind a TLS proxy
    # (README, "Web console"); cookies are then sent over HTTPS only (secure_cookies).
    public: bool = False
    # Send the session cookie with Secure (HTTPS only). Default: when public.
    secure_cookies: bool | None = None
    language: Literal["ru", "en"] = "ru"
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    # Failed logins allowed per user name and per address in `login_window_s`.
    login_attempts: int = Field(default=5, ge=1)
    login_window_s: float = Field(default=300.0, gt=0)
    # Zone in which the console shows times and counts days ("" = [policy] default_timezone).
    timezone: str = ""
    # /metrics: open to loopback only, or to this Bearer token from anywhere ("" = none).
    metrics_token: str = Field(default="", repr=False)
    metrics_token_env: str | None = None
    metrics_token_file: str | None = None

    @field_validator("listen")
    @classmethod
    def _listen(cls, v: str) -> str:
        if v:
            split_listen(v)
        return v

    @field_validator("metrics_token_env")
    @classmethod
    def _token_env(cls, v: str | None) -> str | None:
        return env_checked(v)

    @field_validator("metrics_token_file")
    @classmethod
    def _token_file(cls, v: str | None, info: ValidationInfo) -> str | None:
        return file_checked(v, info)

    @model_validator(mode="after")
    def _token_secret(self, info: ValidationInfo) -> Self:
        resolve_secret(self, "metrics_token", info)
        return self

    @property
    def cookies_secure(self) -> bool:
        return self.public if self.secure_cookies is None else self.secure_cookies

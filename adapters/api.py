"""`type = "api"`: notifications come through cuckoo's HTTP API; results go to a webhook.

The web server writes API requests straight to the store, so `fetch_pending()` has nothing to
fetch. `report()` POSTs each result to `webhook_url` when it is set; when it is not, results
are only read through the API (GET) and `report()` acknowledges them at once.

The POST body is UTF-8 JSON:

    {"event": "result", "source": "shop", "external_id": "A-17",
     "status": "confirmed", "status_text": "подтверждено",
     "outcome": "confirmed", "outcome_text": "подтвердил",
     "attempts": 1, "contacts": 1, "last_attempt_at": "2026-11-21T07:00:00+00:00",
     "dtmf": "1", "transcript": "", "callback_at": null,
     "detail": "подтверждено", "sent_at": "2026-11-21T07:00:05+00:00"}

`status` and `outcome` are the English codes; `*_text` and `detail` are worded per `results`
("ru" by default, "en": the codes and the English detail). Times are ISO 8601 in UTC.

Signature: `X-Cuckoo-Timestamp: <unix seconds>` and `X-Cuckoo-Signature: sha256=<hex>`, the
HMAC-SHA256 with `webhook_secret` as key over `f"{timestamp}.".encode() + body` (the raw body
bytes as received). A receiver checks it, and the age, before trusting the body:

    import hashlib, hmac, time
    def verified(secret: str, ts: str, signature: str, body: bytes) -> bool:
        mac = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
        fresh = ts.isdigit() and abs(time.time() - int(ts)) <= 300
        return fresh and hmac.compare_digest(signature, "sha256=" + mac)

(`verify` below is the same, for receivers written in Python with cuckoo at hand.)

Delivery: any 2xx acknowledges. The outbox repeats a result until then, so a receiver may see
one twice: dedup by (source, external_id, status, attempts). Connection errors, timeouts, 5xx,
408, 429 → ErpUnavailable (retried with back-off); other 4xx → InputError (the receiver
rejects the body; retried too, later); 3xx → ConfigError (point webhook_url at the final URL).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import Field, ValidationInfo, field_validator, model_validator

from adapters.base import CommonOptions
from cuckoo.config.secrets import env_checked, file_checked, resolve_secret
from cuckoo.domain import IncomingNotification, ResultReport
from cuckoo.errors import ConfigError, CuckooError, ErpUnavailable, InputError

__all__ = ["ApiAdapter", "ApiOptions", "sign", "verify"]

TIMESTAMP_HEADER = "X-Cuckoo-Timestamp"
SIGNATURE_HEADER = "X-Cuckoo-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Cuckoo-Signature value for `body` sent at `timestamp` (unix seconds)."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str,
    timestamp_header: str,
    signature_header: str,
    body: bytes,
    now: float,
    tolerance_s: float = 300,
) -> bool:
    """True when the signature is ours for this body and the timestamp is within
    `tolerance_s` of `now` (unix seconds) — an old request replayed does not pass."""
    try:
        timestamp = int(timestamp_header)
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature_header.strip())


class ApiOptions(CommonOptions):
    # Where results are POSTed; "": nowhere, the API's GET is the only way to read them.
    webhook_url: str = ""
    webhook_secret_env: str | None = None  # or: the environment variable holding the secret
    webhook_secret_file: str | None = None  # or: a file holding it (relative to cuckoo.toml)
    # After the fields above on purpose: its validator sees them in `info.data`, so a missing
    # secret is an error on this key (a model validator's would name no key).
    webhook_secret: str = Field(default="", repr=False, validate_default=True)
    webhook_timeout_s: float = Field(default=10.0, gt=0)
    # Also post every attempt's interim result (busy, no answer, an agreed callback time):
    # the worker's store then queues each finished attempt of this adapter's notifications
    # (cuckoo.worker.store.every_attempt_sources); off: only final results are posted.
    webhook_attempts: bool = False

    @field_validator("webhook_url")
    @classmethod
    def _url(cls, v: str) -> str:
        v = v.strip()
        if not v:
            return v
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        try:
            parts.port  # noqa: B018 -- urlsplit checks the port only when asked
        except ValueError as e:
            raise ValueError(f"bad port: {e}") from e
        return v

    @field_validator("webhook_secret_env")
    @classmethod
    def _secret_env(cls, v: str | None) -> str | None:
        return env_checked(v)

    @field_validator("webhook_secret_file")
    @classmethod
    def _secret_file(cls, v: str | None, info: ValidationInfo) -> str | None:
        return file_checked(v, info)

    @field_validator("webhook_secret")
    @classmethod
    def _secret_needed(cls, v: str, info: ValidationInfo) -> str:
        forms = ("webhook_secret_env", "webhook_secret_file")
        if any(k not in info.data for k in forms):
            return v  # a bad _env / _file is its own error already
        given = v or any(info.data[k] for k in forms)
        if info.data.get("webhook_url") and not given:
            raise ValueError(
                "required when webhook_url is set (or webhook_secret_env / webhook_secret_file):"
                " receivers check every post's signature with it"
            )
        return v

    @model_validator(mode="after")
    def _secret(self, info: ValidationInfo) -> ApiOptions:
        resolve_secret(self, "webhook_secret", info)
        return self


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(UTC).isoformat()


def _shown(url: str) -> str:
    """The URL for messages: no user:password, no query (either may carry a token)."""
    p = urlsplit(url)
    port = f":{p.port}" if p.port else ""
    return f"{p.scheme}://{p.hostname}{port}{p.path}"


class ApiAdapter:
    Options = ApiOptions

    def __init__(
        self,
        name: str,
        options: ApiOptions,
        base_dir: Path,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.options = options
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self._wording = options.wording()
        self._url = _shown(options.webhook_url) if options.webhook_url else ""
        self.client = httpx.Client(timeout=options.webhook_timeout_s, transport=transport)

    def __repr__(self) -> str:
        return f"ApiAdapter({self.name!r}, webhook={self._url or None})"

    def fetch_pending(self) -> list[IncomingNotification]:
        return []  # the web server stores API requests itself

    def payload(self, result: ResultReport, now: datetime) -> dict[str, Any]:
        """The JSON object posted for `result` (see the module docstring)."""
        w = self._wording
        return {
            "event": "result",
            "source": result.source,
            "external_id": result.external_id,
            "status": result.status.value,
            "status_text": w.status(result.status),
            "outcome": result.outcome.value if result.outcome is not None else None,
            "outcome_text": w.outcome(result.outcome),
            "attempts": result.attempts,
            "contacts": result.contacts,
            "last_attempt_at": _iso(result.last_attempt_at),
            "dtmf": result.dtmf,
            "transcript": result.transcript,
            "callback_at": _iso(result.callback_at),
            "detail": w.detail(result),
            "sent_at": _iso(now.replace(microsecond=0)),
        }

    def report(self, result: ResultReport) -> None:
        if not self.options.webhook_url:
            return  # read through the API
        if not result.status.is_final and not self.options.webhook_attempts:
            return  # interim results were not asked for: acknowledged unsent
        now = self.clock()
        body = json.dumps(self.payload(result, now), ensure_ascii=False).encode("utf-8")
        timestamp = int(now.timestamp())
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(self.options.webhook_secret, timestamp, body),
        }
        self._post(body, headers)

    def close(self) -> None:
        self.client.close()

    def _post(self, body: bytes, headers: dict[str, str]) -> None:
        where = f"adapters.{self.name}"
        try:
            response = self.client.post(self.options.webhook_url, content=body, headers=headers)
        except httpx.TimeoutException as e:
            raise ErpUnavailable(
                f"{where}: webhook {self._url} did not answer in "
                f"{self.options.webhook_timeout_s:g} s"
            ) from e
        except httpx.TransportError as e:
            raise ErpUnavailable(f"{where}: cannot reach webhook {self._url}: {e}") from e
        status = response.status_code
        if 200 <= status < 300:
            return
        text = response.text[:200]
        error: CuckooError
        if status >= 500 or status in (408, 429):
            error = ErpUnavailable(f"{where}: webhook {self._url} answered {status}: {text!r}")
        elif 300 <= status < 400:
            error = ConfigError(
                f"[{where}.webhook_url] webhook {self._url} redirects ({status}) to "
                f"{response.headers.get('location', '?')!r}: set the final URL"
            )
        else:
            error = InputError(
                f"[{where}.webhook_url] webhook {self._url} refused the result ({status}): {text!r}"
            )
        raise error

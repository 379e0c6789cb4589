"""`type = "onec"`: 1C:Enterprise 8.3 through its standard OData interface.

    GET  {url}/{entity}?$format=json&$filter=(УведомитьЗвонком eq true or ...)&$top=..&$skip=..
    POST {url}/{register}?$format=json            one record per report (write-back)
    PATCH {url}/{entity}(guid'…')?$format=json     clears the notify flags on a final status

The entity (a Document_… or Catalog_…) and the register must be in the published OData
composition (1C: "Administration → publish on a web server", SetStandardODataInterfaceContent).

Delivery: every flagged object is returned on every poll until a final result clears its flags;
the store dedups by Ref_Key. Writing a register record through OData replaces the record with
the same dimensions (1C's record manager), so a report repeated by the outbox does no harm;
choose the register's dimensions as (document, status, attempts) to keep a history.

Errors: connection refused, timeouts, 5xx → ErpUnavailable (retried); 401 → ConfigError "bad
credentials"; 403 → no rights; 404 → not published; other 4xx on write-back → InputError.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

import httpx
from pydantic import Field, ValidationInfo, field_validator, model_validator

from adapters.base import CommonOptions, RejectedRows
from adapters.mapping import REPORT_PARAMS, map_rows, report_params
from cuckoo.config.secrets import env_checked, file_checked, resolve_secret
from cuckoo.domain import IncomingNotification, ResultReport
from cuckoo.errors import ConfigError, CuckooError, ErpUnavailable, InputError

log = logging.getLogger("cuckoo.adapters.onec")

DEFAULT_FIELDS = {
    "external_id": "Ref_Key",
    "phone": "Телефон",
    "scenario": "СценарийОповещения",
    "call_flag": "УведомитьЗвонком",
    "sms_flag": "УведомитьСМС",
    "timezone": "ЧасовойПояс",
    "deadline": "СрокОповещения",
}

DEFAULT_REGISTER_FIELDS = {
    "Документ_Key": "external_id",
    "Статус": "status",
    "КодСтатуса": "status_code",
    "Исход": "outcome",
    "КодИсхода": "outcome_code",
    "КоличествоПопыток": "attempts",
    "КоличествоКонтактов": "contacts",
    "ДатаПопытки": "last_attempt_at",
    "DTMF": "dtmf",
    "Расшифровка": "transcript",
    "ПерезвонитьВ": "callback_at",
    "Подробности": "detail",
    "ДатаЗаписи": "reported_at",
}

# Service fields of every 1C object: not template variables.
SERVICE_FIELDS = frozenset(
    {"Ref_Key", "DataVersion", "DeletionMark", "Posted", "Predefined", "PredefinedDataName"}
)
EMPTY_DATE = "0001-01-01T00:00:00"  # 1C's "no date"


class OneCOptions(CommonOptions):
    # Each poll lists every pending row, so a notification the ERP stops listing (two polls
    # in a row) was unticked: it is cancelled (a call under way finishes first). Leave it off
    # when the query or filter returns only some of the pending rows (a LIMIT, a time filter).
    withdraw_unlisted: bool = False
    url: str  # ".../<base>/odata/standard.odata/"
    username: str = ""
    password: str = Field(default="", repr=False)
    password_env: str | None = None  # or: the environment variable holding the password
    password_file: str | None = None  # or: a file holding it (relative to cuckoo.toml)
    timeout_s: float = 10.0
    entity: str = "Document_ЗаказКлиента"
    filter: str | None = None  # default: either flag set and not marked for deletion
    expand: str | None = None  # e.g. "Контрагент" to read "Контрагент/Телефон"
    select: str | None = None
    page_size: int = 500
    register_name: str | None = "InformationRegister_РезультатыОповещений"  # None: no write-back
    # register field → report parameter
    register_fields: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_REGISTER_FIELDS))
    register_constants: dict[str, Any] = Field(
        default_factory=dict
    )  # e.g. {"Документ_Type": "StandardODATA.Document_…"}
    clear_flags: bool = True  # PATCH the flags to false when the status is final

    @field_validator("url")
    @classmethod
    def _slash(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v if v.endswith("/") else v + "/"

    @field_validator("register_fields")
    @classmethod
    def _params(cls, v: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(v.values()) - set(REPORT_PARAMS))
        if unknown:
            raise ValueError(f"unknown parameter(s) {unknown}; known: {', '.join(REPORT_PARAMS)}")
        return v

    @field_validator("page_size")
    @classmethod
    def _page(cls, v: int) -> int:
        if v < 1:
            raise ValueError("must be at least 1")
        return v

    @field_validator("password_env")
    @classmethod
    def _password_env(cls, v: str | None) -> str | None:
        return env_checked(v)

    @field_validator("password_file")
    @classmethod
    def _password_file(cls, v: str | None, info: ValidationInfo) -> str | None:
        return file_checked(v, info)

    @model_validator(mode="after")
    def _password(self, info: ValidationInfo) -> OneCOptions:
        resolve_secret(self, "password", info)
        return self

    def effective_fields(self) -> dict[str, str]:
        return {**DEFAULT_FIELDS, **self.fields}

    def effective_filter(self) -> str:
        if self.filter:
            return self.filter
        f = self.effective_fields()
        return f"({f['call_flag']} eq true or {f['sms_flag']} eq true) and DeletionMark eq false"


def odata_error_text(response: httpx.Response) -> str:
    """The message of a 1C OData error body ({"odata.error": {"message": {"value": …}}})."""
    try:
        body = response.json()
        message = body["odata.error"]["message"]
        return str(message.get("value", message) if isinstance(message, dict) else message)
    except (ValueError, KeyError, TypeError):
        return response.text.strip()[:300] or response.reason_phrase


def to_odata(value: Any, zone: ZoneInfo) -> Any:
    """A report value as 1C wants it: dates as naive ISO in the ERP's zone, none → empty date."""
    if isinstance(value, datetime):
        return value.astimezone(zone).replace(tzinfo=None, microsecond=0).isoformat()
    return value


class OneCAdapter:
    Options = OneCOptions

    def __init__(
        self,
        name: str,
        options: OneCOptions,
        base_dir: Path,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.options = options
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        password = options.password
        self._fields = options.effective_fields()
        with_fields = options.model_copy(update={"fields": self._fields})
        self._defaults = with_fields.row_defaults(SERVICE_FIELDS, ("_Key", "_Type"))
        self._zone = ZoneInfo(options.erp_timezone)
        self._wording = options.wording()
        self.client = httpx.Client(
            base_url=options.url,
            auth=(options.username, password) if options.username else None,
            timeout=options.timeout_s,
            headers={"Accept": "application/json"},
            transport=transport,
        )
        self._rejected = RejectedRows(name, self.report, options.report_invalid)
        self._listed: frozenset[str] | None = None

    def __repr__(self) -> str:
        return f"OneCAdapter({self.name!r}, {self.options.url}{self.options.entity})"

    def fetch_pending(self) -> list[IncomingNotification]:
        rows: list[dict[str, Any]] = []
        skip = 0
        while True:
            params = {
                "$format": "json",
                "$filter": self.options.effective_filter(),
                "$top": str(self.options.page_size),
                "$skip": str(skip),
                "$orderby": self._fields["external_id"],
            }
            if self.options.expand:
                params["$expand"] = self.options.expand
            if self.options.select:
                params["$select"] = self.options.select
            response = self._send("GET", self._path(self.options.entity), "entity", params=params)
            try:
                page = response.json()["value"]
            except (ValueError, KeyError, TypeError) as e:
                raise ErpUnavailable(
                    f"adapters.{self.name}: 1C answered {self.options.entity} without an OData "
                    f"'value' list: {response.text[:200]!r}"
                ) from e
            rows.extend(_clean(r) for r in page)
            if len(page) < self.options.page_size:
                break
            skip += len(page)
        good, bad = map_rows(self.name, rows, self._defaults, nested=True)
        self._rejected.handle(bad, lambda err: f"{self.options.entity}({err.external_id})")
        if self.options.withdraw_unlisted:
            self._listed = frozenset(
                [n.external_id for n in good] + [e.external_id for e in bad if e.external_id]
            )
        return good

    def listed_ids(self) -> frozenset[str] | None:
        """What the last successful fetch listed, when `withdraw_unlisted` is on
        (cuckoo.domain.ListsAllPending)."""
        return self._listed if self.options.withdraw_unlisted else None

    def report(self, result: ResultReport) -> None:
        params = report_params(result, self.clock(), self._wording)
        if self.options.register_name:
            record: dict[str, Any] = dict(self.options.register_constants)
            for field, param in self.options.register_fields.items():
                value = params[param]
                if value is None and param in ("callback_at", "last_attempt_at"):
                    value = EMPTY_DATE
                record[field] = "" if value is None else to_odata(value, self._zone)
            self._send(
                "POST",
                self._path(self.options.register_name),
                "register_name",
                params={"$format": "json"},
                json=record,
                conflict_ok=True,
            )
        if self.options.clear_flags and result.status.is_final:
            key = result.external_id.replace("'", "''")
            path = self._path(self.options.entity) + f"(guid'{quote(key)}')"
            body = {self._fields["call_flag"]: False, self._fields["sms_flag"]: False}
            self._send("PATCH", path, "entity", params={"$format": "json"}, json=body)

    def check(self) -> None:
        """One GET of the entity ($top=1): credentials, publication and the filter."""
        params = {"$format": "json", "$filter": self.options.effective_filter(), "$top": "1"}
        self._send("GET", self._path(self.options.entity), "entity", params=params)

    def close(self) -> None:
        self.client.close()

    def _path(self, entity: str) -> str:
        return quote(entity)

    def _send(
        self,
        method: str,
        path: str,
        key: str,
        *,
        params: dict[str, str],
        json: Any = None,
        conflict_ok: bool = False,
    ) -> httpx.Response:
        where = f"adapters.{self.name}"
        target = f"{method} {self.options.url}{unquote(path)}"
        try:
            response = self.client.request(method, path, params=params, json=json)
        except httpx.TimeoutException as e:
            raise ErpUnavailable(
                f"{where}: 1C did not answer in {self.options.timeout_s:g} s ({target})"
            ) from e
        except httpx.TransportError as e:
            raise ErpUnavailable(f"{where}: cannot reach 1C ({target}): {e}") from e
        status = response.status_code
        if status < 300:
            return response
        text = odata_error_text(response)
        error: CuckooError
        if status == 401:
            error = ConfigError(
                f"[{where}.username] 1C refused the login (401): bad credentials for user "
                f"{self.options.username!r} at {self.options.url}"
            )
        elif status == 403:
            error = ConfigError(
                f"[{where}.username] user {self.options.username!r} has no right to "
                f"{method} {path} (403): {text}"
            )
        elif status == 404:
            error = ConfigError(
                f"[{where}.{key}] 1C does not publish {path} (404): add it to the OData "
                f"composition or fix the name: {text}"
            )
        elif status == 409 and conflict_ok:
            log.info("%s: %s already holds this record (409), taken as written", where, path)
            return response
        elif status >= 500 or status in (408, 429):
            error = ErpUnavailable(f"{where}: 1C answered {status} to {target}: {text}")
        elif method == "GET":
            error = ConfigError(f"[{where}.filter] 1C rejected the query ({status}): {text}")
        else:
            error = InputError(f"[{where}.{key}] 1C rejected the write ({status}): {text}")
        raise error


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    """Drop OData annotations ("Контрагент@navigationLinkUrl", "odata.metadata")."""
    return {k: v for k, v in row.items() if "@" not in k and not k.startswith("odata.")}

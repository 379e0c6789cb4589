"""[sms] section of cuckoo.toml: sender names per tenant and the gateways (SMPP, HTTP, SNPP,
smstools spool folders or a GSM modem).

[sms]
gateway = "smsc"                 # default gateway name
sender = "Cuckoo"
[sms.senders]                    # tenant -> sender name
shop = "MyShop"
[sms.gateways.smsc]              # one table per gateway; `type` selects the model
type = "smpp"
host = "smpp.example.net"
"""

from __future__ import annotations

import codecs
from typing import Annotated, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from cuckoo.config.secrets import env_checked, file_checked, resolve_secret

ReceiptStatusName = Literal["delivered", "undeliverable", "expired"]


class SmppGatewaySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["smpp"] = "smpp"
    host: str = "127.0.0.1"
    port: int = Field(default=2775, ge=1, le=65535)
    system_id: str = ""
    password: str = Field(default="", repr=False)
    password_env: str | None = None  # or: the environment variable holding the password
    password_file: str | None = None  # or: a file holding it (relative to cuckoo.toml)
    system_type: str = ""
    # The gateway's limit of submit_sm per second (each part of a long SMS is one); 0 = none.
    max_per_second: float = Field(default=0.0, ge=0)
    enquire_link_s: float = Field(default=30.0, gt=0)  # keep-alive when the link is idle
    response_timeout_s: float = Field(default=10.0, gt=0)  # for bind/submit/enquire_link answers
    reconnect_min_s: float = Field(default=1.0, gt=0)  # first reconnect delay, doubled each failure
    reconnect_max_s: float = Field(default=60.0, gt=0)
    # How long one send keeps trying (link down, throttled) before the attempt is NETWORK and
    # the scheduler retries it later.
    submit_timeout_s: float = Field(default=30.0, gt=0)
    throttle_backoff_s: float = Field(
        default=1.0, gt=0
    )  # first pause after ESME_RTHROTTLED, doubled
    registered_delivery: bool = True  # ask for delivery receipts
    # A long message is delivered when every part's receipt says so ("all"), or at the first
    # delivered part ("first": for SMSCs that send one receipt per long message).
    multipart_receipt: Literal["all", "first"] = "all"
    validity_period: str = ""  # SMPP time, e.g. "000001000000000R" = 1 day relative; "" = SMSC's
    # Phone as the SMSC wants it: "international" = 79123456789 (TON 1), "plus" = +79123456789.
    dest_format: Literal["international", "plus"] = "international"

    @field_validator("password_env")
    @classmethod
    def _password_env(cls, v: str | None) -> str | None:
        return env_checked(v)

    @field_validator("password_file")
    @classmethod
    def _password_file(cls, v: str | None, info: ValidationInfo) -> str | None:
        return file_checked(v, info)

    @model_validator(mode="after")
    def _password_secret(self, info: ValidationInfo) -> Self:
        resolve_secret(self, "password", info)
        return self


class HttpGatewaySettings(BaseModel):
    """A generic HTTP SMS API. Templates are Jinja2 with: to (E.164, +7...), to_digits
    (79...), text, sender, secret, and for status polling/webhooks: id. `secret` (the API
    key or password: SMS.ru's api_id, SMSC's psw) may come from `secret_env` / `secret_file`
    instead of the file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["http"] = "http"
    url: str = ""  # template
    secret: str = Field(default="", repr=False)  # {{ secret }} in the templates
    secret_env: str | None = None  # or: the environment variable holding it
    secret_file: str | None = None  # or: a file holding it (relative to cuckoo.toml)
    method: Literal["GET", "POST"] = "POST"
    headers: dict[str, str] = {}  # values are templates
    params: dict[str, str] = {}  # query string; values are templates
    form: dict[str, str] = {}  # form body (POST); values are templates
    body: str = ""  # raw body template (e.g. JSON); set Content-Type in headers
    timeout_s: float = Field(default=10.0, gt=0)
    retries: int = Field(default=2, ge=0)  # extra tries on connection errors / 5xx before NETWORK
    retry_delay_s: float = Field(default=1.0, ge=0)
    # Accepted when the status code is in ok_status AND (if set) ok_json_path's value equals
    # ok_json_value / ok_regex matches the body. Otherwise refused, with the error from
    # error_json_path / error_regex (group 1) or the body's start.
    ok_status: list[int] = [200, 201, 202]
    ok_json_path: str = ""  # dotted, templates allowed: "sms.{{ to_digits }}.status"
    ok_json_value: str = ""
    ok_regex: str = ""
    id_json_path: str = ""  # where the message id is
    id_regex: str = ""  # or a regex, group 1
    error_json_path: str = ""
    error_regex: str = ""
    # Receipts: "none", "webhook" (the provider calls cuckoo's listener) or "poll".
    receipts: Literal["none", "webhook", "poll"] = "none"
    # provider status value -> delivered | undeliverable | expired; others are interim.
    status_map: dict[str, ReceiptStatusName] = {}
    webhook_path: str = "/sms/receipt"
    webhook_id_field: str = "id"  # field in query/form/JSON body (dotted for JSON)
    webhook_status_field: str = "status"
    # Or a regex over the raw body with named groups (?P<id>...) and (?P<status>...),
    # applied repeatedly (several receipts in one request).
    webhook_regex: str = ""
    webhook_reply: str = "OK"  # body to answer the provider with
    status_url: str = ""  # poll: template with {{ id }}
    status_params: dict[str, str] = {}
    status_json_path: str = ""  # where the status is; templates allowed
    status_regex: str = ""  # or group 1 of a regex
    poll_interval_s: float = Field(default=60.0, gt=0)
    poll_give_up_s: float = Field(default=3 * 86400.0, gt=0)  # stop polling an id after this

    @field_validator("secret_env")
    @classmethod
    def _secret_env(cls, v: str | None) -> str | None:
        return env_checked(v)

    @field_validator("secret_file")
    @classmethod
    def _secret_file(cls, v: str | None, info: ValidationInfo) -> str | None:
        return file_checked(v, info)

    @model_validator(mode="after")
    def _secret_secret(self, info: ValidationInfo) -> Self:
        resolve_secret(self, "secret", info)
        return self


class SnppGatewaySettings(BaseModel):
    """An SNPP (RFC 1861, levels 1-2) paging/SMS gateway: one TCP session per message, PAGE,
    MESS or DATA, SEND, QUIT. No delivery receipts: SNPP has none below level 3."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["snpp"] = "snpp"
    host: str  # no default: a paging gateway is never on this machine by accident
    port: int = Field(default=444, ge=1, le=65535)  # 444 is SNPP's registered port
    # One whole session (connect … SEND's answer) must finish in this time, else the attempt
    # is `network` and the scheduler retries it later.
    timeout_s: float = Field(default=10.0, gt=0)
    # Bytes on the wire. SNPP is ASCII-oriented; Russian operators' gateways often want
    # "cp1251" or "koi8-r". Must be ASCII-compatible (the commands themselves are ASCII).
    encoding: str = "utf-8"
    max_message_chars: int = Field(default=0, ge=0)  # longer texts are refused; 0 = no limit
    # 1: PAGE/MESS/SEND only (line breaks become spaces); 2: also DATA (multi-line) and LOGIn.
    level: Literal[1, 2] = 2
    login: str = ""  # LOGIn <login> [password] before the page, when set (level 2)
    password: str = Field(default="", repr=False)
    password_env: str | None = None  # or: the environment variable holding the password
    password_file: str | None = None  # or: a file holding it (relative to cuckoo.toml)
    # Pager id as the gateway wants it: "international" = 79123456789, "plus" = +79123456789.
    dest_format: Literal["international", "plus"] = "international"

    @field_validator("host")
    @classmethod
    def _host(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("empty: the SNPP gateway's host name or address")
        return v.strip()

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, v: str) -> str:
        try:
            codecs.lookup(v)
        except LookupError:
            raise ValueError(f'unknown encoding {v!r} (e.g. "utf-8", "cp1251", "koi8-r")') from None
        probe = "PAGE 0123456789 .\r\n"
        try:
            ascii_safe = probe.encode(v) == probe.encode("ascii")
        except (UnicodeError, LookupError):  # e.g. a bytes-to-bytes codec such as "base64"
            ascii_safe = False
        if not ascii_safe:
            raise ValueError(f"encoding {v!r} is not ASCII-compatible: SNPP commands are ASCII")
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
    def _password_secret(self, info: ValidationInfo) -> Self:
        resolve_secret(self, "password", info)
        if self.password and not self.login:
            raise ValueError("password is set but login is not (LOGIn needs both)")
        if self.login and self.level < 2:
            raise ValueError("login needs level = 2 (LOGIn is an SNPP level 2 command)")
        return self


class SmstoolsGatewaySettings(BaseModel):
    """Debian's smstools (smsd) spool: cuckoo drops a message file into `outgoing`, smsd sends it
    through its modem and moves it to `sent` or `failed`; status reports land in `report` (or in
    `incoming` when smsd.conf has no `report =`, as Debian's has not). The file's name is the
    message id, so smsd.conf must keep names (`keep_filename = yes`, its default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["smstools"] = "smstools"
    outgoing: str = "/var/spool/sms/outgoing"  # smsd.conf's `outgoing`
    sent: str = "/var/spool/sms/sent"  # smsd.conf's `sent` (it must be set there)
    failed: str = "/var/spool/sms/failed"  # smsd.conf's `failed` (it must be set there)
    # Where smsd writes status reports: its `report =` folder, else `incoming`. Only files
    # whose text is a status report are read there, and none is changed or removed.
    report: str = "/var/spool/sms/incoming"
    # The message file is written here first, then renamed into `outgoing` (so smsd never
    # reads half a file); "" = outgoing's parent. It must be on outgoing's file system.
    tmp_dir: str = ""
    status_report: bool = True  # "Report: yes": ask the network for a delivery report
    poll_interval_s: float = Field(default=5.0, gt=0)  # how often sent/failed/report are read
    # How long a message is followed (sent → its report); after that it stays "sent".
    follow_hours: float = Field(default=72.0, gt=0)

    @field_validator("outgoing", "sent", "failed", "report")
    @classmethod
    def _folder(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("empty: the folder smsd.conf names for it")
        return v.strip()


class ModemGatewaySettings(BaseModel):
    """A GSM modem on a serial port, driven with AT commands in PDU mode (3GPP TS 27.005):
    delivery reports come back as +CDS while the port is open."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["modem"] = "modem"
    port: str  # no default: "/dev/ttyUSB0", or better a /dev/serial/by-id/... name
    baudrate: int = Field(default=115200, gt=0)
    pin: str = Field(default="", repr=False)  # the SIM's PIN, when it asks for one
    pin_env: str | None = None  # or: the environment variable holding it
    pin_file: str | None = None  # or: a file holding it (relative to cuckoo.toml)
    # One AT command's answer (AT+CMGS: the network's, which can take a while) in this time,
    # else the attempt is `network`, retried later.
    command_timeout_s: float = Field(default=5.0, gt=0)
    send_timeout_s: float = Field(default=60.0, gt=0)
    sim_busy_wait_s: float = Field(default=20.0, ge=0)  # +CME ERROR: 14 after a power-up
    status_report: bool = True  # ask for a delivery report (AT+CNMI routes it as +CDS)
    validity_minutes: int = Field(default=0, ge=0)  # 0 = the SMSC's default; else >= 5

    @field_validator("port")
    @classmethod
    def _port(cls, v: str) -> str:
        if not v.strip():
            raise ValueError('empty: the serial port, e.g. "/dev/ttyUSB0"')
        return v.strip()

    @field_validator("pin")
    @classmethod
    def _pin(cls, v: str) -> str:
        if v and not (v.isascii() and v.isdigit() and 4 <= len(v) <= 8):
            raise ValueError("a SIM PIN is 4 to 8 digits")
        return v

    @field_validator("validity_minutes")
    @classmethod
    def _validity(cls, v: int) -> int:
        if 0 < v < 5:
            raise ValueError("at least 5 minutes (or 0: the SMSC's default)")
        return v

    @field_validator("pin_env")
    @classmethod
    def _pin_env(cls, v: str | None) -> str | None:
        return env_checked(v)

    @field_validator("pin_file")
    @classmethod
    def _pin_file(cls, v: str | None, info: ValidationInfo) -> str | None:
        return file_checked(v, info)

    @model_validator(mode="after")
    def _pin_secret(self, info: ValidationInfo) -> Self:
        resolve_secret(self, "pin", info)
        if self.pin and not (self.pin.isascii() and self.pin.isdigit() and 4 <= len(self.pin) <= 8):
            raise ValueError("pin: a SIM PIN is 4 to 8 digits")
        return self


GatewaySettings = Annotated[
    SmppGatewaySettings
    | HttpGatewaySettings
    | SnppGatewaySettings
    | SmstoolsGatewaySettings
    | ModemGatewaySettings,
    Field(discriminator="type"),
]


class WebhookSettings(BaseModel):
    """The small HTTP listener that receives delivery receipts from HTTP gateways."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8089, ge=0, le=65535)  # 0 = any free port (tests)


class SmsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    gateway: str = ""  # default gateway; "" = the only one configured
    sender: str = "cuckoo"  # sender name (alphanumeric ≤ 11 chars, or a number)
    senders: dict[str, str] = {}  # tenant -> sender name
    tenant_gateways: dict[str, str] = {}  # tenant -> gateway name
    max_segments: int = Field(
        default=6, ge=1, le=255
    )  # longer texts are refused by check and channel
    gateways: dict[str, GatewaySettings] = {}
    webhook: WebhookSettings = WebhookSettings()

    def sender_for(self, tenant: str) -> str:
        return self.senders.get(tenant, self.sender)

    def gateway_name_for(self, tenant: str = "default") -> str:
        """Name of the gateway to use for a tenant; raises KeyError naming what is missing."""
        name = self.tenant_gateways.get(tenant) or self.gateway
        if not name:
            if len(self.gateways) == 1:
                return next(iter(self.gateways))
            raise KeyError(
                "[sms] gateway is not set and there is not exactly one [sms.gateways.NAME]"
            )
        if name not in self.gateways:
            raise KeyError(f"[sms] gateway {name!r} has no [sms.gateways.{name}] table")
        return name

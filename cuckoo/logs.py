"""How cuckoo logs: text or JSON lines, the notification a line is about, and no secret or
message text in any line. Used by every process: the CLI (cuckoo.cli.logs reads [log] and
calls `configure`) and each call worker process (it gets the parent's `LogSpec`).

Levels — every module under worker/, telephony/, sms/ and dialog/ keeps to this:

| level   | for                                               | e.g.                         |
|---------|---------------------------------------------------|------------------------------|
| DEBUG   | what a developer follows                          | a PDU ignored, a webhook hit |
| INFO    | a customer's outcome, a normal step of the robot; | attempt 2: busy → pending;   |
|         | busy, no answer, voicemail, a refused SMS are     | SMPP bound; the customer     |
|         | outcomes, never errors                            | hung up                      |
| WARNING | trouble that is retried or worked around, bad     | ERP down, retry in 60 s;     |
|         | input from outside, a setting that degrades us    | SMPP link lost; no ASR model |
| ERROR   | our bug or a broken set-up, with its traceback    | a channel raised; a job      |
|         | (`log.exception`)                                 | failed                       |

A line about a notification carries its id, tenant and attempt: `notification_context(...)` is
entered where an attempt starts (the scheduler's attempt thread; the call thread of a call
worker, from the CallRequest's notification) and `ContextFilter` adds the fields to every
record: `[n=123 t=acme a=2]` in text, "notification", "tenant", "attempt" in JSON.

`RedactingFilter`, on every handler, is the safety net for every line that reaches them
(cuckoo's own, a library's): it masks the values of query/form/JSON fields named like a secret
(token, api_id, psw, password, secret, key, auth...) or like a message body (msg, mes, text,
message, body), and the password of a URL (`scheme://user:***@host`). httpx / httpcore log every
request URL at INFO (an SMS API's `api_id`, `psw`, `msg` ride in its query string): they are
held at WARNING at every verbosity.
"""

from __future__ import annotations

import contextvars
import json
import logging
import logging.handlers
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

MASK = "***"

# ---- redaction ------------------------------------------------------------------------------

# Field names whose values are never logged. Matched as a whole name, any case, also with a
# prefix joined by "_"/"-" (x-api-key, access_token, sms_text, ...); `sms_id` stays readable.
SECRET_NAMES = (
    "token",
    "api_id",
    "apikey",
    "api_key",
    "key",
    "psw",
    "pwd",
    "pass",
    "passwd",
    "password",
    "secret",
    "auth",
    "authorization",
    "signature",
    "sig",
    "hash",
)
MESSAGE_NAMES = ("msg", "mes", "message", "text", "body", "sms", "short_message")

_NAME = (
    r"(?:[A-Za-z0-9]+[_-])*(?:"
    + "|".join(re.escape(n) for n in sorted(SECRET_NAMES + MESSAGE_NAMES, key=len, reverse=True))
    + r")"
)
# name=value in a query string, a form body or a log line (until &, whitespace or a quote)
_PAIR = re.compile(r"(?i)(?<![A-Za-z0-9_-])(" + _NAME + r")=([^&\s'\",;)]*)")
# "name": "value" / 'name': 'value' (JSON bodies, repr of dicts)
_QUOTED = re.compile(
    r"(?i)([\"'])(" + _NAME + r")\1(\s*:\s*)(?:\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|[^,}\s]+)"
)
# name: value (an HTTP header, "password: x" in a text), secret names only
_SECRET_NAME = (
    r"(?:[A-Za-z0-9]+[_-])*(?:"
    + "|".join(re.escape(n) for n in sorted(SECRET_NAMES, key=len, reverse=True))
    + r")"
)
_HEADER = re.compile(
    r"(?i)(?<![A-Za-z0-9_\"'.-])(" + _SECRET_NAME + r")(:[ \t]*)(?![ \t\"'])([^,;\n}]+)"
)
# scheme://user:password@host
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*):([^@\s/]+)@")
_FIELD_NAME = re.compile(r"(?i)^" + _NAME + r"$")


def redact(text: str) -> str:
    """The text with every secret-like and message-like value masked."""
    text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}:{MASK}@", text)
    text = _PAIR.sub(lambda m: f"{m.group(1)}={MASK}", text)
    text = _HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    return _QUOTED.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(1)}{m.group(3)}{MASK!r}", text)


class RedactingFilter(logging.Filter):
    """Masks secrets and message texts in a record's message, its exception text and its
    `extra=` fields (a field named like a secret or a message body is masked whole)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler to report
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        for name in extra_fields(record):
            value = record.__dict__[name]
            if _FIELD_NAME.match(name):
                record.__dict__[name] = MASK
            elif isinstance(value, str):
                record.__dict__[name] = redact(value)
        return True


# Libraries whose INFO/DEBUG lines carry URLs, headers or raw bytes of what we send.
QUIET_LOGGERS = ("httpx", "httpcore", "hpack", "smpp")


def quiet_libraries() -> None:
    """Hold the chatty libraries at WARNING, at every verbosity: their request lines hold the
    secrets and the message texts."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


# ---- the notification a line is about -------------------------------------------------------

CONTEXT_FIELDS = ("notification", "tenant", "attempt")
_context: contextvars.ContextVar[tuple[int, str, int] | None] = contextvars.ContextVar(
    "cuckoo_log_context", default=None
)


@contextmanager
def notification_context(notification_id: int, tenant: str, attempt: int) -> Iterator[None]:
    """Every line logged inside (in this thread or task) is about this attempt."""
    token = _context.set((notification_id, tenant, attempt))
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    """Adds `notification`, `tenant`, `attempt` (None outside an attempt) and `context` (the
    text form, "[n=123 t=acme a=2] ", or "") to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = _context.get()
        if ctx is None:
            if not hasattr(record, "context"):
                record.notification = record.tenant = record.attempt = None
                record.context = ""
            return True
        n, tenant, attempt = ctx
        record.notification, record.tenant, record.attempt = n, tenant, attempt
        record.context = f"[n={n} t={tenant} a={attempt}] "
        return True


# ---- formats --------------------------------------------------------------------------------

# The attributes every LogRecord has; anything else came with `extra=` (or from our filters).
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "context",
    *CONTEXT_FIELDS,
}


def extra_fields(record: logging.LogRecord) -> list[str]:
    return [k for k in record.__dict__ if k not in _STANDARD and not k.startswith("_")]


class TextFormatter(logging.Formatter):
    """`2025-01-31 10:00:00,123 INFO cuckoo.worker.scheduler: [n=7 t=shop a=2] the message`;
    a call worker's lines name it (`worker0`)."""

    def __init__(self, label: str = "") -> None:
        where = f"{label} " if label else ""
        super().__init__(f"%(asctime)s {where}%(levelname)s %(name)s: %(context)s%(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "context"):  # a handler without ContextFilter
            record.context = ""
        return super().format(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts (ISO 8601, UTC), level, logger, message, the notification
    context when there is one, `extra=` fields, process (a call worker), exc (a traceback)."""

    def __init__(self, label: str = "") -> None:
        super().__init__()
        self.label = label

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC)
        out: dict[str, Any] = {
            "ts": ts.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                out[name] = value
        for name in extra_fields(record):
            out.setdefault(name, record.__dict__[name])
        if self.label:
            out["process"] = self.label
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exc"] = record.exc_text
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, ensure_ascii=False, default=str)


# ---- the set-up -----------------------------------------------------------------------------

FILE_MODE = 0o600  # the log names customers' numbers: private, like config/private.py's files


class PrivateWatchedFileHandler(logging.handlers.WatchedFileHandler):
    """Appends to a file made 0600 whatever the umask, and reopens it when logrotate has moved
    it away. Not a size-based RotatingFileHandler: the call worker processes append to the same
    file, and each process rotating it on its own would race and lose lines; appends to one
    file from several processes are safe (O_APPEND), rotation is logrotate's job."""

    def _open(self) -> Any:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
        return os.fdopen(fd, "a", encoding=self.encoding or "utf-8", errors=self.errors)


@dataclass(frozen=True)
class LogSpec:
    """How one process logs (picklable: a call worker gets its parent's)."""

    format: Literal["text", "json"] = "text"
    level: int = logging.INFO
    file: str | None = None  # absolute; its folder exists
    label: str = ""  # names a call worker's lines ("worker0")


_current = LogSpec()


def current_spec() -> LogSpec:
    """The spec `configure` last set up in this process (a call worker is handed it)."""
    return _current


def configure(spec: LogSpec) -> None:
    """Replace the root logger's handlers: stderr, and the file if there is one, each with the
    context and redacting filters and the chosen format."""
    global _current
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if spec.file:
        handlers.append(PrivateWatchedFileHandler(spec.file, encoding="utf-8"))
    formatter: logging.Formatter = (
        JsonFormatter(spec.label) if spec.format == "json" else TextFormatter(spec.label)
    )
    for handler in handlers:
        handler.addFilter(ContextFilter())
        handler.addFilter(RedactingFilter())
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(spec.level)
    quiet_libraries()
    _current = spec

"""cuckoo's logging setup: one format, quiet libraries, and no secret or message text in a line.

- httpx / httpcore log every request URL at INFO (an SMS API's `api_id`, `psw`, `msg` ride in
  its query string): they are held at WARNING at every verbosity.
- `RedactingFilter`, on the handlers, is the safety net for every line that reaches them
  (cuckoo's own, a library's): it masks the values of query/form/JSON fields named like a
  secret (token, api_id, psw, password, secret, key, auth...) or like a message body (msg,
  mes, text, message, body), and the password of a URL (`scheme://user:***@host`).
"""

from __future__ import annotations

import logging
import re

MASK = "***"

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


def redact(text: str) -> str:
    """The text with every secret-like and message-like value masked."""
    text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}:{MASK}@", text)
    text = _PAIR.sub(lambda m: f"{m.group(1)}={MASK}", text)
    text = _HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    return _QUOTED.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(1)}{m.group(3)}{MASK!r}", text)


class RedactingFilter(logging.Filter):
    """Masks secrets and message texts in a record's message (and its exception text)."""

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
        return True


# Libraries whose INFO/DEBUG lines carry URLs, headers or raw bytes of what we send.
QUIET_LOGGERS = ("httpx", "httpcore", "hpack", "smpp")


def quiet_libraries() -> None:
    """Hold the chatty libraries at WARNING, at every verbosity: their request lines hold the
    secrets and the message texts."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def setup_logging(verbose: bool) -> None:
    """The logging of every `cuckoo` command (stderr, one line per record)."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    quiet_libraries()
    if not verbose:  # it announces every dictionary load at INFO
        logging.getLogger("pymorphy3").setLevel(logging.WARNING)

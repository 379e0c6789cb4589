"""Pure mapping from one ERP row (a dict of column → value) to an IncomingNotification.

Shared by the sql, onec and csv adapters; no I/O here, so it is tested exhaustively in
tests/unit/test_adapters_mapping.py.

Rules, the same for every adapter:
- `fields` maps an IncomingNotification field (or the helper fields `call_flag`/`sms_flag`) to
  a column name; unmapped fields use a column of the same name if the row has one.
- Only `external_id` is strictly required: without it nothing can be written back. A missing
  phone or scenario is passed on as "" so the store rejects it as INVALID and the ERP learns why.
- `channel` comes from a channel column ("call", "sms", "call_then_sms", or Russian words), else
  from the two flags (both → call_then_sms), else the adapter's default.
- Naive datetimes are in the ERP's own time zone (`erp_timezone`, e.g. the office's). A date
  without time means the start of that day for `not_before` and the end of it for `deadline`.
  1C's empty date 0001-01-01 means "none".
- Every other column becomes a template variable, made JSON-safe: Decimal → str (exact money),
  date/datetime → ISO 8601 text, None kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cuckoo.domain import ChannelKind, IncomingNotification, ResultReport
from cuckoo.errors import InputError
from cuckoo.result_texts import ResultWording

# Fields a row can map; `variables` is a JSON object (or dict) merged into the variables.
NOTIFICATION_FIELDS = (
    "external_id",
    "phone",
    "scenario",
    "channel",
    "tenant",
    "timezone",
    "not_before",
    "deadline",
    "variables",
    "consent",
)
FLAG_FIELDS = ("call_flag", "sms_flag")
ALL_FIELDS = NOTIFICATION_FIELDS + FLAG_FIELDS


class RowError(InputError):
    """One row cannot be turned into a notification. `external_id` is set when it was known,
    so the adapter can write the rejection back to the ERP."""

    def __init__(self, reason: str, external_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.external_id = external_id


@dataclass(frozen=True)
class RowDefaults:
    """What a row gets when it has no column for a field."""

    scenario: str | None = None
    channel: ChannelKind = ChannelKind.CALL
    tenant: str = "default"
    erp_timezone: str = "UTC"
    # field → column overrides; see module doc
    fields: Mapping[str, str] = field(default_factory=dict)
    # variable name → column; when None every unmapped column becomes a variable
    variables: Mapping[str, str] | None = None
    # columns never copied into variables (e.g. 1C service fields)
    ignore: frozenset[str] = frozenset()
    # column name endings never copied into variables (1C's "Контрагент_Key" references)
    ignore_suffixes: tuple[str, ...] = ()


_TRUE = {"1", "true", "t", "yes", "y", "да", "д", "истина", "+", "x", "on"}
_FALSE = {"0", "false", "f", "no", "n", "нет", "н", "ложь", "-", "", "off"}

_CHANNELS: dict[str, ChannelKind] = {
    "call": ChannelKind.CALL,
    "voice": ChannelKind.CALL,
    "звонок": ChannelKind.CALL,
    "позвонить": ChannelKind.CALL,
    "sms": ChannelKind.SMS,
    "смс": ChannelKind.SMS,
    "sms_only": ChannelKind.SMS,
    "call_then_sms": ChannelKind.CALL_THEN_SMS,
    "call+sms": ChannelKind.CALL_THEN_SMS,
    "звонок+смс": ChannelKind.CALL_THEN_SMS,
    "звонок_смс": ChannelKind.CALL_THEN_SMS,
    "звонок, смс": ChannelKind.CALL_THEN_SMS,
    "звонок и смс": ChannelKind.CALL_THEN_SMS,
}


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, int | float | Decimal):
        return value != 0
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"not a yes/no value: {value!r}")


def parse_channel(value: Any) -> ChannelKind:
    text = re.sub(r"\s+", " ", str(value).strip().lower()).replace("-", "_")
    if text in _CHANNELS:
        return _CHANNELS[text]
    raise ValueError(f"unknown channel {value!r} (use call, sms or call_then_sms)")


_OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?$")
_MSK = re.compile(r"^(?:msk|мск)\s*(?:([+-])\s*(\d{1,2}))?$")


def parse_timezone(value: Any) -> str:
    """An IANA name as ERPs store it: "Asia/Yekaterinburg", "UTC+5", "+05:00", "MSK+2"/"МСК+2".
    Whole-hour offsets become Etc/GMT∓N (POSIX sign is inverted in those names)."""
    text = str(value).strip()
    low = text.lower()
    hours: int | None = None
    m = _OFFSET.match(low)
    if m:
        if m.group(3) not in (None, "00"):
            raise ValueError(f"time zone {text!r}: only whole-hour offsets are supported")
        hours = int(m.group(2)) * (1 if m.group(1) == "+" else -1)
    else:
        m = _MSK.match(low)
        if m:
            hours = 3 + (int(m.group(2)) * (1 if m.group(1) == "+" else -1) if m.group(2) else 0)
    if hours is not None:
        if not -12 <= hours <= 14:
            raise ValueError(f"time zone {text!r}: offset out of range")
        if hours == 0:
            return "UTC"
        return f"Etc/GMT{'-' if hours > 0 else '+'}{abs(hours)}"
    if low in ("utc", "gmt", "z"):
        return "UTC"
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ValueError(f"unknown time zone {text!r}") from e
    return text


_DATE_FORMATS = ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%y %H:%M", "%Y-%m-%d %H:%M")
_DATE_ONLY = ("%d.%m.%Y", "%d.%m.%y", "%Y-%m-%d", "%d/%m/%Y")


def parse_datetime(value: Any, tz: str, *, end_of_day: bool = False) -> datetime | None:
    """An aware datetime from what ERPs send; None for blank or 1C's empty date (year 1)."""
    if is_blank(value):
        return None
    zone = ZoneInfo(tz)
    day: date | None = None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        day = value
    else:
        text = str(value).strip()
        dt_parsed: datetime | None = None
        try:
            dt_parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if len(text) == 10:  # "2024-05-14": fromisoformat accepts it as midnight
                day = dt_parsed.date()
        except ValueError:
            for fmt in _DATE_FORMATS:
                try:
                    dt_parsed = datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
            else:
                for fmt in _DATE_ONLY:
                    try:
                        day = datetime.strptime(text, fmt).date()
                        break
                    except ValueError:
                        continue
                else:
                    raise ValueError(f"not a date/time: {value!r}") from None
        if day is None:
            assert dt_parsed is not None
            dt = dt_parsed
    if day is not None:
        if day.year <= 1:
            return None
        start = datetime.combine(day, time(0), tzinfo=zone)
        return start + timedelta(days=1) if end_of_day else start
    if dt.year <= 1:
        return None
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=zone)


def json_safe(value: Any) -> Any:
    """A value that json.dumps accepts and that reads well in a template."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return str(int(value)) if value == value.to_integral_value() else str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return str(value)


def get_path(row: Mapping[str, Any], path: str, *, nested: bool = False) -> Any:
    """row[path]; with nested=True, "Контрагент/Телефон" walks into expanded objects."""
    if not nested or "/" not in path:
        return row.get(path)
    value: Any = row
    for part in path.split("/"):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def column_for(name: str, defaults: RowDefaults, row: Mapping[str, Any]) -> str | None:
    """Which column holds field `name` in this row, if any."""
    if name in defaults.fields:
        return defaults.fields[name]
    return name if name in row else None


def map_row(
    source: str, row: Mapping[str, Any], defaults: RowDefaults, *, nested: bool = False
) -> IncomingNotification:
    """One row → IncomingNotification, or RowError with the reason (and the id when known)."""

    def value_of(name: str) -> Any:
        column = column_for(name, defaults, row)
        return None if column is None else get_path(row, column, nested=nested)

    raw_id = value_of("external_id")
    if is_blank(raw_id):
        raise RowError(f"no {column_for('external_id', defaults, row) or 'external_id'} value")
    external_id = json_safe(raw_id)
    external_id = str(external_id).strip()

    def fail(reason: str) -> RowError:
        return RowError(reason, external_id)

    try:
        erp_tz = defaults.erp_timezone
        raw_tz = value_of("timezone")
        timezone = None if is_blank(raw_tz) else parse_timezone(raw_tz)

        raw_channel = value_of("channel")
        call_col = column_for("call_flag", defaults, row)
        sms_col = column_for("sms_flag", defaults, row)
        if not is_blank(raw_channel):
            channel = parse_channel(raw_channel)
        elif call_col is not None or sms_col is not None:
            call = parse_bool(value_of("call_flag")) if call_col else False
            sms = parse_bool(value_of("sms_flag")) if sms_col else False
            if call and sms:
                channel = ChannelKind.CALL_THEN_SMS
            elif call:
                channel = ChannelKind.CALL
            elif sms:
                channel = ChannelKind.SMS
            else:
                raise ValueError("neither the call nor the SMS flag is set")
        else:
            channel = defaults.channel

        raw_scenario = value_of("scenario")
        scenario = str(raw_scenario).strip() if not is_blank(raw_scenario) else ""
        scenario = scenario or (defaults.scenario or "")
        raw_tenant = value_of("tenant")
        tenant = defaults.tenant if is_blank(raw_tenant) else str(raw_tenant).strip()
        raw_phone = value_of("phone")
        phone = "" if is_blank(raw_phone) else str(json_safe(raw_phone)).strip()

        raw_consent = value_of("consent")
        consent = "" if is_blank(raw_consent) else str(json_safe(raw_consent)).strip()
        not_before = parse_datetime(value_of("not_before"), erp_tz)
        deadline = parse_datetime(value_of("deadline"), erp_tz, end_of_day=True)
        variables = _variables(row, defaults, nested=nested)
    except ValueError as e:
        raise fail(str(e)) from e
    return IncomingNotification(
        source=source,
        external_id=external_id,
        phone=phone,
        scenario=scenario,
        channel=channel,
        variables=variables,
        tenant=tenant,
        timezone=timezone,
        not_before=not_before,
        deadline=deadline,
        consent=consent,
    )


def _variables(row: Mapping[str, Any], defaults: RowDefaults, *, nested: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if defaults.variables is not None:
        for name, column in defaults.variables.items():
            out[name] = json_safe(get_path(row, column, nested=nested))
    else:
        used = {column_for(f, defaults, row) for f in ALL_FIELDS}
        for column, value in row.items():
            if column in used or column in defaults.ignore:
                continue
            if defaults.ignore_suffixes and column.endswith(defaults.ignore_suffixes):
                continue
            if isinstance(value, Mapping | list):  # expanded objects/table parts: map explicitly
                continue
            out[column] = json_safe(value)
    var_col = column_for("variables", defaults, row)
    raw = None if var_col is None else get_path(row, var_col, nested=nested)
    if not is_blank(raw):
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except json.JSONDecodeError as e:
                raise ValueError(f"variables: not valid JSON: {e.msg} at char {e.pos}") from e
        if not isinstance(raw, Mapping):
            raise ValueError("variables: expected a JSON object")
        out.update(json_safe(raw))
    return nest_dotted(out)


def nest_dotted(flat: dict[str, Any]) -> dict[str, Any]:
    """Column aliases `customer.first_name` or `customer__first_name` become
    {"customer": {"first_name": ...}}, so one SELECT can fill a scenario's nested variables.
    A plain name wins over a nested one it would clash with."""
    out: dict[str, Any] = {}
    nested: list[tuple[list[str], Any]] = []
    for key, value in flat.items():
        parts = [p for p in key.replace("__", ".").split(".") if p]
        if len(parts) > 1:
            nested.append((parts, value))
        else:
            out[key] = value
    for parts, value in nested:
        node = out
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                break  # a plain variable of that name is already there
            node = child
        else:
            node.setdefault(parts[-1], value)
    return out


def map_rows(
    source: str, rows: Iterable[Mapping[str, Any]], defaults: RowDefaults, *, nested: bool = False
) -> tuple[list[IncomingNotification], list[RowError]]:
    """Map what can be mapped; bad rows are returned as errors, never stop the good ones."""
    good: list[IncomingNotification] = []
    bad: list[RowError] = []
    for row in rows:
        try:
            good.append(map_row(source, row, defaults, nested=nested))
        except RowError as e:
            bad.append(e)
    return good, bad


def report_params(
    result: ResultReport, now: datetime, wording: ResultWording | None = None
) -> dict[str, Any]:
    """Named parameters for a write-back from a ResultReport (plain values, aware times).
    `status`, `outcome` and `detail` are worded for the ERP (Russian unless the adapter says
    "en"); `status_code` and `outcome_code` are always the English codes, for programs."""
    wording = wording or ResultWording()
    return {
        "source": result.source,
        "external_id": result.external_id,
        "status": wording.status(result.status),
        "status_code": result.status.value,
        "outcome": wording.outcome(result.outcome),
        "outcome_code": result.outcome.value if result.outcome is not None else None,
        "final": result.status.is_final,
        "attempts": result.attempts,
        "contacts": result.contacts,
        "dtmf": result.dtmf,
        "transcript": result.transcript,
        "callback_at": result.callback_at,
        "detail": wording.detail(result),
        "last_attempt_at": result.last_attempt_at,
        "reported_at": now,
    }


REPORT_PARAMS = (
    "source",
    "external_id",
    "status",
    "status_code",
    "outcome",
    "outcome_code",
    "final",
    "attempts",
    "contacts",
    "dtmf",
    "transcript",
    "callback_at",
    "detail",
    "last_attempt_at",
    "reported_at",
)

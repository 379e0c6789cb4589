"""[policy] section of cuckoo.toml: retry rules, calling windows, tenants' time zones.

Overrides are partial: `[policy.scenarios.order_ready] max_contacts = 2` changes that one key
and keeps everything else from `[policy.retry]`; a tenant's `window` changes only the days it
names. Precedence for retry rules: [policy.retry] ← [policy.scenarios.NAME] ←
[policy.tenants.NAME.retry]. An empty file gives the defaults: `RetryPolicy()`, calls
Mon–Fri 09:00–20:00 and Sat 10:00–18:00 (closed on Sundays and public holidays), SMS
09:00–21:00 every day, customers' zone Europe/Moscow when it is known nowhere else, at most 3
calls a day to one phone and 30 minutes between two notifications' calls to it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cuckoo.domain import ChannelKind, JsonObject
from cuckoo.intake.timezones import valid_zone
from cuckoo.policy.percustomer import PhoneLimits
from cuckoo.policy.retry import RetryPolicy
from cuckoo.policy.windows import CallingWindow

M = TypeVar("M", bound=BaseModel)

_EVERY_DAY_9_TO_21 = ((9 * 60, 21 * 60),)
# SMS may arrive at any hour, so the limit is the night, not working hours: 09:00–21:00 local,
# every day, holidays included (a "your order is ready" text on a holiday is welcome).
DEFAULT_SMS_WINDOW = CallingWindow(
    mon=_EVERY_DAY_9_TO_21,
    tue=_EVERY_DAY_9_TO_21,
    wed=_EVERY_DAY_9_TO_21,
    thu=_EVERY_DAY_9_TO_21,
    fri=_EVERY_DAY_9_TO_21,
    sat=_EVERY_DAY_9_TO_21,
    sun=_EVERY_DAY_9_TO_21,
    skip_holidays=False,
)


def _check_zone(value: str | None) -> str | None:
    if value is not None and not valid_zone(value):
        raise ValueError(
            f"{value!r} is not an IANA time zone name (e.g. 'Europe/Moscow', 'Asia/Yekaterinburg')"
        )
    return value


def _explicit(model: BaseModel) -> JsonObject:
    """Only the keys written in the file (recursively), so an override does not reset the rest."""
    out: JsonObject = {}
    for name in model.model_fields_set:
        value = getattr(model, name)
        out[name] = _explicit(value) if isinstance(value, BaseModel) else value
    return out


def _merge(base: JsonObject, override: JsonObject) -> JsonObject:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _apply(base: M, *overrides: BaseModel | None) -> M:
    if not any(o is not None and o.model_fields_set for o in overrides):
        return base
    data = base.model_dump()
    for o in overrides:
        if o is not None:
            data = _merge(data, _explicit(o))
    return type(base).model_validate(data)


class TenantSettings(BaseModel):
    """`[policy.tenants.NAME]`: one company served by this cuckoo."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str | None = None  # zone of customers with no zone of their own; default_timezone
    window: CallingWindow | None = None  # days named here replace those of [policy.window]
    sms_window: CallingWindow | None = None  # likewise for [policy.sms_window]
    retry: RetryPolicy | None = None  # keys named here override the scenario's/global rules
    # 41-ФЗ: a row without the ERP's record of consent to calls (its `consent` field) is
    # refused, reported INVALID, never dialled.
    require_consent: bool = False

    _zone = field_validator("timezone")(_check_zone)


class PolicySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    retry: RetryPolicy = RetryPolicy()
    window: CallingWindow = CallingWindow()  # calls
    sms_window: CallingWindow = DEFAULT_SMS_WINDOW
    scenarios: dict[str, RetryPolicy] = {}  # per scenario name, partial
    tenants: dict[str, TenantSettings] = {}
    default_timezone: str = "Europe/Moscow"
    # One customer, one call (cuckoo.policy.percustomer), per phone across every tenant: calls
    # per local calendar day (0 = no cap), and minutes from the end of one notification's call
    # to the next notification's call (two calls never overlap whatever this is).
    max_calls_per_phone_per_day: Annotated[int, Field(ge=0, le=100)] = 3
    min_minutes_between_calls_to_phone: Annotated[int, Field(ge=0, le=1440)] = 30
    # A variable's text longer than this is refused at intake, naming the variable: nobody
    # listens to it, and a voice may fail on it after the customer answered (intake.values).
    max_variable_chars: Annotated[int, Field(ge=10, le=10_000)] = 200
    # The company the robot names in its first 5 s, for `cuckoo check` when a scenario has no
    # `company` sample variable (cuckoo.dialog.identify).
    company_name: str = ""

    _zone = field_validator("default_timezone")(_check_zone)

    def consent_tenants(self) -> frozenset[str]:
        """The tenants whose rows need a consent record (require_consent)."""
        return frozenset(name for name, t in self.tenants.items() if t.require_consent)

    def policy_for(self, tenant: str, scenario: str) -> RetryPolicy:
        t = self.tenants.get(tenant)
        return _apply(self.retry, self.scenarios.get(scenario), t.retry if t else None)

    def window_for(self, tenant: str, channel: ChannelKind) -> CallingWindow:
        """The window for an attempt on `channel` (CALL_THEN_SMS starts with calls)."""
        t = self.tenants.get(tenant)
        if channel == ChannelKind.SMS:
            return _apply(self.sms_window, t.sms_window if t else None)
        return _apply(self.window, t.window if t else None)

    def phone_limits(self) -> PhoneLimits:
        return PhoneLimits(
            self.max_calls_per_phone_per_day,
            timedelta(minutes=self.min_minutes_between_calls_to_phone),
        )

    def tenant_timezone(self, tenant: str) -> str:
        t = self.tenants.get(tenant)
        return (t.timezone if t else None) or self.default_timezone

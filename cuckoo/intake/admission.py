"""Admission: may a notification from an ERP be stored for calling, and when is its first try?

`admit(item, context, now)` is pure: no database, no clock (`now` is a parameter), nothing read
but the zone database and ru-phone-parser's data file. The store writes what it answers: an
`Admitted` row becomes PENDING with its first attempt at `next_attempt_at`; a `Rejected` row is
stored with its final status and `reason` as the detail, and that reason is what the ERP is told.

The checks, in this order; the first that fails decides:

| check                                        | status  | reason, e.g.                         |
|----------------------------------------------|---------|--------------------------------------|
| the tenant's zone (the context's policy)     | INVALID | the policy's InputError/ValueError   |
| the channel is call, sms or call_then_sms    | INVALID | channel 'fax': not one of call, ...  |
| the variables survive a JSON round trip      | INVALID | variables are not JSON-serializable  |
| the phone is a dialable number (→ E.164)     | INVALID | phone '12': wrong number of digits   |
| the scenario is known (if the context knows) | INVALID | unknown scenario 'x' (known: a, b)   |
| the variables fit the scenario's texts       | INVALID | scenario 'x': <problem>; <problem>   |
| not_before and deadline carry a time zone    | INVALID | deadline 2026-12-01T00:00:00 has no  |
|                                              |         | time zone                            |
| the ERP's zone, if given, is an IANA name    | INVALID | time zone 'MSK': not an IANA zone    |
|                                              |         | name (...)                           |
| the number is not on the do-not-call list    | BLOCKED | +79123456789 is on the do-not-call   |
|                                              |         | list                                 |
| the number is not a known wrong number for   | WRONG_  | wrong number: somebody else answered |
| this customer (tenant, phone, customer)      | NUMBER  | +79123456789 for this customer ...   |
| the first attempt comes before the deadline  | EXPIRED | first opening 2026-11-24 09:00       |
|                                              |         | Europe/Moscow is after the deadline  |
|                                              |         | 2026-11-24T05:00:00+00:00            |

Any InputError or ValueError raised on the way (by the context's policy or `check_variables`
too) rejects the row as INVALID with its message; other exceptions are bugs and propagate.
`Rejected.field` names the field of the row that failed (tenant, channel, variables, phone,
scenario, not_before, deadline, timezone), for a caller that maps it to its own input (the
`cuckoo notify add` flags).

The customer's zone is the ERP's field, else the number's (`cuckoo.intake.phones`), else the
tenant's. The first attempt is the calling window's first opening at or after
max(now, not_before), in the customer's zone, on the first channel (call_then_sms starts with
calls): `cuckoo.policy.first_attempt`.

The do-not-call list lives in the database, so the caller passes the blocked numbers in
(`AdmissionContext.blocked`, at least those among the rows it admits): the store reads them for
a whole chunk of rows in one query. Wrong numbers likewise (`AdmissionContext.wrong_numbers`:
the (tenant, E.164 phone, customer) pairs recorded, at least those of the rows it admits); who
the customer is, is `cuckoo.intake.customers.customer_key`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from cuckoo.domain import ChannelKind, IncomingNotification, Status, Variables
from cuckoo.errors import InputError
from cuckoo.intake.customers import customer_key
from cuckoo.intake.phones import normalize_phone
from cuckoo.intake.timezones import resolve_timezone
from cuckoo.intake.values import DEFAULT_MAX_CHARS, clean_variables
from cuckoo.policy.retry import first_attempt
from cuckoo.policy.windows import CallingWindow

__all__ = [
    "AdmissionContext",
    "Admitted",
    "Rejected",
    "TenantPolicy",
    "VariablesCheck",
    "WrongNumber",
    "admit",
    "first_channel",
    "wrong_number_reason",
]

# (scenario, variables) → problems, empty when the scenario's texts render with these variables.
VariablesCheck = Callable[[str, Variables], list[str]]
# (tenant, E.164 phone, customer_key): somebody else answered this number for this customer.
WrongNumber = tuple[str, str, str]


class TenantPolicy(Protocol):
    """What admission asks of the [policy] settings (cuckoo.config.policy.PolicySettings)."""

    def tenant_timezone(self, tenant: str) -> str: ...

    def window_for(self, tenant: str, channel: ChannelKind) -> CallingWindow: ...


@dataclass(frozen=True)
class AdmissionContext:
    """Everything `admit` needs besides the row and the time."""

    policy: TenantPolicy
    known_scenarios: Collection[str] | None = None  # None: any scenario name is accepted
    check_variables: VariablesCheck | None = None  # None: variables are not checked
    default_region: str = "RU"  # how to read a number written without its country code
    blocked: Collection[str] = frozenset()  # E.164 numbers on the do-not-call list
    wrong_numbers: Collection[WrongNumber] = frozenset()  # recorded wrong numbers
    max_variable_chars: int = DEFAULT_MAX_CHARS  # a longer text is refused (intake.values)
    consent_tenants: Collection[str] = frozenset()  # tenants whose rows need a consent record


@dataclass(frozen=True)
class _Verdict:
    """What is stored for the row either way. On a rejection: as far as admission got."""

    phone: str  # E.164; "" if the number was not understood (or not reached)
    timezone: str  # resolved zone; before that the tenant's; "UTC" if even that failed
    channel: ChannelKind  # as asked by the ERP; CALL if the ERP's channel was not understood
    variables: Variables  # JSON-safe copy; {} if not reached

    @property
    def first_channel(self) -> ChannelKind:
        return first_channel(self.channel)


@dataclass(frozen=True)
class Admitted(_Verdict):
    """To be stored PENDING, first tried at next_attempt_at."""

    next_attempt_at: datetime  # aware UTC, inside the first channel's window
    reason: str  # why that time, e.g. "first attempt at the window opening ..." (not reported)


@dataclass(frozen=True)
class Rejected(_Verdict):
    """To be stored with a final status and reported to the ERP at once."""

    status: Status  # INVALID, BLOCKED, WRONG_NUMBER or EXPIRED
    reason: str  # human-readable; the detail the ERP receives
    field: str = ""  # the IncomingNotification field that failed; "" for none in particular


def first_channel(channel: ChannelKind) -> ChannelKind:
    """The channel of the first attempt: call_then_sms starts with calls."""
    return ChannelKind.SMS if channel == ChannelKind.SMS else ChannelKind.CALL


def admit(
    item: IncomingNotification, context: AdmissionContext, now: datetime
) -> Admitted | Rejected:
    """Admit `item` or reject it with its final status and reason (see the module's table)."""
    tz, channel, phone = "UTC", ChannelKind.CALL, ""
    variables: Variables = {}
    field = "tenant"  # the field being checked: what a rejection names
    try:
        tz = context.policy.tenant_timezone(item.tenant)
        field = "channel"
        channel = _channel(item.channel)
        field = "variables"
        variables = clean_variables(_json_copy(item.variables), context.max_variable_chars)
        field = "phone"
        phone = normalize_phone(item.phone, context.default_region)
        field = "consent"
        if item.tenant in context.consent_tenants and not item.consent.strip():
            raise InputError(
                f"no consent to calls on record (tenant {item.tenant!r} requires one: "
                f"[policy.tenants.{item.tenant}] require_consent)"
            )
        field = "scenario"
        _check_known(item.scenario, context)
        field = "variables"
        _check_variables(item.scenario, variables, context)
        for name, value in (("not_before", item.not_before), ("deadline", item.deadline)):
            field = name
            if value is not None and value.tzinfo is None:
                raise InputError(f"{name} {value.isoformat()} has no time zone")
        field = "timezone"
        tz = resolve_timezone(item.timezone, phone, tz)
        if phone in context.blocked:
            why = f"{phone} is on the do-not-call list"
            return Rejected(phone, tz, channel, variables, Status.BLOCKED, why, "phone")
        if (item.tenant, phone, customer_key(variables)) in context.wrong_numbers:
            why = wrong_number_reason(phone)
            return Rejected(phone, tz, channel, variables, Status.WRONG_NUMBER, why, "phone")
        field = ""
        first = first_channel(channel)
        window = context.policy.window_for(item.tenant, first)
        decision = first_attempt(now, item.not_before, item.deadline, tz, window, first)
    except (InputError, ValueError) as e:
        return Rejected(phone, tz, channel, variables, Status.INVALID, str(e), field)
    if decision.status != Status.PENDING:
        why = decision.reason
        late = "deadline" if item.deadline is not None else ""  # only a deadline makes EXPIRED
        return Rejected(phone, tz, channel, variables, Status(decision.status), why, late)
    assert decision.next_attempt_at is not None  # first_attempt sets it whenever PENDING
    return Admitted(phone, tz, channel, variables, decision.next_attempt_at, decision.reason)


def wrong_number_reason(phone: str) -> str:
    """Why a notification to a recorded wrong number is not dialled: what its ERP is told."""
    return (
        f"wrong number: somebody else answered {phone} for this customer before; not dialled "
        f"until the number is fixed (`cuckoo unblock --wrong-number {phone}` forgets it)"
    )


def _channel(value: str) -> ChannelKind:
    try:
        return ChannelKind(value)
    except ValueError as e:
        known = ", ".join(c.value for c in ChannelKind)
        raise InputError(f"channel {value!r}: not one of {known}") from e


def _json_copy(variables: Mapping[str, Any]) -> Variables:
    """A copy that the database's JSON column stores as it is (tuples become lists...)."""
    try:
        copy: Variables = json.loads(json.dumps(dict(variables)))
    except (TypeError, ValueError) as e:
        raise InputError(f"variables are not JSON-serializable: {e}") from e
    return copy


def _check_known(scenario: str, context: AdmissionContext) -> None:
    known = context.known_scenarios
    if known is not None and scenario not in known:
        names = ", ".join(sorted(known)) or "none"
        raise InputError(f"unknown scenario {scenario!r} (known: {names})")


def _check_variables(scenario: str, variables: Variables, context: AdmissionContext) -> None:
    if context.check_variables is not None:
        problems = context.check_variables(scenario, variables)
        if problems:
            raise InputError(f"scenario {scenario!r}: " + "; ".join(problems))

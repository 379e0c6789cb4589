"""admit(): every rejection reason and its precedence, every zone source, not_before / deadline /
calling window of the first attempt, and what an admitted or rejected row carries.

The clock is a parameter: NOW is Wednesday 2026-11-18 12:00 Moscow (09:00Z), inside the default
call window (Mon–Fri 09:00–20:00, Sat 10:00–18:00, Sun closed) and the SMS one (09:00–21:00 daily).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cuckoo.config.policy import DEFAULT_SMS_WINDOW, PolicySettings
from cuckoo.domain import ChannelKind, IncomingNotification, Status
from cuckoo.errors import InputError
from cuckoo.intake.admission import (
    AdmissionContext,
    Admitted,
    Rejected,
    admit,
    first_channel,
)
from cuckoo.policy.windows import CallingWindow

NOW = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)  # Wed 12:00 Moscow
MSK, YEKB, OMSK = "Europe/Moscow", "Asia/Yekaterinburg", "Asia/Omsk"
MOBILE = "+79123456789"  # Orenburg mobile: Asia/Yekaterinburg
CALL, SMS, BOTH = ChannelKind.CALL, ChannelKind.SMS, ChannelKind.CALL_THEN_SMS
PETROV = {"first_name": "Иван", "patronymic": "Петрович", "last_name": "Петров"}
# What the store hands admit() once somebody else answered MOBILE for Петров.
WRONG_FOR_PETROV = ("default", MOBILE, "name:иван петров петрович")


def msk(d: int, h: int, mi: int = 0) -> datetime:
    """November 2026, Moscow time."""
    return datetime(2026, 11, d, h, mi, tzinfo=ZoneInfo(MSK))


def item(**kw: Any) -> IncomingNotification:
    base: dict[str, Any] = {
        "source": "erp",
        "external_id": "1",
        "phone": "8 (912) 345-67-89",
        "scenario": "order_ready",
        "variables": {"order": "A-1"},
        "timezone": MSK,
    }
    return IncomingNotification(**{**base, **kw})


@dataclass
class FakePolicy:
    """Tenant zones and windows by hand; `fail` makes one of its methods raise."""

    zones: dict[str, str] = field(default_factory=lambda: {"default": MSK, "omsk": OMSK})
    call_window: CallingWindow = field(default_factory=CallingWindow)
    sms_window: CallingWindow = DEFAULT_SMS_WINDOW
    fail: dict[str, Exception] = field(default_factory=dict)
    windows_asked: list[tuple[str, ChannelKind]] = field(default_factory=list)

    def tenant_timezone(self, tenant: str) -> str:
        if "tenant_timezone" in self.fail:
            raise self.fail["tenant_timezone"]
        return self.zones[tenant]

    def window_for(self, tenant: str, channel: ChannelKind) -> CallingWindow:
        if "window_for" in self.fail:
            raise self.fail["window_for"]
        self.windows_asked.append((tenant, channel))
        return self.sms_window if channel == SMS else self.call_window


def problems(scenario: str, variables: dict[str, Any]) -> list[str]:
    """A check_variables stand-in: order_ready needs `order`; `boom` raises."""
    if "boom" in variables:
        raise ValueError("template error: boom")
    out = []
    if scenario == "order_ready" and "order" not in variables:
        out.append("variable 'order' is missing")
    if "extra" in variables:
        out.append("variable 'extra' is not used")
    return out


def context(**kw: Any) -> AdmissionContext:
    base: dict[str, Any] = {
        "policy": FakePolicy(),
        "known_scenarios": {"order_ready", "debt"},
        "check_variables": problems,
    }
    return AdmissionContext(**{**base, **kw})


# ---- rejections ------------------------------------------------------------------------------

# (id, item fields, context fields, status, reason: full match, phone, timezone stored)
REJECTIONS: list[tuple[str, dict[str, Any], dict[str, Any], Status, str, str, str]] = [
    (
        "tenant zone fails with InputError",
        {},
        {"policy": FakePolicy(fail={"tenant_timezone": InputError("no such tenant 'x'")})},
        Status.INVALID,
        "no such tenant 'x'",
        "",
        "UTC",
    ),
    (
        "tenant zone fails with ValueError",
        {},
        {"policy": FakePolicy(fail={"tenant_timezone": ValueError("bad tenant")})},
        Status.INVALID,
        "bad tenant",
        "",
        "UTC",
    ),
    (
        "channel unknown",
        {"channel": "fax"},
        {},
        Status.INVALID,
        "channel 'fax': not one of call, sms, call_then_sms",
        "",
        MSK,
    ),
    (
        "variables not JSON",
        {"variables": {"when": object()}},
        {},
        Status.INVALID,
        r"variables are not JSON-serializable: Object of type object is not JSON serializable",
        "",
        MSK,
    ),
    (
        "variables not a mapping",
        {"variables": [1, 2]},
        {},
        Status.INVALID,
        r"variables are not JSON-serializable: .*",
        "",
        MSK,
    ),
    ("phone empty", {"phone": "  "}, {}, Status.INVALID, "phone is empty", "", MSK),
    (
        "phone with letters",
        {"phone": "8-912-ABC-67-89"},
        {},
        Status.INVALID,
        "phone '8-912-ABC-67-89': contains letters",
        "",
        MSK,
    ),
    (
        "phone too short",
        {"phone": "12"},
        {},
        Status.INVALID,
        "phone '12': wrong number of digits",
        "",
        MSK,
    ),
    (
        "phone with an extension",
        {"phone": "+7 495 123-45-67 доб. 12"},
        {},
        Status.INVALID,
        r"phone '\+7 495 123-45-67 доб. 12': has an extension \(12\); .*",
        "",
        MSK,
    ),
    (
        "phone not text",
        {"phone": 79123456789},
        {},
        Status.INVALID,
        "phone 79123456789: expected text, got int",
        "",
        MSK,
    ),
    (
        "scenario unknown",
        {"scenario": "nope"},
        {},
        Status.INVALID,
        r"unknown scenario 'nope' \(known: debt, order_ready\)",
        MOBILE,
        MSK,
    ),
    (
        "no scenario known at all",
        {},
        {"known_scenarios": set()},
        Status.INVALID,
        r"unknown scenario 'order_ready' \(known: none\)",
        MOBILE,
        MSK,
    ),
    (
        "variables do not fit the scenario",
        {"variables": {"extra": 1}},
        {},
        Status.INVALID,
        "scenario 'order_ready': variable 'order' is missing; variable 'extra' is not used",
        MOBILE,
        MSK,
    ),
    (
        "the variables check raises ValueError",
        {"variables": {"order": "A-1", "boom": 1}},
        {},
        Status.INVALID,
        "template error: boom",
        MOBILE,
        MSK,
    ),
    (
        "not_before naive",
        {"not_before": datetime(2026, 11, 18, 15, 0)},
        {},
        Status.INVALID,
        "not_before 2026-11-18T15:00:00 has no time zone",
        MOBILE,
        MSK,
    ),
    (
        "deadline naive",
        {"deadline": datetime(2026, 12, 1)},
        {},
        Status.INVALID,
        "deadline 2026-12-01T00:00:00 has no time zone",
        MOBILE,
        MSK,
    ),
    (
        "ERP zone not IANA",
        {"timezone": "MSK"},
        {},
        Status.INVALID,
        r"time zone 'MSK': not an IANA zone name \(e.g. 'Europe/Moscow', 'Asia/Yekaterinburg'\)",
        MOBILE,
        MSK,
    ),
    (
        "ERP zone misspelt",
        {"timezone": "Asia/Yekaterinbur"},
        {},
        Status.INVALID,
        "time zone 'Asia/Yekaterinbur': not an IANA zone name .*",
        MOBILE,
        MSK,
    ),
    (
        "window fails with ValueError",
        {},
        {"policy": FakePolicy(fail={"window_for": ValueError("no window")})},
        Status.INVALID,
        "no window",
        MOBILE,
        MSK,
    ),
    (
        "number blocked",
        {},
        {"blocked": {MOBILE}},
        Status.BLOCKED,
        r"\+79123456789 is on the do-not-call list",
        MOBILE,
        MSK,
    ),
    (
        "number blocked, written another way",
        {"phone": "+7 912 345 67 89", "timezone": None},
        {"blocked": frozenset({MOBILE, "+74951234567"})},
        Status.BLOCKED,
        r"\+79123456789 is on the do-not-call list",
        MOBILE,
        YEKB,
    ),
    (
        "a wrong number for this customer",
        {"variables": {"order": "A-1", "customer": PETROV}},
        {"wrong_numbers": {WRONG_FOR_PETROV}},
        Status.WRONG_NUMBER,
        r"wrong number: somebody else answered \+79123456789 for this customer before; not "
        r"dialled until the number is fixed \(`cuckoo unblock --wrong-number \+79123456789` "
        r"forgets it\)",
        MOBILE,
        MSK,
    ),
    (
        "deadline already passed",
        {"deadline": NOW - timedelta(hours=1)},
        {},
        Status.EXPIRED,
        r"first opening 2026-11-18 12:00 Europe/Moscow is after the deadline "
        r"2026-11-18T08:00:00\+00:00",
        MOBILE,
        MSK,
    ),
    (
        "deadline is now",
        {"deadline": NOW},
        {},
        Status.EXPIRED,
        r"first opening 2026-11-18 12:00 Europe/Moscow is after the deadline .*",
        MOBILE,
        MSK,
    ),
    (
        "deadline in the night before the next opening",
        {"not_before": msk(18, 20, 30), "deadline": msk(19, 8, 59)},
        {},
        Status.EXPIRED,
        r"first opening 2026-11-19 09:00 Europe/Moscow is after the deadline "
        r"2026-11-19T08:59:00\+03:00",
        MOBILE,
        MSK,
    ),
    (
        "deadline at the very opening",
        {"not_before": msk(18, 21), "deadline": msk(19, 9)},
        {},
        Status.EXPIRED,
        r"first opening 2026-11-19 09:00 Europe/Moscow is after the deadline .*",
        MOBILE,
        MSK,
    ),
    (
        "not_before after the deadline",
        {"not_before": msk(20, 12), "deadline": msk(20, 11)},
        {},
        Status.EXPIRED,
        r"first opening 2026-11-20 12:00 Europe/Moscow is after the deadline .*",
        MOBILE,
        MSK,
    ),
]


@pytest.mark.parametrize(
    ("fields", "ctx", "status", "reason", "phone", "tz"),
    [r[1:] for r in REJECTIONS],
    ids=[r[0] for r in REJECTIONS],
)
def test_rejections(
    fields: dict[str, Any],
    ctx: dict[str, Any],
    status: Status,
    reason: str,
    phone: str,
    tz: str,
) -> None:
    verdict = admit(item(**fields), context(**ctx), NOW)
    assert isinstance(verdict, Rejected)
    assert verdict.status == status
    assert re.fullmatch(reason, verdict.reason), verdict.reason
    assert (verdict.phone, verdict.timezone) == (phone, tz)


# The field each rejection names (Rejected.field), by the id above: what `cuckoo notify add`
# turns into the option to fix.
FIELDS = {
    "tenant zone fails with InputError": "tenant",
    "tenant zone fails with ValueError": "tenant",
    "channel unknown": "channel",
    "variables not JSON": "variables",
    "variables not a mapping": "variables",
    "phone empty": "phone",
    "phone with letters": "phone",
    "phone too short": "phone",
    "phone with an extension": "phone",
    "phone not text": "phone",
    "scenario unknown": "scenario",
    "no scenario known at all": "scenario",
    "variables do not fit the scenario": "variables",
    "the variables check raises ValueError": "variables",
    "not_before naive": "not_before",
    "deadline naive": "deadline",
    "ERP zone not IANA": "timezone",
    "ERP zone misspelt": "timezone",
    "window fails with ValueError": "",
    "number blocked": "phone",
    "number blocked, written another way": "phone",
    "a wrong number for this customer": "phone",
    "deadline already passed": "deadline",
    "deadline is now": "deadline",
    "deadline in the night before the next opening": "deadline",
    "deadline at the very opening": "deadline",
    "not_before after the deadline": "deadline",
}


@pytest.mark.parametrize(
    ("name", "fields", "ctx"), [r[:3] for r in REJECTIONS], ids=[r[0] for r in REJECTIONS]
)
def test_a_rejection_names_its_field(
    name: str, fields: dict[str, Any], ctx: dict[str, Any]
) -> None:
    verdict = admit(item(**fields), context(**ctx), NOW)
    assert isinstance(verdict, Rejected)
    assert verdict.field == FIELDS[name]


def test_every_rejection_status_is_final() -> None:
    assert {r[3] for r in REJECTIONS} == {
        Status.INVALID,
        Status.BLOCKED,
        Status.WRONG_NUMBER,
        Status.EXPIRED,
    }
    assert all(r[3].is_final for r in REJECTIONS)


# The first failing check decides: INVALID before BLOCKED before EXPIRED, and among the INVALID
# reasons the order of the module's table.
PRECEDENCE: list[tuple[str, dict[str, Any], dict[str, Any], Status, str]] = [
    ("channel before phone", {"channel": "fax", "phone": "12"}, {}, Status.INVALID, "channel"),
    (
        "variables before phone",
        {"variables": {"x": object()}, "phone": "12"},
        {},
        Status.INVALID,
        "variables",
    ),
    ("phone before scenario", {"phone": "12", "scenario": "nope"}, {}, Status.INVALID, "phone"),
    (
        "scenario before its variables",
        {"scenario": "nope", "variables": {"extra": 1}},
        {},
        Status.INVALID,
        "unknown scenario",
    ),
    (
        "variables before naive times",
        {"variables": {}, "deadline": datetime(2026, 12, 1)},
        {},
        Status.INVALID,
        "scenario 'order_ready'",
    ),
    (
        "naive times before the zone",
        {"deadline": datetime(2026, 12, 1), "timezone": "MSK"},
        {},
        Status.INVALID,
        "deadline",
    ),
    (
        "bad zone before blocked",
        {"timezone": "MSK"},
        {"blocked": {MOBILE}},
        Status.INVALID,
        "time zone",
    ),
    (
        "unknown scenario before blocked",
        {"scenario": "nope"},
        {"blocked": {MOBILE}},
        Status.INVALID,
        "unknown scenario",
    ),
    (
        "blocked before expired",
        {"deadline": NOW - timedelta(days=1)},
        {"blocked": {MOBILE}},
        Status.BLOCKED,
        "do-not-call",
    ),
    (
        "blocked before a wrong number",
        {"variables": {"order": "A-1", "customer": PETROV}},
        {"blocked": {MOBILE}, "wrong_numbers": {WRONG_FOR_PETROV}},
        Status.BLOCKED,
        "do-not-call",
    ),
    (
        "bad variables before a wrong number",
        {"scenario": "nope", "variables": {"order": "A-1", "customer": PETROV}},
        {"wrong_numbers": {WRONG_FOR_PETROV}},
        Status.INVALID,
        "unknown scenario",
    ),
    (
        "a wrong number before expired",
        {"variables": {"order": "A-1", "customer": PETROV}, "deadline": NOW - timedelta(days=1)},
        {"wrong_numbers": {WRONG_FOR_PETROV}},
        Status.WRONG_NUMBER,
        "wrong number",
    ),
]


@pytest.mark.parametrize(
    ("fields", "ctx", "status", "starts"),
    [r[1:] for r in PRECEDENCE],
    ids=[r[0] for r in PRECEDENCE],
)
def test_the_first_failing_check_decides(
    fields: dict[str, Any], ctx: dict[str, Any], status: Status, starts: str
) -> None:
    verdict = admit(item(**fields), context(**ctx), NOW)
    assert isinstance(verdict, Rejected)
    assert verdict.status == status
    assert starts in verdict.reason


@pytest.mark.parametrize(
    ("tenant", "variables"),
    [
        ("default", {"customer": {"first_name": "Ольга", "last_name": "Петрова"}}),
        ("default", {"customer": PETROV, "customer_id": 7}),  # the ERP's id wins over the name
        ("default", {"customer": ""}),  # the nameless customer is somebody else too
        ("omsk", {"customer": PETROV}),  # another tenant's Петров
    ],
    ids=["another-name", "an-id", "nameless", "another-tenant"],
)
def test_another_customer_at_a_wrong_number_is_admitted(
    tenant: str, variables: dict[str, Any]
) -> None:
    fields = {"tenant": tenant, "variables": {"order": "A-1", **variables}}
    verdict = admit(item(**fields), context(wrong_numbers={WRONG_FOR_PETROV}), NOW)
    assert isinstance(verdict, Admitted), verdict


def test_a_rejected_row_keeps_what_admission_worked_out() -> None:
    bad_channel = admit(item(channel="fax"), context(), NOW)
    assert (bad_channel.channel, bad_channel.variables) == (CALL, {})
    bad_vars = admit(item(channel=SMS, variables={"x": object()}), context(), NOW)
    assert (bad_vars.channel, bad_vars.variables) == (SMS, {})
    bad_phone = admit(item(channel=BOTH, phone="12"), context(), NOW)
    assert (bad_phone.channel, bad_phone.first_channel) == (BOTH, CALL)
    assert bad_phone.variables == {"order": "A-1"}
    blocked = admit(item(channel=SMS), context(blocked={MOBILE}), NOW)
    assert (blocked.phone, blocked.channel, blocked.first_channel) == (MOBILE, SMS, SMS)


def test_no_check_when_the_context_knows_no_scenarios_nor_variables() -> None:
    ctx = context(known_scenarios=None, check_variables=None)
    verdict = admit(item(scenario="anything", variables={"extra": 1}), ctx, NOW)
    assert isinstance(verdict, Admitted)


# ---- the customer's zone ---------------------------------------------------------------------

# (id, ERP zone, phone, tenant, zone)
ZONES: list[tuple[str, str | None, str, str, str]] = [
    ("ERP zone wins over the number", OMSK, MOBILE, "default", OMSK),
    ("ERP zone is stripped", "  Asia/Omsk ", MOBILE, "default", OMSK),
    (
        "ERP zone wins over the tenant",
        "Asia/Vladivostok",
        "+79990000000",
        "omsk",
        "Asia/Vladivostok",
    ),
    ("no ERP zone: the mobile's region", None, MOBILE, "default", YEKB),
    ("empty ERP zone: the number", "", MOBILE, "default", YEKB),
    ("blank ERP zone: the number", "   ", "+79004400000", "default", "Asia/Kamchatka"),
    ("landline", None, "8 (4012) 12-34-56", "default", "Europe/Kaliningrad"),
    ("foreign number", None, "+49 30 12345678", "default", "Europe/Berlin"),
    ("number of all Russia: the tenant's", None, "+79990000000", "default", MSK),
    ("another tenant's zone", None, "+79990000000", "omsk", OMSK),
    ("ambiguous district: the tenant's", None, "+79841234567", "omsk", OMSK),
    ("Kazakh mobile, several zones: the tenant's", None, "+77011234567", "omsk", OMSK),
]


@pytest.mark.parametrize(
    ("erp_tz", "phone", "tenant", "zone"), [z[1:] for z in ZONES], ids=[z[0] for z in ZONES]
)
def test_zone_sources(erp_tz: str | None, phone: str, tenant: str, zone: str) -> None:
    verdict = admit(item(timezone=erp_tz, phone=phone, tenant=tenant), context(), NOW)
    assert isinstance(verdict, Admitted), verdict
    assert verdict.timezone == zone


def test_tenant_zone_of_the_real_settings() -> None:
    policy = PolicySettings.model_validate(
        {"default_timezone": "Asia/Novosibirsk", "tenants": {"omsk": {"timezone": OMSK}}}
    )
    ctx = context(policy=policy)
    anywhere = item(timezone=None, phone="+79990000000")
    assert admit(anywhere, ctx, NOW).timezone == "Asia/Novosibirsk"
    assert admit(replace(anywhere, tenant="omsk"), ctx, NOW).timezone == OMSK


def test_default_region_reads_a_number_without_its_country_code() -> None:
    verdict = admit(item(phone="030 12345678", timezone=None), context(default_region="DE"), NOW)
    assert isinstance(verdict, Admitted)
    assert (verdict.phone, verdict.timezone) == ("+493012345678", "Europe/Berlin")
    assert isinstance(admit(item(phone="030 12345678"), context(), NOW), Rejected)


# ---- the first attempt: not_before, deadline, window -----------------------------------------

SAT_WINDOW = CallingWindow(mon=(), tue=(), wed=(), thu=(), fri=(), sat=((10 * 60, 18 * 60),))

# (id, item fields, now, next attempt, reason)
FIRST: list[tuple[str, dict[str, Any], datetime, datetime, str]] = [
    ("now, inside the window", {}, NOW, NOW, "first attempt"),
    ("not_before in the past", {"not_before": NOW - timedelta(days=2)}, NOW, NOW, "first attempt"),
    ("not_before later today", {"not_before": msk(18, 15)}, NOW, msk(18, 15), "first attempt"),
    (
        "not_before in another offset",
        {"not_before": datetime(2026, 11, 18, 17, 0, tzinfo=ZoneInfo(YEKB))},
        NOW,
        msk(18, 15),
        "first attempt",
    ),
    (
        "not_before after closing",
        {"not_before": msk(18, 20, 30)},
        NOW,
        msk(19, 9),
        "first attempt at the window opening 2026-11-19 09:00 Europe/Moscow",
    ),
    (
        "before opening",
        {},
        msk(18, 7),
        msk(18, 9),
        "first attempt at the window opening 2026-11-18 09:00 Europe/Moscow",
    ),
    (
        "the customer's morning, not Moscow's",
        {"timezone": None},  # Yekaterinburg: two hours ahead of Moscow
        msk(18, 5),
        msk(18, 7),
        "first attempt at the window opening 2026-11-18 09:00 Asia/Yekaterinburg",
    ),
    (
        "Friday night: Saturday's later opening",
        {},
        msk(20, 21),
        msk(21, 10),
        "first attempt at the window opening 2026-11-21 10:00 Europe/Moscow",
    ),
    (
        "Saturday evening: Sunday is closed",
        {},
        msk(21, 18, 30),
        msk(23, 9),
        "first attempt at the window opening 2026-11-23 09:00 Europe/Moscow",
    ),
    (
        "public holiday (4 November) is skipped",
        {},
        msk(3, 21),
        msk(5, 9),
        "first attempt at the window opening 2026-11-05 09:00 Europe/Moscow",
    ),
    ("deadline after the opening", {"deadline": msk(18, 12, 1)}, NOW, NOW, "first attempt"),
    (
        "deadline the next day, opening before it",
        {"deadline": msk(19, 9, 1)},
        msk(18, 22),
        msk(19, 9),
        "first attempt at the window opening 2026-11-19 09:00 Europe/Moscow",
    ),
    (
        "SMS: its own window, open on Sunday",
        {"channel": SMS},
        msk(22, 12),
        msk(22, 12),
        "first attempt",
    ),
    (
        "SMS at night: 09:00 next day, even on a Sunday",
        {"channel": SMS},
        msk(21, 22),
        msk(22, 9),
        "first attempt at the window opening 2026-11-22 09:00 Europe/Moscow",
    ),
    (
        "call_then_sms starts with the call window",
        {"channel": BOTH},
        msk(22, 12),
        msk(23, 9),
        "first attempt at the window opening 2026-11-23 09:00 Europe/Moscow",
    ),
]


@pytest.mark.parametrize(
    ("fields", "now", "at", "reason"), [f[1:] for f in FIRST], ids=[f[0] for f in FIRST]
)
def test_first_attempt(fields: dict[str, Any], now: datetime, at: datetime, reason: str) -> None:
    verdict = admit(item(**fields), context(), now)
    assert isinstance(verdict, Admitted), verdict
    assert verdict.next_attempt_at == at
    assert verdict.reason == reason


def test_the_window_asked_for_is_the_first_channel_of_the_tenant() -> None:
    policy = FakePolicy()
    ctx = context(policy=policy)
    for channel in (CALL, SMS, BOTH):
        admit(item(channel=channel, tenant="omsk"), ctx, NOW)
    assert policy.windows_asked == [("omsk", CALL), ("omsk", SMS), ("omsk", CALL)]


def test_a_closed_custom_window_expires_against_a_deadline() -> None:
    ctx = context(policy=FakePolicy(call_window=SAT_WINDOW))  # Saturdays only, 10:00–18:00
    ok = admit(item(), ctx, NOW)
    assert isinstance(ok, Admitted) and ok.next_attempt_at == msk(21, 10)
    late = admit(item(deadline=msk(21, 10)), ctx, NOW)
    assert isinstance(late, Rejected) and late.status == Status.EXPIRED


# ---- what an admitted row carries ------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "first"),
    [(CALL, CALL), (SMS, SMS), (BOTH, CALL), ("sms", SMS), ("call_then_sms", CALL)],
)
def test_channels(channel: ChannelKind | str, first: ChannelKind) -> None:
    verdict = admit(item(channel=channel), context(), NOW)
    assert isinstance(verdict, Admitted)
    assert verdict.channel == ChannelKind(channel)
    assert verdict.first_channel == first == first_channel(ChannelKind(channel))


def test_admitted_fields() -> None:
    verdict = admit(item(timezone=None), context(), NOW)
    assert verdict == Admitted(
        phone=MOBILE,
        timezone=YEKB,
        channel=CALL,
        variables={"order": "A-1"},
        next_attempt_at=NOW,
        reason="first attempt",
    )


def test_variables_are_a_json_copy_and_the_item_is_not_touched() -> None:
    variables: dict[str, Any] = {"order": "A-1", "items": ("a", "b"), "customer": {"name": "Пётр"}}
    row = item(variables=variables)
    verdict = admit(row, context(), NOW)
    assert verdict.variables == {"order": "A-1", "items": ["a", "b"], "customer": {"name": "Пётр"}}
    assert verdict.variables["customer"] is not variables["customer"]
    assert row.variables["items"] == ("a", "b")
    assert admit(row, context(), NOW) == verdict  # same answer twice: nothing kept in between

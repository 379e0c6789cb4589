"""[policy] settings: defaults, the documented cuckoo.toml section, partial overrides, errors."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from cuckoo.config import Config, parse
from cuckoo.config.policy import DEFAULT_SMS_WINDOW, PolicySettings
from cuckoo.domain import ChannelKind
from cuckoo.errors import ConfigError
from cuckoo.policy.percustomer import PhoneLimits
from cuckoo.policy.retry import RetryPolicy
from cuckoo.policy.windows import CallingWindow

TOML = Path(__file__).resolve().parents[2] / "cuckoo.toml"


def policy_of(text: str) -> PolicySettings:
    return parse(text).policy


def test_empty_file_gives_defaults() -> None:
    p = policy_of("")
    assert p == PolicySettings() == Config().policy
    assert p.policy_for("any", "any") == RetryPolicy()
    assert p.window_for("any", ChannelKind.CALL) == CallingWindow()
    assert p.window_for("any", ChannelKind.SMS) == DEFAULT_SMS_WINDOW
    assert p.tenant_timezone("any") == "Europe/Moscow"


def _policy_section_uncommented() -> str:
    text = TOML.read_text(encoding="utf-8")
    section = text.split("# ---- [policy]", 1)[1].split("\n# ---- [", 1)[0]
    lines = []
    for line in section.splitlines()[1:]:  # [0] is the rest of the banner line
        m = re.match(r"^# (\[policy[^\]]*\]|[a-z_]+ = .*)$", line)
        lines.append(m.group(1) if m else line)
    return "\n".join(lines)


def test_documented_defaults_match_the_code() -> None:
    text = _policy_section_uncommented()
    assert "[policy.retry.retry_after]" in text and "max_contacts = 3" in text
    p = policy_of(text)
    assert p.retry == RetryPolicy()
    assert p.window == CallingWindow()
    assert p.sms_window == DEFAULT_SMS_WINDOW
    assert p.default_timezone == "Europe/Moscow"
    assert "max_calls_per_phone_per_day = 3" in text
    assert "min_minutes_between_calls_to_phone = 30" in text
    assert p.phone_limits() == PolicySettings().phone_limits() == PhoneLimits()
    # and the documented examples do what they say
    assert p.policy_for("x", "order_ready").max_contacts == 2
    assert p.policy_for("acme", "x").max_attempts == 4
    assert p.window_for("acme", ChannelKind.CALL).sat == ()
    assert p.tenant_timezone("acme") == "Asia/Yekaterinburg"


OVERRIDES = """
[policy.retry]
max_contacts = 4
[policy.retry.retry_after]
busy = 10

[policy.window]
mon = ["09:00-13:00", "14:00-20:00"]
sat = "11:00-15:00"
closed_dates = [2026-12-30]

[policy.scenarios.order_ready]
max_attempts = 2
[policy.scenarios.order_ready.retry_after]
no_answer = 30

[policy.tenants.acme]
timezone = "Asia/Yekaterinburg"
[policy.tenants.acme.window]
sun = ["12:00-14:00"]
[policy.tenants.acme.sms_window]
sun = []
[policy.tenants.acme.retry]
max_contacts = 2
"""


def test_overrides_are_partial_and_layered() -> None:
    p = policy_of(OVERRIDES)
    base = p.policy_for("other", "other")
    assert (base.max_contacts, base.max_attempts, base.retry_after.busy) == (4, 6, 10)
    assert base.retry_after.no_answer == 60

    scenario = p.policy_for("other", "order_ready")
    assert (scenario.max_contacts, scenario.max_attempts) == (4, 2)  # global key kept
    assert (scenario.retry_after.busy, scenario.retry_after.no_answer) == (10, 30)

    both = p.policy_for("acme", "order_ready")
    assert (both.max_contacts, both.max_attempts, both.retry_after.no_answer) == (2, 2, 30)
    assert p.policy_for("acme", "other").max_attempts == 6


def test_windows_per_tenant_and_channel() -> None:
    p = policy_of(OVERRIDES)
    other = p.window_for("other", ChannelKind.CALL)
    assert other.mon == ((540, 780), (840, 1200))
    assert other.sat == ((660, 900),)
    assert other.sun == ()
    acme = p.window_for("acme", ChannelKind.CALL)
    assert acme.sun == ((720, 840),)
    assert acme.mon == other.mon  # days not named by the tenant come from [policy.window]
    assert acme.closed_dates == other.closed_dates == {date(2026, 12, 30)}
    assert p.window_for("acme", ChannelKind.CALL_THEN_SMS) == acme  # starts with calls
    acme_sms = p.window_for("acme", ChannelKind.SMS)
    assert acme_sms.sun == ()
    assert acme_sms.sat == DEFAULT_SMS_WINDOW.sat
    assert acme_sms.skip_holidays is False
    assert p.window_for("other", ChannelKind.SMS) == DEFAULT_SMS_WINDOW
    assert p.tenant_timezone("acme") == "Asia/Yekaterinburg"
    assert p.tenant_timezone("other") == "Europe/Moscow"


def test_tenant_without_timezone_uses_default() -> None:
    p = policy_of('[policy]\ndefault_timezone = "Asia/Omsk"\n[policy.tenants.b.window]\nsun = []\n')
    assert p.tenant_timezone("b") == "Asia/Omsk"


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        (
            '[policy.window]\nmon = ["9:00-25:00"]\n',
            "cuckoo.toml:2: [policy.window.mon.0]",
            "25:00",
        ),
        ('[policy.window]\nmon = ["20:00-09:00"]\n', "[policy.window.mon.0]", "before end"),
        (
            '[policy.window]\nmon = ["09:00-13:00", "12:00-14:00"]\n',
            "[policy.window.mon]",
            "overlap",
        ),
        (
            '[policy.tenants.acme]\ntimezone = "Asia/Yekaterinbur"\n',
            "cuckoo.toml:2: [policy.tenants.acme.timezone]",
            "'Asia/Yekaterinbur' is not an IANA time zone name",
        ),
        ('[policy]\ndefault_timezone = "MSK"\n', "[policy.default_timezone]", "not an IANA"),
        ("[policy.retry]\nmax_contact = 3\n", "cuckoo.toml:2: [policy.retry.max_contact]", "Extra"),
        ("[policy.retry]\nmax_contacts = 0\n", "[policy.retry.max_contacts]", "greater than"),
        ('[policy.retry]\nvoicemail = "drop"\n', "[policy.retry.voicemail]", "'retry'"),
        ("[policy.retry.retry_after]\nbusy = 0\n", "[policy.retry.retry_after.busy]", "greater"),
        (
            "[policy.scenarios.x]\nmax_attempts = -1\n",
            "cuckoo.toml:2: [policy.scenarios.x.max_attempts]",
            "greater",
        ),
        (
            "[policy]\nmax_calls_per_phone_per_day = -1\n",
            "cuckoo.toml:2: [policy.max_calls_per_phone_per_day]",
            "greater than or equal to 0",
        ),
        (
            "[policy]\nmin_minutes_between_calls_to_phone = 2000\n",
            "[policy.min_minutes_between_calls_to_phone]",
            "less than or equal to 1440",
        ),
        (
            "[policy.tenants.t.window]\nfriday = []\n",
            "[policy.tenants.t.window.friday]",
            "Extra",
        ),
    ],
)
def test_errors_name_the_key_and_line(text: str, where: str, message: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse(text)
    assert where in str(e.value)
    assert message in str(e.value)


def test_phone_limits_come_from_the_policy_section() -> None:
    p = policy_of(
        "[policy]\nmax_calls_per_phone_per_day = 0\nmin_minutes_between_calls_to_phone = 5\n"
    )
    assert p.phone_limits() == PhoneLimits(0, timedelta(minutes=5))


def test_settings_are_frozen() -> None:
    p = PolicySettings()
    with pytest.raises(ValueError):
        p.default_timezone = "Asia/Omsk"  # type: ignore[misc]
    with pytest.raises(ValueError):
        p.retry.max_contacts = 9  # type: ignore[misc]

"""Number → SIP URI for the trunk. Pure logic."""

from __future__ import annotations

import re

from cuckoo.config.telephony import DialRule, TelephonySettings
from cuckoo.errors import InputError


def is_sip_uri(target: str) -> bool:
    return target.startswith(("sip:", "sips:"))


def rewrite(number: str, rules: list[DialRule]) -> str:
    """First matching rule wins; no rule matches: the number as is (without a leading +
    only if a rule says so)."""
    for rule in rules:
        m = re.fullmatch(rule.match, number)
        if m:
            return m.expand(rule.replace)
    return number


def target_uri(target: str, settings: TelephonySettings) -> str:
    """A SIP URI as is; a number goes to the trunk through the dial plan."""
    if is_sip_uri(target):
        return target
    domain = settings.trunk.domain
    if not domain:
        raise InputError(
            f"cannot dial {target!r}: no trunk configured ([telephony.trunk] domain), "
            "so the target must be a SIP URI such as sip:customer@127.0.0.1:5090"
        )
    number = re.sub(r"[\s()\-]", "", target)
    if not re.fullmatch(r"\+?[0-9*#]+", number):
        raise InputError(f"cannot dial {target!r}: not a phone number or SIP URI")
    user = rewrite(number, settings.dial_plan)
    scheme = "sips" if settings.transport == "tls" else "sip"
    tparam = f";transport={settings.transport}" if settings.transport != "udp" else ""
    return f"{scheme}:{user}@{domain}{tparam}"

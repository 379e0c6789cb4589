"""Number → SIP URI for the trunk. Pure logic."""

from __future__ import annotations

import re

from cuckoo.config.telephony import DialRule, TelephonySettings, TrunkSettings
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


def first_trunk(settings: TelephonySettings) -> TrunkSettings | None:
    """The trunk tried first (lowest priority number); None without any."""
    pool = settings.trunk_pool
    if not pool:
        return None
    return pool[min(pool, key=lambda name: (pool[name].priority, name))]


def target_uri(target: str, settings: TelephonySettings, trunk: TrunkSettings | None = None) -> str:
    """A SIP URI as is; a number goes to `trunk` (default: the first) through its dial plan."""
    if is_sip_uri(target):
        return target
    trunk = trunk or first_trunk(settings)
    if trunk is None or not trunk.domain:
        raise InputError(
            f"cannot dial {target!r}: no trunk configured ([telephony.trunk] domain), "
            "so the target must be a SIP URI such as sip:customer@127.0.0.1:5090"
        )
    domain = trunk.domain
    number = re.sub(r"[\s()\-]", "", target)
    if not re.fullmatch(r"\+?[0-9*#]+", number):
        raise InputError(f"cannot dial {target!r}: not a phone number or SIP URI")
    rules = trunk.dial_plan if trunk.dial_plan is not None else settings.dial_plan
    user = rewrite(number, rules)
    scheme = "sips" if settings.transport == "tls" else "sip"
    tparam = f";transport={settings.transport}" if settings.transport != "udp" else ""
    return f"{scheme}:{user}@{domain}{tparam}"


def caller_uri(number_or_uri: str, trunk: TrunkSettings, settings: TelephonySettings) -> str:
    """The From URI that shows `number_or_uri` to the customer through `trunk`."""
    if not number_or_uri or is_sip_uri(number_or_uri):
        return number_or_uri
    scheme = "sips" if settings.transport == "tls" else "sip"
    return f"{scheme}:{number_or_uri}@{trunk.domain.split(';')[0]}"

"""SMS channel: SMPP, HTTP, SNPP, smstools and GSM modem gateway senders, delivery receipts,
segment counting.

from cuckoo.sms import SmsChannel, build_gateways, segments
gateways, webhook = build_gateways(config.sms)
channel = SmsChannel(config.sms, gateways, text_for=..., is_blocked=..., on_receipt=...)
"""

from __future__ import annotations

from collections.abc import Callable

from cuckoo.config.sms import (
    HttpGatewaySettings,
    ModemGatewaySettings,
    SmsSettings,
    SmstoolsGatewaySettings,
    SnppGatewaySettings,
)
from cuckoo.domain import Notification
from cuckoo.errors import ConfigError
from cuckoo.sms.channel import SmsChannel
from cuckoo.sms.gateway import ReceiptStatus, SmsGateway, SubmitResult, SubmitState
from cuckoo.sms.http import HttpGateway, ReceiptWebhook
from cuckoo.sms.modem import ModemGateway
from cuckoo.sms.segments import Encoding, check_text, segments, split
from cuckoo.sms.smstools import SmstoolsGateway
from cuckoo.sms.snpp import SnppGateway

__all__ = [
    "Encoding",
    "ReceiptStatus",
    "SmsChannel",
    "SmsGateway",
    "SubmitResult",
    "SubmitState",
    "build_channel",
    "build_gateway",
    "build_gateways",
    "check_text",
    "segments",
    "split",
]


def build_gateway(
    name: str, settings: SmsSettings, webhook: ReceiptWebhook | None = None
) -> SmsGateway:
    """One configured gateway, connecting (SMPP) or polling (HTTP) from now on; SNPP connects
    per message; a modem opens its port at the first send; smstools reads its spool folders
    once a receipt handler is set."""
    try:
        gw = settings.gateways[name]
    except KeyError:
        raise ConfigError(f"cuckoo.toml: [sms.gateways.{name}] is not configured") from None
    if isinstance(gw, HttpGatewaySettings):
        try:
            return HttpGateway(name, gw, webhook=webhook)
        except ValueError as e:
            raise ConfigError(f"cuckoo.toml: {e}") from e
    if isinstance(gw, SnppGatewaySettings):
        return SnppGateway(name, gw)  # connects per message: nothing to open yet
    if isinstance(gw, SmstoolsGatewaySettings):
        return SmstoolsGateway(name, gw)
    if isinstance(gw, ModemGatewaySettings):
        return ModemGateway(name, gw)
    try:
        from cuckoo.sms.smpp import SmppGateway  # needs the optional smpplib ('cuckoo[sms]')
    except ImportError as e:
        raise ConfigError(f"[sms.gateways.{name}]: {e}") from e
    return SmppGateway(name, gw)


def build_gateways(
    settings: SmsSettings, names: list[str] | None = None
) -> tuple[dict[str, SmsGateway], ReceiptWebhook | None]:
    """All (or the named) gateways, plus the receipt listener if any of them needs it.
    The caller closes both."""
    names = list(settings.gateways) if names is None else names
    webhook = None
    if any(
        isinstance(settings.gateways.get(n), HttpGatewaySettings)
        and settings.gateways[n].receipts == "webhook"  # type: ignore[union-attr]
        for n in names
    ):
        webhook = ReceiptWebhook(settings.webhook)
    return {n: build_gateway(n, settings, webhook) for n in names}, webhook


def build_channel(
    settings: SmsSettings,
    *,
    text_for: Callable[[Notification], str],
    is_blocked: Callable[[str], bool],
    on_receipt: Callable[[str, str], bool | None],
) -> SmsChannel:
    """The SMS channel with every configured gateway (and the receipt listener if needed).
    `channel.close()` closes them all."""
    gateways, webhook = build_gateways(settings)
    return SmsChannel(
        settings,
        gateways,
        text_for=text_for,
        is_blocked=is_blocked,
        on_receipt=on_receipt,
        webhook=webhook,
    )

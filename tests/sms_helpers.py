"""What the SMS gateway tests share: a receipt collector, a notification to text, and the SMS
channel over one gateway."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from cuckoo.config.sms import SmsSettings
from cuckoo.domain import ChannelKind, Notification
from cuckoo.sms.channel import SmsChannel
from cuckoo.sms.gateway import SmsGateway


class Receipts:
    """A receipt handler that keeps (message id, status) and lets a test wait for them."""

    def __init__(self) -> None:
        self.got: list[tuple[str, str]] = []
        self._cond = threading.Condition()

    def __call__(self, message_id: str, status: str) -> None:
        with self._cond:
            self.got.append((message_id, status))
            self._cond.notify_all()

    def wait(self, count: int, timeout: float = 10.0) -> list[tuple[str, str]]:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.got) >= count, timeout), self.got
        return self.got


def sms_notification(phone: str, id: int = 7) -> Notification:
    return Notification(
        id=id,
        source="erp",
        external_id=f"C-{id}",
        tenant="default",
        phone=phone,
        phone_raw=phone,
        channel=ChannelKind.SMS,
        scenario="order_ready",
        variables={},
        timezone="Europe/Moscow",
        attempt_no=1,
        contacts=0,
    )


def channel_for(gw: SmsGateway, receipts: Receipts, text: str) -> SmsChannel:
    """The SMS channel sending `text` through `gw` alone, receipts to `receipts`."""
    return SmsChannel(
        SmsSettings(sender="Shop"),
        {gw.name: gw},
        text_for=lambda n: text,
        is_blocked=lambda p: False,
        on_receipt=receipts,
        clock=lambda: datetime.now(UTC),
    )

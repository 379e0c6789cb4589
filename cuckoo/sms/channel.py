"""SmsChannel: the SMS `Channel` — one attempt = one message through the tenant's gateway.

`deliver(notification)` renders the scenario's text and sends it; `send_text(notification, text)`
sends a text rendered elsewhere (an `sms:` step of a call's dialog, see Scheduler.
flush_sms_requests). Both go through the same checks: do-not-contact list, length, gateway.

What the integrator injects:
    text_for(notification) -> str          the scenario's `sms:` template, rendered
    is_blocked(phone) -> bool              the store's do-not-contact check
    on_receipt(gateway_message_id, status) the store's update_receipt; status is
                                           "delivered" | "undeliverable" | "expired";
                                           returns False when no row has that id (yet)
A receipt can overtake the row it belongs to: the SMSC may answer before the sender has stored
the message id. Such a receipt is held (EARLY_RECEIPT_S) until the sender calls
`row_stored(gateway_message_id)` after its commit, then applied.

Night-time rules are the scheduler's calling window, not this module's.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Protocol

from cuckoo.config.sms import SmsSettings
from cuckoo.domain import AttemptResult, ChannelKind, Notification, Outcome
from cuckoo.sms.gateway import SmsGateway, SubmitState
from cuckoo.sms.segments import segments

log = logging.getLogger(__name__)

EARLY_RECEIPT_S = 300.0  # how long a receipt waits for its row before it is logged as unknown


class Closable(Protocol):
    def close(self) -> None: ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SmsChannel:
    kind = ChannelKind.SMS

    def __init__(
        self,
        settings: SmsSettings,
        gateways: Mapping[str, SmsGateway],
        *,
        text_for: Callable[[Notification], str],
        is_blocked: Callable[[str], bool],
        on_receipt: Callable[[str, str], bool | None],
        clock: Callable[[], datetime] = _utcnow,
        webhook: Closable | None = None,
    ) -> None:
        self.settings = settings
        self.webhook = webhook
        self.gateways = dict(gateways)
        self._text_for = text_for
        self._is_blocked = is_blocked
        self._on_receipt = on_receipt
        self._clock = clock
        # Receipts whose row was not there yet: message id -> (status, monotonic time). The
        # lock makes "no row, so hold it" and "row stored, take what is held" exclusive.
        self._early: dict[str, tuple[str, float]] = {}
        self._early_lock = threading.Lock()
        for gateway in self.gateways.values():
            gateway.set_receipt_handler(self._receipt)

    def close(self) -> None:
        """Close every gateway (SMPP unbinds) and the receipt listener, if this channel owns one."""
        for gateway in self.gateways.values():
            gateway.close()
        if self.webhook is not None:
            self.webhook.close()

    def _receipt(self, gateway_message_id: str, status: str) -> None:
        log.info("SMS receipt %s: %s", gateway_message_id, status)
        now = time.monotonic()
        with self._early_lock:
            if self._on_receipt(gateway_message_id, status) is False:
                self._early[gateway_message_id] = (status, now)
            for mid, (st, at) in list(self._early.items()):
                if now - at > EARLY_RECEIPT_S:
                    del self._early[mid]
                    log.warning("SMS receipt for unknown message %s (%s)", mid, st)

    def row_stored(self, gateway_message_id: str | None) -> None:
        """The sender has committed the row with this message id: apply a receipt that came
        before it."""
        if not gateway_message_id:
            return
        with self._early_lock:
            held = self._early.pop(gateway_message_id, None)
        if held is not None:
            self._on_receipt(gateway_message_id, held[0])

    def _result(
        self, outcome: Outcome, started: datetime, detail: str, **kw: object
    ) -> AttemptResult:
        return AttemptResult(
            outcome=outcome,
            started_at=started,
            ended_at=self._clock(),
            detail=detail,
            **kw,  # type: ignore[arg-type]
        )

    def deliver(self, notification: Notification) -> AttemptResult:
        """One SMS attempt: the scenario's `sms:` template rendered for this notification."""
        started = self._clock()
        n = notification
        try:
            text = self._text_for(n)
        except Exception as e:  # a template error is the scenario's fault: say which
            return self._result(
                Outcome.UNDELIVERABLE, started, f"SMS text for scenario {n.scenario!r} failed: {e}"
            )
        return self._send(n, text, started)

    def send_text(self, notification: Notification, text: str) -> AttemptResult:
        """Send `text` (already rendered, e.g. by a call's `sms:` step) to the notification's
        phone: SENT (with the gateway's message id), UNDELIVERABLE (blocked number, refused, too
        long: retrying cannot help) or NETWORK (gateway down or missing: try again later)."""
        return self._send(notification, text, self._clock())

    def _send(self, n: Notification, text: str, started: datetime) -> AttemptResult:
        if self._is_blocked(n.phone):
            return self._result(
                Outcome.UNDELIVERABLE,
                started,
                f"blocked: {n.phone} is on the do-not-contact list; SMS not sent",
            )
        text = text.strip()
        if not text:
            return self._result(
                Outcome.UNDELIVERABLE, started, f"SMS text for scenario {n.scenario!r} is empty"
            )
        encoding, count = segments(text)
        if count > self.settings.max_segments:
            return self._result(
                Outcome.UNDELIVERABLE,
                started,
                f"SMS text for scenario {n.scenario!r} needs {count} {encoding} parts; "
                f"[sms] max_segments = {self.settings.max_segments}",
            )
        name = self.settings.tenant_gateways.get(n.tenant) or self.settings.gateway
        if not name and len(self.gateways) == 1:
            name = next(iter(self.gateways))
        gateway = self.gateways.get(name)
        if gateway is None:
            # A config problem, not the customer's: NETWORK keeps the notification for later.
            return self._result(
                Outcome.NETWORK, started, f"no SMS gateway {name!r} for tenant {n.tenant!r}"
            )
        sender = self.settings.sender_for(n.tenant)
        sent = gateway.send(n.phone, text, sender)
        if sent.state is SubmitState.ACCEPTED:
            return self._result(
                Outcome.SENT,
                started,
                f"accepted by {name}: {count} {encoding} part(s) from {sender!r}",
                said=[text],
                gateway_message_id=sent.message_id,
            )
        if sent.state is SubmitState.REFUSED:
            return self._result(Outcome.UNDELIVERABLE, started, f"{name}: {sent.error}")
        return self._result(Outcome.NETWORK, started, f"{name}: {sent.error}")

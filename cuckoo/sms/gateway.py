"""The one small interface every SMS gateway implements, and the pure helpers they share.

    SmsGateway.send(to, text, sender) -> SubmitResult      blocking, thread-safe
    SmsGateway.set_receipt_handler(fn(message_id, status))  receipts arrive later, on any thread

SubmitResult.state:
    ACCEPTED     the gateway took the message; message_id matches its receipts later
    REFUSED      the gateway said no (bad number, no money, banned text): retrying won't help
    UNREACHABLE  could not get an answer in time (link down, throttled too long): the message
                 was not accepted; the scheduler retries the attempt later
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


class SubmitState(enum.StrEnum):
    ACCEPTED = "accepted"
    REFUSED = "refused"
    UNREACHABLE = "unreachable"


class ReceiptStatus(enum.StrEnum):
    DELIVERED = "delivered"
    UNDELIVERABLE = "undeliverable"
    EXPIRED = "expired"


@dataclass(frozen=True)
class SubmitResult:
    state: SubmitState
    message_id: str | None = None
    error: str = ""  # the gateway's words when refused / why unreachable
    parts: int = 1

    @property
    def accepted(self) -> bool:
        return self.state is SubmitState.ACCEPTED


ReceiptHandler = Callable[[str, str], None]  # (gateway_message_id, ReceiptStatus value)


class SmsGateway(Protocol):
    name: str

    def send(self, to: str, text: str, sender: str) -> SubmitResult: ...

    def set_receipt_handler(self, handler: ReceiptHandler) -> None: ...

    def close(self) -> None: ...


# --- SMPP delivery receipts (SMPP 3.4 appendix B: "id:… sub:… dlvrd:… … stat:DELIVRD err:…")

_RECEIPT_FIELD = re.compile(r"(id|stat|err):\s*(\S+)", re.IGNORECASE)

# stat: values. ACCEPTD/ENROUTE/UNKNOWN are interim and yield no outcome.
_STAT_MAP = {
    "DELIVRD": ReceiptStatus.DELIVERED,
    "DELIVERED": ReceiptStatus.DELIVERED,
    "EXPIRED": ReceiptStatus.EXPIRED,
    "UNDELIV": ReceiptStatus.UNDELIVERABLE,
    "UNDELIVERABLE": ReceiptStatus.UNDELIVERABLE,
    "REJECTD": ReceiptStatus.UNDELIVERABLE,
    "REJECTED": ReceiptStatus.UNDELIVERABLE,
    "DELETED": ReceiptStatus.UNDELIVERABLE,
}

# message_state TLV (SMPP 3.4 §5.2.28)
_STATE_MAP = {
    2: ReceiptStatus.DELIVERED,
    3: ReceiptStatus.EXPIRED,
    4: ReceiptStatus.UNDELIVERABLE,  # DELETED
    5: ReceiptStatus.UNDELIVERABLE,
    8: ReceiptStatus.UNDELIVERABLE,  # REJECTED
}


@dataclass(frozen=True)
class Receipt:
    message_id: str
    status: ReceiptStatus | None  # None: interim state (enroute, accepted, unknown)
    stat: str  # the raw stat / state, for logs
    err: str = ""


def parse_receipt(
    short_message: bytes | str | None,
    receipted_message_id: bytes | str | None = None,
    message_state: int | None = None,
) -> Receipt | None:
    """A deliver_sm receipt → Receipt, preferring the TLVs over the text. None if it has no id."""

    def text(v: bytes | str | None) -> str:
        if v is None:
            return ""
        return v.decode("latin-1") if isinstance(v, bytes) else v

    body = text(short_message)
    fields = {k.lower(): v for k, v in _RECEIPT_FIELD.findall(body)}
    mid = text(receipted_message_id).strip("\x00 ") or fields.get("id", "")
    if not mid:
        return None
    status: ReceiptStatus | None = None
    stat = fields.get("stat", "")
    if message_state is not None and message_state in _STATE_MAP:
        status = _STATE_MAP[message_state]
        stat = stat or f"state={message_state}"
    elif stat:
        status = _STAT_MAP.get(stat.upper())
    return Receipt(mid, status, stat, fields.get("err", ""))


def id_key(message_id: str) -> str:
    """Normalized message id for matching receipts: SMSCs differ in case and leading zeros."""
    return message_id.strip().lower().lstrip("0") or "0"

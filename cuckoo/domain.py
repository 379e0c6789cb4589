"""Value types every part of cuckoo shares. No I/O here.

A *notification* is one thing to tell one customer; every dial or SMS for it is an *attempt*.
A *contact* is an attempt where the customer got the message (heard it, or the SMS was accepted).
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

# A JSON object as it arrives — an ERP row's variables, a request body, a script file — before
# (or instead of) a typed value. Everything that crosses between cuckoo's own parts is typed.
JsonObject = dict[str, Any]
# A notification's template variables: a JSON object from the ERP, checked against its scenario.
Variables = JsonObject


class ChannelKind(enum.StrEnum):
    CALL = "call"
    SMS = "sms"
    CALL_THEN_SMS = "call_then_sms"  # calls until exhausted, then one SMS


class Status(enum.StrEnum):
    """Lifecycle of a notification. Everything but PENDING and ACTIVE is final."""

    PENDING = "pending"  # waiting for next_attempt_at
    ACTIVE = "active"  # leased by a worker, an attempt is under way
    CONFIRMED = "confirmed"  # the customer did the needed action
    DECLINED = "declined"
    OPTED_OUT = "opted_out"  # asked not to be called again; the number is blocked
    OPERATOR_REQUESTED = "operator_requested"  # wants a human; the ERP gets the task
    DELIVERED = "delivered"  # message delivered, no confirmation is possible (e.g. SMS only)
    EXPIRED = "expired"  # deadline passed
    EXHAUSTED = "exhausted"  # barrier of contacts or attempt cap reached
    INVALID = "invalid"  # bad input (phone, scenario, variables) or a number that does not exist
    BLOCKED = "blocked"  # the number is on the do-not-call list
    # The number is not this customer's («вы не туда попали»): not called again for this
    # customer at this number (cuckoo.store.wrong_numbers); the ERP should fix the number.
    WRONG_NUMBER = "wrong_number"
    # Withdrawn before it was done: unticked in the ERP, `cuckoo notify cancel`, the API
    # (cuckoo.store.cancels). A call in progress finishes first.
    CANCELLED = "cancelled"
    # Our side could not say it (the scenario broke, the voice failed): not retried blindly.
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        return self not in (Status.PENDING, Status.ACTIVE)


class CancelResult(enum.StrEnum):
    """What asking to cancel a notification did (cuckoo.store.cancels)."""

    CANCELLED = "cancelled"  # it was waiting: ended now, reported to the ERP
    AFTER_CALL = "after_call"  # a call is under way: it ends cancelled when the call is over
    ALREADY_FINAL = "already_final"  # nothing to cancel: it has ended already
    NOT_FOUND = "not_found"


class Outcome(enum.StrEnum):
    """Result of one attempt; cuckoo.policy.retry says what each one leads to."""

    CONFIRMED = "confirmed"
    DECLINED = "declined"
    OPTED_OUT = "opted_out"
    CALLBACK_REQUESTED = "callback_requested"
    OPERATOR_REQUESTED = "operator_requested"
    DELIVERED = "delivered"  # message heard, no confirmation
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    REJECTED = "rejected"
    NETWORK = "network"  # trunk or network trouble: not the customer's doing
    INVALID_NUMBER = "invalid_number"
    WRONG_NUMBER = "wrong_number"  # somebody else answered: the customer did not hear it
    VOICEMAIL = "voicemail"
    INTERRUPTED = "interrupted"  # our side died mid-attempt (worker crash, lease expired)
    SENT = "sent"  # SMS accepted by the gateway
    UNDELIVERABLE = "undeliverable"  # SMS refused by the gateway or its receipt says so
    # Our side could not say the message (scenario, rendering, voice): not dialled when that
    # is known before, or an apology and a hang-up after the answer. Final, not a contact.
    FAILED = "failed"


@dataclass(frozen=True)
class IncomingNotification:
    """What an ERP adapter hands over. Raw: the store validates and normalizes it."""

    source: str  # adapter name, e.g. "shop_db"
    external_id: str  # the ERP's id; (source, external_id) is unique
    phone: str  # as typed in the ERP
    scenario: str
    channel: ChannelKind = ChannelKind.CALL
    variables: Variables = field(default_factory=dict)
    tenant: str = "default"
    timezone: str | None = None  # IANA name from the ERP, if it knows it
    not_before: datetime | None = None  # aware
    deadline: datetime | None = None  # aware
    # The ERP's record of the customer's consent to calls (41-ФЗ): a reference, a date, a
    # document; required per tenant ([policy.tenants.NAME] require_consent).
    consent: str = ""


@dataclass(frozen=True)
class Notification:
    """A stored notification as a channel sees it when an attempt starts."""

    id: int
    source: str
    external_id: str
    tenant: str
    phone: str  # E.164, e.g. +79123456789
    phone_raw: str
    channel: ChannelKind  # the channel to use for *this* attempt (never CALL_THEN_SMS)
    scenario: str
    variables: Variables
    timezone: str  # IANA zone of the customer
    attempt_no: int  # 1 for the first attempt
    contacts: int  # contacts so far


@dataclass
class AttemptResult:
    outcome: Outcome
    started_at: datetime
    ended_at: datetime
    answered_at: datetime | None = None
    sip_code: int | None = None
    q850_cause: int | None = None
    dtmf: str = ""
    transcript: str = ""
    callback_at: datetime | None = None  # aware; for CALLBACK_REQUESTED
    recording_path: str | None = None
    detail: str = ""  # human-readable reason, error text
    said: list[str] = field(default_factory=list)  # what the robot said or sent, in order
    path: list[str] = field(default_factory=list)  # the scenario's states, as visited
    gateway_message_id: str | None = None  # SMS id, to match delivery receipts
    # An SMS the dialog asked to send after the call (an `sms:` step): the store keeps it as
    # an sms_requests row with the attempt, and the scheduler sends it.
    sms_text: str | None = None

    @property
    def duration_s(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class ResultReport:
    """What goes back to the ERP (through the outbox) when a notification changes state."""

    source: str
    external_id: str
    status: Status
    outcome: Outcome | None  # of the last attempt
    attempts: int
    contacts: int
    last_attempt_at: datetime | None
    dtmf: str = ""
    transcript: str = ""
    callback_at: datetime | None = None
    detail: str = ""


@runtime_checkable
class ErpAdapter(Protocol):
    """One ERP. `fetch_pending` may return rows it returned before: ingestion is idempotent."""

    name: str

    def fetch_pending(self) -> list[IncomingNotification]: ...

    def report(self, result: ResultReport) -> None:
        """Write one result back. Raise ErpUnavailable to have the outbox retry later."""
        ...


@runtime_checkable
class ListsAllPending(Protocol):
    """An ERP adapter whose every successful `fetch_pending` lists all its pending rows, so a
    row it stops listing was withdrawn in the ERP (cuckoo.policy.withdrawals)."""

    def listed_ids(self) -> Collection[str] | None:
        """Every external id the last successful fetch listed (rows it rejected too); None
        when withdrawal is off for this adapter."""
        ...


@runtime_checkable
class Channel(Protocol):
    kind: ChannelKind

    def deliver(self, notification: Notification) -> AttemptResult: ...

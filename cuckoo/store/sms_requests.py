"""SMS requested during calls: a dialog's `sms:` step, stored with the call's result and sent
later by the scheduler's SMS job. States: pending → sent | failed.

What it persists: one `SmsRequestRow` per call attempt at most (unique (notification, attempt)),
added by `add` in the transaction that stores the attempt's result, so the customer who was told
"we will text you" gets the text even if the worker lost its lease meanwhile, and storing one
result twice cannot text twice.

Lease rules (every function takes the caller's session, i.e. runs in its transaction):
- `claim`: pending requests due now (next_try_at <= now) are read `FOR UPDATE SKIP LOCKED` on
  PostgreSQL (under SQLite's BEGIN IMMEDIATE, one writer at a time); a request whose SMS window
  is closed in the customer's zone is moved to the window's next opening and not handed out;
  the others are hidden from other workers by pushing next_try_at lease_s ahead, with a
  conditional UPDATE that wins only requests still pending and due. The lease must outlast one
  send; a worker that dies while sending leaves the request due again when it runs out.
- `sent` / `retry` / `failed`: settle a claimed request, if it is still pending (conditional
  UPDATE; False if it was not), counting one try.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cuckoo.domain import ChannelKind, Notification
from cuckoo.policy.windows import CallingWindow
from cuckoo.store.database import is_postgres
from cuckoo.store.models import NotificationRow, SmsRequestRow

__all__ = [
    "SmsRequestItem",
    "SmsRequestState",
    "add",
    "claim",
    "counts",
    "failed",
    "of_notification",
    "retry",
    "sent",
]

log = logging.getLogger(__name__)


class SmsRequestState(enum.StrEnum):
    PENDING = "pending"  # to be sent (next_try_at: when)
    SENT = "sent"  # accepted by the gateway
    FAILED = "failed"  # refused, blocked, or the gateway stayed down past the retry cap


@dataclass(frozen=True)
class SmsRequestItem:
    """A claimed in-call SMS request: what the SMS channel needs to send it."""

    id: int
    notification: Notification  # attempt_no: the call attempt that asked for the SMS
    text: str
    tries: int  # tries before this one


def add(s: Session, n: Notification, text: str, now: datetime) -> None:
    """Store the SMS that attempt `n.attempt_no` asked for, due now; once per attempt."""
    exists = s.scalar(
        select(SmsRequestRow.id).where(
            SmsRequestRow.notification_id == n.id, SmsRequestRow.attempt_no == n.attempt_no
        )
    )
    if exists is not None:  # this attempt's result was stored before: never text twice
        return
    s.add(
        SmsRequestRow(
            notification_id=n.id,
            attempt_no=n.attempt_no,
            text=text,
            state=SmsRequestState.PENDING.value,
            created_at=now,
            next_try_at=now,
            tries=0,
            last_error="",
            detail="",
        )
    )
    log.info("notification %s attempt %s: SMS requested in the call", n.id, n.attempt_no)


def claim(
    s: Session,
    window_for: Callable[[str, ChannelKind], CallingWindow],
    now: datetime,
    limit: int,
    lease_s: float,
) -> list[SmsRequestItem]:
    """Pending requests due now, hidden from other workers for lease_s (next_try_at is
    pushed ahead) while this one sends them: the lease must outlast one send. A request
    whose SMS window (`window_for(tenant, SMS)`, the customer's time) is closed is moved to its
    next opening instead."""
    pending = SmsRequestRow.state == SmsRequestState.PENDING.value
    q = (
        select(SmsRequestRow)
        .where(pending, SmsRequestRow.next_try_at <= now)
        .order_by(SmsRequestRow.next_try_at, SmsRequestRow.id)
        .limit(limit)
    )
    if is_postgres(s):
        q = q.with_for_update(skip_locked=True)
    rows = list(s.scalars(q))
    if not rows:
        return []
    notes = {
        r.id: r
        for r in s.scalars(
            select(NotificationRow).where(NotificationRow.id.in_({r.notification_id for r in rows}))
        )
    }
    due: list[SmsRequestRow] = []
    for r in rows:
        note = notes[r.notification_id]
        window = window_for(note.tenant, ChannelKind.SMS)
        if window.is_open(now, note.timezone):
            due.append(r)
            continue
        r.next_try_at = window.next_open(now, note.timezone)  # no SMS at night
    if not due:
        return []
    won = set(
        s.scalars(
            update(SmsRequestRow)
            .where(
                SmsRequestRow.id.in_([r.id for r in due]),
                pending,
                SmsRequestRow.next_try_at <= now,
            )
            .values(next_try_at=now + timedelta(seconds=lease_s))
            .returning(SmsRequestRow.id)
            .execution_options(synchronize_session=False)
        )
    )
    return [
        SmsRequestItem(
            id=r.id,
            notification=notes[r.notification_id].as_notification(ChannelKind.SMS, r.attempt_no),
            text=r.text,
            tries=r.tries,
        )
        for r in due
        if r.id in won
    ]


def sent(
    s: Session, request_id: int, gateway_message_id: str | None, detail: str, now: datetime
) -> bool:
    """The gateway accepted the SMS; its receipt is matched by gateway_message_id."""
    return _settle(
        s,
        request_id,
        state=SmsRequestState.SENT.value,
        sent_at=now,
        done_at=now,
        next_try_at=None,
        gateway_message_id=gateway_message_id,
        detail=detail[:2000],
        last_error="",
    )


def retry(s: Session, request_id: int, error: str, retry_at: datetime) -> bool:
    """Sending failed for now (gateway down): try again at retry_at."""
    return _settle(s, request_id, next_try_at=retry_at, last_error=error[:2000])


def failed(s: Session, request_id: int, reason: str, now: datetime) -> bool:
    """Final: the SMS will not be sent (refused, blocked number, too long, retries used up)."""
    return _settle(
        s,
        request_id,
        state=SmsRequestState.FAILED.value,
        done_at=now,
        next_try_at=None,
        last_error=reason[:2000],
        detail=reason[:2000],
    )


def _settle(s: Session, request_id: int, **values: Any) -> bool:
    """Count one try and set `values`, if the request is still pending."""
    res = s.execute(
        update(SmsRequestRow)
        .where(
            SmsRequestRow.id == request_id,
            SmsRequestRow.state == SmsRequestState.PENDING.value,
        )
        .values(tries=SmsRequestRow.tries + 1, **values)
    )
    return bool(res.rowcount)  # type: ignore[attr-defined]


def of_notification(s: Session, notification_id: int) -> list[SmsRequestRow]:
    q = select(SmsRequestRow).where(SmsRequestRow.notification_id == notification_id)
    return list(s.scalars(q.order_by(SmsRequestRow.id)))


def counts(s: Session) -> dict[str, int]:
    """In-call SMS requests by state (pending / sent / failed)."""
    q = select(SmsRequestRow.state, func.count()).group_by(SmsRequestRow.state)
    return {state: int(n) for state, n in s.execute(q).all()}

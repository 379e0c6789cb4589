"""Cancelling notifications: unticked in the ERP, `cuckoo notify cancel`, the HTTP API.

What it persists (every function takes the caller's session, i.e. runs in its transaction):
- a PENDING notification ends CANCELLED at once (a conditional UPDATE, so a worker claiming it
  in the same instant wins or loses cleanly) and the ERP is told (outbox);
- an ACTIVE one — a call is under way — is only marked (`cancel_reason`): the customer is not
  cut off mid-sentence. When the attempt's result comes, `notifications._apply` keeps a final
  result the customer gave (confirmed, declined, opted out...) and ends everything else
  CANCELLED instead of scheduling another attempt;
- a final one is left as it is.

`withdraw` is the ERP's way to cancel: an adapter whose every poll lists all its pending rows
(`cuckoo.domain.ListsAllPending`) has withdrawn the notifications it stops listing
(`cuckoo.policy.withdrawals` says when).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cuckoo.domain import CancelResult, Outcome, Status
from cuckoo.store import outbox
from cuckoo.store.database import is_postgres
from cuckoo.store.models import NotificationRow

__all__ = [
    "BY_API",
    "BY_HAND",
    "WITHDRAWN_IN_ERP",
    "cancel",
    "ended_during_call",
    "open_external_ids",
    "withdraw",
]

log = logging.getLogger(__name__)

# The reasons cuckoo's own callers give (cuckoo.result_texts has their Russian).
WITHDRAWN_IN_ERP = "withdrawn in the ERP"
BY_HAND = "cancelled by hand"
BY_API = "cancelled through the API"

_OPEN = (Status.PENDING.value, Status.ACTIVE.value)


def cancel(s: Session, notification_id: int, reason: str, now: datetime) -> CancelResult:
    """Cancel one notification (see the module's rules). `reason` is kept as its detail."""
    row = s.get(NotificationRow, notification_id, with_for_update=is_postgres(s))
    if row is None:
        return CancelResult.NOT_FOUND
    return _cancel_row(s, row, reason, now)


def open_external_ids(s: Session, source: str) -> set[str]:
    """External ids of `source`'s notifications that are not final (pending or in a call)."""
    q = select(NotificationRow.external_id).where(
        NotificationRow.source == source, NotificationRow.status.in_(_OPEN)
    )
    return set(s.scalars(q))


def withdraw(s: Session, source: str, external_ids: Collection[str], now: datetime) -> int:
    """Cancel these notifications of `source` as withdrawn in the ERP (see
    cuckoo.policy.withdrawals for when they count as withdrawn). Returns how many were
    cancelled or marked to end after their call."""
    if not external_ids:
        return 0
    q = select(NotificationRow).where(
        NotificationRow.source == source,
        NotificationRow.external_id.in_(list(external_ids)),
        NotificationRow.status.in_(_OPEN),
    )
    done = 0
    for row in list(s.scalars(q)):
        if _cancel_row(s, row, WITHDRAWN_IN_ERP, now) != CancelResult.ALREADY_FINAL:
            done += 1
    if done:
        log.info("%s: %d notification(s) withdrawn in the ERP: cancelled", source, done)
    return done


def ended_during_call(reason: str | None, outcome: Outcome) -> str:
    """The detail of a notification cancelled while its call went on (see result_texts)."""
    return f"{reason}; the call under way ended {outcome.value}"


def _cancel_row(s: Session, row: NotificationRow, reason: str, now: datetime) -> CancelResult:
    if row.status == Status.ACTIVE.value:
        if row.cancel_reason is None:
            row.cancel_reason, row.cancel_requested_at = reason, now
            log.info(
                "notification %s: cancelled (%s); ends after the call under way", row.id, reason
            )
        return CancelResult.AFTER_CALL
    if row.status != Status.PENDING.value:
        return CancelResult.ALREADY_FINAL
    res = s.execute(
        update(NotificationRow)
        .where(NotificationRow.id == row.id, NotificationRow.status == Status.PENDING.value)
        .values(
            status=Status.CANCELLED.value,
            next_attempt_at=None,
            detail=reason,
            cancel_reason=reason,
            cancel_requested_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if not res.rowcount:  # type: ignore[attr-defined]
        # A worker claimed it meanwhile (SQLite serializes writers, so only PostgreSQL's
        # row lock makes this reachable): mark the call instead.
        s.refresh(row)
        return _cancel_row(s, row, reason, now)
    row.status, row.detail, row.next_attempt_at = Status.CANCELLED.value, reason, None
    outbox.enqueue(s, row, Status.CANCELLED, None, None, now)
    log.info("notification %s: cancelled (%s)", row.id, reason)
    return CancelResult.CANCELLED

"""The outbox: results waiting to be written back to their ERP, and their JSON form.

What it persists: one `OutboxRow` per report (a `ResultReport` as JSON), written in the same
transaction as the status change it reports (`enqueue`), so a result is never lost nor reported
before it is stored. A report is sent until its ERP acknowledges it: at least once, in id order.

Lease rules (every function takes the caller's session, i.e. runs in its transaction):
- `claim`: due reports (not acknowledged, next_try_at <= now) are read `FOR UPDATE SKIP LOCKED`
  on PostgreSQL (under SQLite's BEGIN IMMEDIATE, one writer at a time) and hidden from other
  workers by pushing next_try_at lease_s ahead, with a conditional UPDATE that only wins rows
  still unacknowledged and due: a report is handed to one worker at a time. A worker that dies
  while sending loses nothing: the report is due again when the lease runs out.
- `ack`: acknowledged for good; `failed`: due again at retry_at (the caller's backoff). Both
  count one try.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cuckoo.domain import JsonObject, Outcome, ResultReport, Status
from cuckoo.store.database import is_postgres
from cuckoo.store.models import AttemptRow, NotificationRow, OutboxRow

__all__ = [
    "OutboxItem",
    "ack",
    "claim",
    "enqueue",
    "failed",
    "pending_by_source",
    "report_from_json",
    "report_to_json",
]


@dataclass(frozen=True)
class OutboxItem:
    id: int
    notification_id: int
    source: str
    report: ResultReport
    tries: int


def report_to_json(r: ResultReport) -> JsonObject:
    def t(v: datetime | None) -> str | None:
        return v.isoformat() if v else None

    return {
        "source": r.source,
        "external_id": r.external_id,
        "status": r.status.value,
        "outcome": r.outcome.value if r.outcome else None,
        "attempts": r.attempts,
        "contacts": r.contacts,
        "last_attempt_at": t(r.last_attempt_at),
        "dtmf": r.dtmf,
        "transcript": r.transcript,
        "callback_at": t(r.callback_at),
        "detail": r.detail,
    }


def report_from_json(d: Mapping[str, Any]) -> ResultReport:
    def t(v: str | None) -> datetime | None:
        return datetime.fromisoformat(v) if v else None

    return ResultReport(
        source=d["source"],
        external_id=d["external_id"],
        status=Status(d["status"]),
        outcome=Outcome(d["outcome"]) if d.get("outcome") else None,
        attempts=int(d["attempts"]),
        contacts=int(d["contacts"]),
        last_attempt_at=t(d.get("last_attempt_at")),
        dtmf=d.get("dtmf", ""),
        transcript=d.get("transcript", ""),
        callback_at=t(d.get("callback_at")),
        detail=d.get("detail", ""),
    )


def enqueue(
    s: Session,
    row: NotificationRow,
    status: Status,
    outcome: Outcome | None,
    att: AttemptRow | None,
    now: datetime,
) -> None:
    """Queue the report of `row` (now `status`, after `att` if any) for its ERP, due now."""
    report = ResultReport(
        source=row.source,
        external_id=row.external_id,
        status=status,
        outcome=outcome,
        attempts=row.attempts,
        contacts=row.contacts,
        last_attempt_at=row.last_attempt_at,
        dtmf=att.dtmf if att is not None else "",
        transcript=att.transcript if att is not None else "",
        callback_at=att.callback_at if att is not None else None,
        detail=row.detail,
    )
    s.add(
        OutboxRow(
            notification_id=row.id,
            source=row.source,
            payload=report_to_json(report),
            created_at=now,
            next_try_at=now,
            tries=0,
            last_error="",
        )
    )


def claim(
    s: Session,
    now: datetime,
    limit: int,
    lease_s: float,
    sources: Collection[str] | None = None,
) -> list[OutboxItem]:
    """Reports due to be sent (of `sources` only, if given), oldest first, hidden from other
    workers for lease_s while this one sends."""
    q = select(OutboxRow).where(OutboxRow.acked_at.is_(None), OutboxRow.next_try_at <= now)
    if sources is not None:
        q = q.where(OutboxRow.source.in_(list(sources)))
    q = q.order_by(OutboxRow.id).limit(limit)
    if is_postgres(s):
        q = q.with_for_update(skip_locked=True)
    rows = list(s.scalars(q))
    if not rows:
        return []
    won = set(
        s.scalars(
            update(OutboxRow)
            .where(
                OutboxRow.id.in_([r.id for r in rows]),
                OutboxRow.acked_at.is_(None),
                OutboxRow.next_try_at <= now,
            )
            .values(next_try_at=now + timedelta(seconds=lease_s))
            .returning(OutboxRow.id)
            .execution_options(synchronize_session=False)
        )
    )
    return [
        OutboxItem(r.id, r.notification_id, r.source, report_from_json(r.payload), r.tries)
        for r in rows
        if r.id in won
    ]


def ack(s: Session, item_id: int, now: datetime) -> None:
    """The ERP has the report: never send it again."""
    s.execute(
        update(OutboxRow)
        .where(OutboxRow.id == item_id)
        .values(acked_at=now, tries=OutboxRow.tries + 1, last_error="")
    )


def failed(s: Session, item_id: int, error: str, retry_at: datetime) -> None:
    """Sending failed: due again at retry_at, with the error kept (first 2000 characters)."""
    s.execute(
        update(OutboxRow)
        .where(OutboxRow.id == item_id)
        .values(next_try_at=retry_at, tries=OutboxRow.tries + 1, last_error=error[:2000])
    )


def pending_by_source(s: Session) -> dict[str, int]:
    """Reports not yet acknowledged, per ERP source."""
    q = (
        select(OutboxRow.source, func.count())
        .where(OutboxRow.acked_at.is_(None))
        .group_by(OutboxRow.source)
    )
    return {source: int(n) for source, n in s.execute(q).all()}


def enqueue_latest(s: Session, notification_id: int, now: datetime) -> None:
    """Queue the report of the notification after its latest attempt, as it stands now (an
    interim result, for an ERP that hears of every attempt)."""
    row = s.get(NotificationRow, notification_id)
    if row is None:
        return
    att = s.scalar(
        select(AttemptRow)
        .where(AttemptRow.notification_id == row.id)
        .order_by(AttemptRow.no.desc())
        .limit(1)
    )
    outcome = Outcome(att.outcome) if att is not None and att.outcome else None
    enqueue(s, row, Status(row.status), outcome, att, now)

"""Reading the store: counts, what is due, one notification with its attempts and reports, the
attempts report of `cuckoo report`; and SMS delivery receipts, which only annotate.

Nothing here takes or changes a lease: these are plain reads (and `update_receipt`, which sets
receipt_status on rows already settled). Every function takes the caller's session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cuckoo.domain import ChannelKind, Notification, Status
from cuckoo.store.models import AttemptRow, NotificationRow, OutboxRow, SmsRequestRow

__all__ = [
    "AttemptLine",
    "ReportFilter",
    "attempts_of",
    "attempts_report",
    "counts_by_status",
    "due_by_channel",
    "due_summary",
    "get",
    "outbox_of",
    "update_receipt",
]


@dataclass(frozen=True)
class AttemptLine:
    """One attempt joined with its notification, for `cuckoo report`."""

    notification_id: int
    source: str
    external_id: str
    tenant: str
    phone: str
    scenario: str
    timezone: str  # the customer's (IANA), for showing times in it
    status: str  # of the notification, now
    no: int
    channel: str
    owner: str
    started_at: datetime
    ended_at: datetime | None
    outcome: str | None
    sip_code: int | None
    dtmf: str
    transcript: str
    duration_s: float | None
    detail: str


def counts_by_status(s: Session) -> dict[str, int]:
    q = select(NotificationRow.status, func.count()).group_by(NotificationRow.status)
    return {status: int(n) for status, n in s.execute(q).all()}


def due_by_channel(s: Session, now: datetime) -> dict[str, int]:
    """Pending notifications due now, counted by the channel their next attempt needs."""
    q = (
        select(NotificationRow.current_channel, func.count())
        .where(
            NotificationRow.status == Status.PENDING.value,
            NotificationRow.next_attempt_at <= now,
        )
        .group_by(NotificationRow.current_channel)
    )
    return {channel: int(n) for channel, n in s.execute(q).all()}


def due_summary(s: Session, now: datetime) -> tuple[int, datetime | None]:
    """How many pending notifications are due now, and when the next one after now is."""
    pending = NotificationRow.status == Status.PENDING.value
    due = s.scalar(
        select(func.count())
        .select_from(NotificationRow)
        .where(pending, NotificationRow.next_attempt_at <= now)
    )
    later = s.scalar(
        select(func.min(NotificationRow.next_attempt_at)).where(
            pending, NotificationRow.next_attempt_at > now
        )
    )
    return int(due or 0), later


def due_notifications(s: Session, now: datetime, limit: int) -> list[Notification]:
    """The pending notifications due now, oldest first, as their next attempt would see them;
    nothing is leased (a dry run)."""
    q = (
        select(NotificationRow)
        .where(
            NotificationRow.status == Status.PENDING.value,
            NotificationRow.next_attempt_at <= now,
        )
        .order_by(NotificationRow.next_attempt_at)
        .limit(limit)
    )
    return [
        r.as_notification(ChannelKind(r.current_channel), r.attempt_seq + 1) for r in s.scalars(q)
    ]


def get(s: Session, source: str, external_id: str) -> NotificationRow | None:
    return s.scalar(
        select(NotificationRow).where(
            NotificationRow.source == source, NotificationRow.external_id == external_id
        )
    )


def attempts_of(s: Session, notification_id: int) -> list[AttemptRow]:
    q = (
        select(AttemptRow)
        .where(AttemptRow.notification_id == notification_id)
        .order_by(AttemptRow.no)
    )
    return list(s.scalars(q))


def outbox_of(s: Session, notification_id: int) -> list[OutboxRow]:
    q = select(OutboxRow).where(OutboxRow.notification_id == notification_id)
    return list(s.scalars(q.order_by(OutboxRow.id)))


@dataclass(frozen=True)
class ReportFilter:
    """Which attempts `cuckoo report` shows; None = any. Values as stored: a status or an
    outcome by its value, the phone in E.164."""

    since: datetime | None = None  # started at or after
    status: str | None = None  # the notification's status now
    outcome: str | None = None  # the attempt's outcome
    phone: str | None = None
    tenant: str | None = None


def attempts_report(
    s: Session,
    since: datetime | None = None,
    limit: int | None = None,
    where: ReportFilter | None = None,
) -> list[AttemptLine]:
    """Attempts started at or after `since` (and matching `where`), oldest first, at most
    `limit`."""
    q = select(AttemptRow, NotificationRow).join(
        NotificationRow, AttemptRow.notification_id == NotificationRow.id
    )
    where = where or ReportFilter()
    since = since or where.since
    if since is not None:
        q = q.where(AttemptRow.started_at >= since)
    if where.status is not None:
        q = q.where(NotificationRow.status == where.status)
    if where.outcome is not None:
        q = q.where(AttemptRow.outcome == where.outcome)
    if where.phone is not None:
        q = q.where(NotificationRow.phone == where.phone)
    if where.tenant is not None:
        q = q.where(NotificationRow.tenant == where.tenant)
    q = q.order_by(AttemptRow.started_at, AttemptRow.id)
    if limit is not None:
        q = q.limit(limit)
    return [
        AttemptLine(
            notification_id=n.id,
            source=n.source,
            external_id=n.external_id,
            tenant=n.tenant,
            phone=n.phone or n.phone_raw,
            scenario=n.scenario,
            timezone=n.timezone,
            status=n.status,
            no=a.no,
            channel=a.channel,
            owner=a.owner,
            started_at=a.started_at,
            ended_at=a.ended_at,
            outcome=a.outcome,
            sip_code=a.sip_code,
            dtmf=a.dtmf,
            transcript=a.transcript,
            duration_s=a.duration_s,
            detail=a.detail,
        )
        for a, n in s.execute(q).all()
    ]


def update_receipt(s: Session, gateway_message_id: str, receipt_status: str) -> bool:
    """Store an SMS delivery receipt on the attempt or the in-call SMS request that sent
    the message."""
    matched = 0
    for table in (AttemptRow, SmsRequestRow):
        res = s.execute(
            update(table)
            .where(table.gateway_message_id == gateway_message_id)
            .values(receipt_status=receipt_status)
        )
        matched += res.rowcount  # type: ignore[attr-defined]
    return bool(matched)

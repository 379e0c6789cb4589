"""Reads for the web console and the HTTP API: a page of notifications under filters, attempts
since a point, the dashboard's figures. Plain reads scoped to a tenant (None: every tenant).

Pages are keyset-paged on the notification's id, newest first (`before_id`), so the thousandth
page costs what the first does (ix_notifications_status_id, ..._tenant_status_id).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from cuckoo.domain import Status
from cuckoo.store.models import AttemptRow, NotificationRow, OutboxRow, SmsRequestRow

__all__ = ["Dashboard", "NotificationQuery", "attempts_since", "dashboard", "page"]


@dataclass(frozen=True)
class NotificationQuery:
    tenant: str | None = None  # the viewer's tenant; None: all (an admin)
    status: str | None = None
    scenario: str | None = None
    source: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None  # exclusive
    phone: str | None = None  # E.164, exact (indexed)
    phone_raw: str | None = None  # as the ERP typed it, exact (not indexed: rare)
    external_id: str | None = None  # exact
    before_id: int | None = None  # the cursor: the last id of the previous page
    limit: int = 50


Rows = Select[tuple[NotificationRow]]


def _filtered(q: Rows, f: NotificationQuery) -> Rows:
    n = NotificationRow
    if f.tenant is not None:
        q = q.where(n.tenant == f.tenant)
    if f.status:
        q = q.where(n.status == f.status)
    if f.scenario:
        q = q.where(n.scenario == f.scenario)
    if f.source:
        q = q.where(n.source == f.source)
    if f.created_from is not None:
        q = q.where(n.created_at >= f.created_from)
    if f.created_to is not None:
        q = q.where(n.created_at < f.created_to)
    if f.phone:
        q = q.where(n.phone == f.phone)
    if f.phone_raw:
        q = q.where(n.phone_raw == f.phone_raw)
    if f.external_id:
        q = q.where(n.external_id == f.external_id)
    if f.before_id is not None:
        q = q.where(n.id < f.before_id)
    return q


def page(s: Session, f: NotificationQuery) -> list[NotificationRow]:
    """Up to f.limit notifications, newest first, older than f.before_id."""
    q = _filtered(select(NotificationRow), f).order_by(NotificationRow.id.desc()).limit(f.limit)
    return list(s.scalars(q))


def one(s: Session, notification_id: int, tenant: str | None) -> NotificationRow | None:
    """The notification, if it exists and the viewer's tenant may see it."""
    row = s.get(NotificationRow, notification_id)
    if row is None or (tenant is not None and row.tenant != tenant):
        return None
    return row


def by_external_id(
    s: Session, source: str, external_id: str, tenant: str | None
) -> NotificationRow | None:
    row = s.scalar(
        select(NotificationRow).where(
            NotificationRow.source == source, NotificationRow.external_id == external_id
        )
    )
    if row is None or (tenant is not None and row.tenant != tenant):
        return None
    return row


def attempts_since(
    s: Session, tenant: str | None, since: datetime | None, after_id: int | None, limit: int
) -> list[tuple[AttemptRow, NotificationRow]]:
    """Finished attempts (ended_at set), oldest first by attempt id, after `after_id` (the
    cursor) and ended at or after `since`."""
    q = (
        select(AttemptRow, NotificationRow)
        .join(NotificationRow, AttemptRow.notification_id == NotificationRow.id)
        .where(AttemptRow.outcome.is_not(None))
    )
    if tenant is not None:
        q = q.where(NotificationRow.tenant == tenant)
    if since is not None:
        q = q.where(AttemptRow.ended_at >= since)
    if after_id is not None:
        q = q.where(AttemptRow.id > after_id)
    q = q.order_by(AttemptRow.id).limit(limit)
    return [(a, n) for a, n in s.execute(q).all()]


@dataclass
class Dashboard:
    """The console's front page, in the viewer's zone."""

    by_status: dict[str, int]  # every notification now
    today: Counter[str]  # attempts ended today, by outcome ("calls", "sms": by channel)
    month: Counter[str]  # the same over the last 30 days
    per_day: dict[str, Counter[str]]  # "YYYY-MM-DD" → by outcome, the last 30 days
    per_hour: Counter[int]  # calls placed by local hour of day, the last 30 days
    in_progress: list[NotificationRow]  # calls and texts under way now
    sms_states: dict[str, int] = field(default_factory=dict)  # SMS requests by state


def dashboard(s: Session, tenant: str | None, now: datetime, zone: ZoneInfo) -> Dashboard:
    local_now = now.astimezone(zone)
    today = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=29)
    n = NotificationRow
    by_status_q = select(n.status, func.count()).group_by(n.status)
    if tenant is not None:
        by_status_q = by_status_q.where(n.tenant == tenant)
    by_status = {st: int(c) for st, c in s.execute(by_status_q).all()}
    q = (
        select(
            AttemptRow.started_at, AttemptRow.channel, AttemptRow.outcome, AttemptRow.answered_at
        )
        .join(n, AttemptRow.notification_id == n.id)
        .where(AttemptRow.started_at >= start, AttemptRow.outcome.is_not(None))
    )
    if tenant is not None:
        q = q.where(n.tenant == tenant)
    month: Counter[str] = Counter()
    todays: Counter[str] = Counter()
    per_day: dict[str, Counter[str]] = {
        (start + timedelta(days=i)).strftime("%Y-%m-%d"): Counter() for i in range(30)
    }
    per_hour: Counter[int] = Counter()
    for started, channel, outcome, answered in s.execute(q).all():
        local = started.astimezone(zone)
        kinds = [str(outcome), "calls" if channel == "call" else "sms"]
        if answered is not None:
            kinds.append("contacts")  # the customer picked up
        month.update(kinds)
        day = per_day.setdefault(local.strftime("%Y-%m-%d"), Counter())
        day.update(kinds)
        if local >= today:
            todays.update(kinds)
        if channel == "call":
            per_hour[local.hour] += 1
    live_q = select(n).where(n.status == Status.ACTIVE.value).order_by(n.id).limit(100)
    if tenant is not None:
        live_q = live_q.where(n.tenant == tenant)
    sms_q = (
        select(SmsRequestRow.state, func.count())
        .join(n, SmsRequestRow.notification_id == n.id)
        .group_by(SmsRequestRow.state)
    )
    if tenant is not None:
        sms_q = sms_q.where(n.tenant == tenant)
    return Dashboard(
        by_status=by_status,
        today=todays,
        month=month,
        per_day=per_day,
        per_hour=per_hour,
        in_progress=list(s.scalars(live_q)),
        sms_states={st: int(c) for st, c in s.execute(sms_q).all()},
    )


@dataclass(frozen=True)
class Gauges:
    """The store's figures for /metrics."""

    in_progress: dict[str, int]  # channel → attempts under way
    attempts_by_outcome: dict[str, int]
    by_status: dict[str, int]
    due_now: int
    outbox_pending: int
    sms_by_state: dict[str, int]


def gauges(s: Session, now: datetime) -> Gauges:
    n = NotificationRow
    live = select(n.current_channel, func.count()).where(n.status == Status.ACTIVE.value)
    outcomes = select(AttemptRow.outcome, func.count()).where(AttemptRow.outcome.is_not(None))
    due = select(func.count()).where(n.status == Status.PENDING.value, n.next_attempt_at <= now)
    outbox = select(func.count()).select_from(OutboxRow).where(OutboxRow.acked_at.is_(None))
    sms = select(SmsRequestRow.state, func.count()).group_by(SmsRequestRow.state)
    return Gauges(
        in_progress={c: int(k) for c, k in s.execute(live.group_by(n.current_channel)).all()},
        attempts_by_outcome={
            str(o): int(k) for o, k in s.execute(outcomes.group_by(AttemptRow.outcome)).all()
        },
        by_status={
            st: int(k)
            for st, k in s.execute(select(n.status, func.count()).group_by(n.status)).all()
        },
        due_now=int(s.scalar(due) or 0),
        outbox_pending=int(s.scalar(outbox) or 0),
        sms_by_state={st: int(k) for st, k in s.execute(sms).all()},
    )


def attempt_with_notification(
    s: Session, attempt_id: int, tenant: str | None
) -> tuple[AttemptRow, NotificationRow] | None:
    """One attempt and its notification, if the viewer's tenant may see it."""
    att = s.get(AttemptRow, attempt_id)
    if att is None:
        return None
    row = one(s, att.notification_id, tenant)
    return None if row is None else (att, row)


def by_external_ids(s: Session, source: str, external_ids: list[str]) -> dict[str, NotificationRow]:
    """The notifications of `source` under these ERP ids, by id (one query)."""
    if not external_ids:
        return {}
    q = select(NotificationRow).where(
        NotificationRow.source == source, NotificationRow.external_id.in_(set(external_ids))
    )
    return {row.external_id: row for row in s.scalars(q)}

"""The few queries cuckoo needs: ingest, claim due, finish an attempt, reap dead leases, outbox,
SMS requested during calls (sms_requests: stored with the attempt, claimed like the outbox).

Concurrency (several `cuckoo run` processes on one database):
- PostgreSQL: candidate rows are read with `FOR UPDATE SKIP LOCKED`, so two workers never see
  the same row; the claim itself is a conditional UPDATE (`... AND status = 'pending'`).
- SQLite: every transaction starts with `BEGIN IMMEDIATE` (one writer at a time, others wait up
  to busy_timeout), and the claim is the same conditional UPDATE, so two processes can't both win.
A notification is delivered only by the worker whose conditional UPDATE moved it to ACTIVE, and a
lease is reaped only after it expired; the scheduler renews leases while attempts run.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from cuckoo.domain import (
    AttemptResult,
    ChannelKind,
    IncomingNotification,
    Notification,
    Outcome,
    Status,
)
from cuckoo.errors import InputError
from cuckoo.intake.phones import normalize_phone
from cuckoo.store import blocklist, outbox, reports, sms_requests
from cuckoo.store.database import Database, default_url
from cuckoo.store.models import (
    AttemptRow,
    BlockedNumberRow,
    NotificationRow,
    OutboxRow,
    SmsRequestRow,
)
from cuckoo.store.outbox import OutboxItem
from cuckoo.store.reports import AttemptLine
from cuckoo.store.sms_requests import SmsRequestItem

if TYPE_CHECKING:
    from cuckoo.config import Config

log = logging.getLogger(__name__)


class PolicyProvider(Protocol):
    """What the store asks of the [policy] settings (cuckoo.settings.policy.PolicySettings)."""

    def policy_for(self, tenant: str, scenario: str) -> Any: ...

    def window_for(self, tenant: str, channel: ChannelKind) -> Any: ...

    def tenant_timezone(self, tenant: str) -> str: ...


@dataclass
class IngestReport:
    new: int = 0
    duplicates: int = 0
    invalid: int = 0
    blocked: int = 0
    expired: int = 0  # the deadline comes before the first possible attempt
    errors: list[str] = field(default_factory=list)  # "source/external_id: why"


def first_channel(channel: ChannelKind) -> ChannelKind:
    """The channel of the first attempt: call_then_sms starts with calls."""
    return ChannelKind.SMS if channel == ChannelKind.SMS else ChannelKind.CALL


# pg_advisory_xact_lock key of claims under a store-wide channel cap (any constant will do;
# this one spells "cuckoo" in ASCII).
_CLAIM_LOCK_KEY = 0x6375636B6F6F


class Store:
    def __init__(
        self,
        url: str,
        *,
        policy: PolicyProvider | None = None,
        known_scenarios: Collection[str] | None = None,
        check_variables: Callable[[str, dict[str, Any]], list[str]] | None = None,
        default_region: str = "RU",
        busy_timeout_ms: int = 10_000,
        echo: bool = False,
    ) -> None:
        self._db = Database(url, busy_timeout_ms=busy_timeout_ms, echo=echo)
        self.url = url
        self.engine = self._db.engine
        self.is_postgres = self._db.is_postgres
        if policy is None:
            from cuckoo.settings.policy import PolicySettings

            policy = PolicySettings()
        self.policy: PolicyProvider = policy
        self.known_scenarios = set(known_scenarios) if known_scenarios is not None else None
        # (scenario, variables) -> problems; rejects a row whose texts would not render
        # before anybody is called, instead of failing mid-call.
        self.check_variables = check_variables
        self.default_region = default_region

    @classmethod
    def from_config(
        cls,
        config: Config,
        known_scenarios: Collection[str] | None = None,
        check_variables: Callable[[str, dict[str, Any]], list[str]] | None = None,
    ) -> Store:
        return cls(
            default_url(config),
            policy=config.policy,
            known_scenarios=known_scenarios,
            check_variables=check_variables,
            default_region=config.store.default_region,
            busy_timeout_ms=config.store.busy_timeout_ms,
            echo=config.store.echo,
        )

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        with self._db.tx() as s:
            yield s

    # ---- schema ----------------------------------------------------------------------------

    def upgrade(self) -> str | None:
        """Bring the schema to the newest Alembic revision; returns that revision."""
        return self._db.upgrade()

    def require_schema(self) -> None:
        """Raise ConfigError unless the schema is at the newest revision."""
        self._db.require_schema()

    # ---- ingest ----------------------------------------------------------------------------

    def ingest(self, items: Sequence[IncomingNotification], now: datetime) -> IngestReport:
        """Store new notifications; rows seen before are skipped. A bad row is stored as
        INVALID or BLOCKED with a report for its ERP and never stops the other rows."""
        report = IngestReport()
        for start in range(0, len(items), 500):
            self._ingest_chunk(items[start : start + 500], now, report)
        return report

    def _ingest_chunk(
        self, items: Sequence[IncomingNotification], now: datetime, report: IngestReport
    ) -> None:
        from cuckoo.intake.timezones import resolve_timezone
        from cuckoo.policy import first_attempt

        with self._tx() as s:
            keys = {(i.source, i.external_id) for i in items}
            seen: set[tuple[str, str]] = set()
            for source in {k[0] for k in keys}:
                ids = [k[1] for k in keys if k[0] == source]
                q = select(NotificationRow.external_id).where(
                    NotificationRow.source == source, NotificationRow.external_id.in_(ids)
                )
                seen.update((source, e) for e in s.scalars(q))
            for item in items:
                key = (item.source, item.external_id)
                if key in seen:
                    report.duplicates += 1
                    continue
                seen.add(key)
                status, phone, tz, error = Status.PENDING, "", "UTC", ""
                next_at: datetime | None = None
                requested = ChannelKind.CALL
                variables: dict[str, Any] = {}
                try:
                    tz = self.policy.tenant_timezone(item.tenant)
                    try:
                        requested = ChannelKind(item.channel)
                    except ValueError as e:
                        known = ", ".join(c.value for c in ChannelKind)
                        raise InputError(f"channel {item.channel!r}: not one of {known}") from e
                    try:
                        variables = json.loads(json.dumps(dict(item.variables)))
                    except (TypeError, ValueError) as e:
                        raise InputError(f"variables are not JSON-serializable: {e}") from e
                    phone = normalize_phone(item.phone, self.default_region)
                    known_scenarios = self.known_scenarios
                    if known_scenarios is not None and item.scenario not in known_scenarios:
                        known = ", ".join(sorted(known_scenarios)) or "none"
                        raise InputError(f"unknown scenario {item.scenario!r} (known: {known})")
                    if self.check_variables is not None:
                        problems = self.check_variables(item.scenario, variables)
                        if problems:
                            raise InputError(f"scenario {item.scenario!r}: " + "; ".join(problems))
                    for name in ("not_before", "deadline"):
                        value = getattr(item, name)
                        if value is not None and value.tzinfo is None:
                            raise InputError(f"{name} {value.isoformat()} has no time zone")
                    tz = resolve_timezone(item.timezone, phone, tz)
                    if blocklist.contains(s, phone):
                        status, error = Status.BLOCKED, f"{phone} is on the do-not-call list"
                    else:
                        channel = first_channel(requested)
                        first = first_attempt(
                            now,
                            item.not_before,
                            item.deadline,
                            tz,
                            self.policy.window_for(item.tenant, channel),
                            channel,
                        )
                        status, next_at = Status(first.status), first.next_attempt_at
                        if status != Status.PENDING:
                            error = first.reason
                except (InputError, ValueError) as e:
                    status, error = Status.INVALID, str(e)
                row = NotificationRow(
                    source=item.source,
                    external_id=item.external_id,
                    tenant=item.tenant,
                    phone=phone,
                    phone_raw=item.phone,
                    channel=requested.value,
                    current_channel=first_channel(requested).value,
                    scenario=item.scenario,
                    variables=variables,
                    not_before=item.not_before if status != Status.INVALID else None,
                    deadline=item.deadline if status != Status.INVALID else None,
                    timezone=tz,
                    status=status.value,
                    next_attempt_at=next_at if status == Status.PENDING else None,
                    detail=error,
                    created_at=now,
                    updated_at=now,
                )
                try:
                    with s.begin_nested():
                        s.add(row)
                        s.flush()
                except IntegrityError:
                    report.duplicates += 1  # another worker stored it a moment ago
                    continue
                except SQLAlchemyError as e:  # e.g. an id longer than the column
                    report.invalid += 1
                    why = str(getattr(e, "orig", None) or e).strip().splitlines()[0]
                    report.errors.append(f"{item.source}/{item.external_id}: cannot store: {why}")
                    continue
                if status == Status.PENDING:
                    report.new += 1
                    continue
                if status == Status.BLOCKED:
                    report.blocked += 1
                elif status == Status.EXPIRED:
                    report.expired += 1
                else:
                    report.invalid += 1
                report.errors.append(f"{item.source}/{item.external_id}: {error}")
                outbox.enqueue(s, row, status, None, None, now)

    # ---- dispatch --------------------------------------------------------------------------

    def claim_due(
        self,
        owner: str,
        now: datetime,
        limit: int,
        lease_s: float,
        *,
        channels: Collection[ChannelKind] | None = None,
        tenant_slots: Mapping[str, int] | None = None,
        channel_caps: Mapping[ChannelKind, int] | None = None,
    ) -> list[Notification]:
        """Lease up to `limit` due notifications to `owner` and open an attempt row for each.

        Only rows with status PENDING and next_attempt_at <= now are read (index on both).
        `channels`: only notifications whose next attempt uses one of these channels.
        `tenant_slots`: tenant → how many more attempts it may start; tenants not listed are
        limited by `limit` only. `channel_caps`: channel → how many attempts may be in flight on
        it in the whole store, every worker's together (a trunk's channel limit); claims are
        serialized while such a cap is set, so two workers cannot both take the last slot.
        Rows whose calling window closed since they were scheduled are pushed to the next
        opening; rows past their deadline become EXPIRED; rows whose number was blocked
        meanwhile become BLOCKED (both reported to the ERP)."""
        if limit <= 0:
            return []
        slots = dict(tenant_slots or {})
        page = max(limit * 2, 20)
        with self._tx() as s:
            wanted = [c.value for c in channels] if channels is not None else None
            channel_slots: dict[str, int] = {}
            if channel_caps:
                channel_slots = self._channel_slots(s, channel_caps)
                if wanted is None:
                    wanted = [c.value for c in ChannelKind if c != ChannelKind.CALL_THEN_SMS]
                wanted = [c for c in wanted if channel_slots.get(c, 1) > 0]
                if not wanted:
                    return []
            chosen: list[NotificationRow] = []
            seen: list[int] = []
            # Pages of due rows, oldest first. A page can hold rows that are not dispatched
            # (tenant at its cap, window closed, expired, blocked): read on, leaving out tenants
            # that are full and rows already looked at, until the limit is met or none are left.
            for _ in range(10):
                q = select(NotificationRow).where(
                    NotificationRow.status == Status.PENDING.value,
                    NotificationRow.next_attempt_at <= now,
                )
                if wanted is not None:
                    q = q.where(NotificationRow.current_channel.in_(wanted))
                full = [t for t, n in slots.items() if n <= 0]
                if full:
                    q = q.where(NotificationRow.tenant.not_in(full))
                if seen:
                    q = q.where(NotificationRow.id.not_in(seen))
                q = q.order_by(NotificationRow.next_attempt_at).limit(page)
                if self.is_postgres:
                    q = q.with_for_update(skip_locked=True)
                rows = list(s.scalars(q))
                seen.extend(r.id for r in rows)
                chosen.extend(
                    self._dispatchable(s, rows, now, limit - len(chosen), slots, channel_slots)
                )
                if len(chosen) >= limit or len(rows) < page:
                    break
            if not chosen:
                return []
            lease_until = now + timedelta(seconds=lease_s)
            won = s.execute(
                update(NotificationRow)
                .where(
                    NotificationRow.id.in_([r.id for r in chosen]),
                    NotificationRow.status == Status.PENDING.value,
                )
                .values(
                    status=Status.ACTIVE.value,
                    lease_owner=owner,
                    lease_until=lease_until,
                    attempt_seq=NotificationRow.attempt_seq + 1,
                    updated_at=now,
                )
                .returning(NotificationRow.id, NotificationRow.attempt_seq)
                .execution_options(synchronize_session=False)
            ).all()
            seq = {i: n for i, n in won}
            claimed = [r for r in chosen if r.id in seq]
            if not claimed:
                return []
            s.execute(
                insert(AttemptRow),
                [
                    {
                        "notification_id": r.id,
                        "no": seq[r.id],
                        "channel": r.current_channel,
                        "owner": owner,
                        "started_at": now,
                        "dtmf": "",
                        "transcript": "",
                        "detail": "",
                        "said": [],
                    }
                    for r in claimed
                ],
            )
            return [r.as_notification(ChannelKind(r.current_channel), seq[r.id]) for r in claimed]

    def _dispatchable(
        self,
        s: Session,
        rows: list[NotificationRow],
        now: datetime,
        limit: int,
        slots: dict[str, int],
        channel_slots: dict[str, int],
    ) -> list[NotificationRow]:
        """The rows of one page that may start now (at most `limit`); settles the others.
        `slots` (per tenant) and `channel_slots` (per channel) are counted down as rows are
        chosen."""
        blocked = blocklist.blocked_among(s, [r.phone for r in rows])
        chosen: list[NotificationRow] = []
        for row in rows:
            if len(chosen) >= limit:
                break
            if row.deadline is not None and row.deadline <= now:
                self._finalize_unsent(s, row, Status.EXPIRED, "deadline passed", now)
                continue
            if row.phone in blocked:
                why = f"{row.phone} is on the do-not-call list"
                self._finalize_unsent(s, row, Status.BLOCKED, why, now)
                continue
            window = self.policy.window_for(row.tenant, ChannelKind(row.current_channel))
            if not window.is_open(now, row.timezone):
                # The window closed since this attempt was scheduled: wait for it to open.
                s.execute(
                    update(NotificationRow)
                    .where(
                        NotificationRow.id == row.id,
                        NotificationRow.status == Status.PENDING.value,
                    )
                    .values(next_attempt_at=window.next_open(now, row.timezone), updated_at=now)
                    .execution_options(synchronize_session=False)
                )
                continue
            if slots.get(row.tenant, 1) <= 0 or channel_slots.get(row.current_channel, 1) <= 0:
                continue
            if row.tenant in slots:
                slots[row.tenant] -= 1
            if row.current_channel in channel_slots:
                channel_slots[row.current_channel] -= 1
            chosen.append(row)
        return chosen

    def _channel_slots(self, s: Session, caps: Mapping[ChannelKind, int]) -> dict[str, int]:
        """Channel → how many more attempts may start on it, store-wide. On PostgreSQL the
        transaction first takes an advisory lock that every capped claim takes, so counting
        and claiming are one step across workers (SQLite's BEGIN IMMEDIATE already is)."""
        if self.is_postgres:
            s.execute(select(func.pg_advisory_xact_lock(_CLAIM_LOCK_KEY)))
        active = dict(
            s.execute(
                select(NotificationRow.current_channel, func.count())
                .where(NotificationRow.status == Status.ACTIVE.value)
                .group_by(NotificationRow.current_channel)
            ).all()
        )
        return {c.value: cap - int(active.get(c.value, 0)) for c, cap in caps.items()}

    def renew_leases(
        self, owner: str, notification_ids: Collection[int], now: datetime, lease_s: float
    ) -> int:
        """Extend the leases this worker still holds; returns how many it still holds."""
        if not notification_ids:
            return 0
        with self._tx() as s:
            res = s.execute(
                update(NotificationRow)
                .where(
                    NotificationRow.id.in_(list(notification_ids)),
                    NotificationRow.lease_owner == owner,
                    NotificationRow.status == Status.ACTIVE.value,
                )
                .values(lease_until=now + timedelta(seconds=lease_s))
                .execution_options(synchronize_session=False)
            )
            return int(res.rowcount)  # type: ignore[attr-defined]

    def finish_attempt(
        self, notification: Notification, owner: str, result: AttemptResult, now: datetime
    ) -> Status | None:
        """Store the attempt's result and apply the retry policy. Returns the notification's new
        status, or None if this worker had lost the lease (the result is kept on the attempt
        row, but another worker owns the notification now)."""
        with self._tx() as s:
            row = s.get(NotificationRow, notification.id, with_for_update=self.is_postgres)
            att = s.scalar(
                select(AttemptRow).where(
                    AttemptRow.notification_id == notification.id,
                    AttemptRow.no == notification.attempt_no,
                )
            )
            if row is None or att is None:
                raise LookupError(
                    f"notification {notification.id} attempt {notification.attempt_no}: no such row"
                )
            lost = (
                row.status != Status.ACTIVE.value
                or row.lease_owner != owner
                or row.attempt_seq != notification.attempt_no
            )
            _fill_attempt(att, result)
            if result.sms_text:
                # Same transaction as the result: the customer was told an SMS is coming, so
                # it is kept (and sent) even when the lease was lost.
                sms_requests.add(s, notification, result.sms_text, now)
            if lost:
                att.detail = (att.detail + "; " if att.detail else "") + (
                    "finished after the lease was lost: result not applied"
                )
                log.warning(
                    "notification %s attempt %s finished after %s lost the lease",
                    row.id,
                    notification.attempt_no,
                    owner,
                )
                return None
            return self._apply(s, row, att, result.outcome, result.callback_at, now)

    def interrupt(self, notification: Notification, owner: str, now: datetime, why: str) -> bool:
        """Record an attempt of this worker as INTERRUPTED (shutdown with a call still running)."""
        with self._tx() as s:
            row = s.get(NotificationRow, notification.id, with_for_update=self.is_postgres)
            if row is None or row.status != Status.ACTIVE.value or row.lease_owner != owner:
                return False
            att = self._current_attempt(s, row)
            if att is None or att.outcome is not None:
                return False
            att.outcome, att.ended_at, att.detail = Outcome.INTERRUPTED.value, now, why
            att.duration_s = (now - att.started_at).total_seconds()
            self._apply(s, row, att, Outcome.INTERRUPTED, None, now)
            return True

    def reap_expired_leases(self, now: datetime, limit: int = 100) -> int:
        """Attempts whose worker died (lease expired): record them INTERRUPTED and let the
        policy schedule the retry. Returns how many were reaped."""
        with self._tx() as s:
            q = (
                select(NotificationRow)
                .where(
                    NotificationRow.status == Status.ACTIVE.value,
                    NotificationRow.lease_until < now,
                )
                .order_by(NotificationRow.lease_until)
                .limit(limit)
            )
            if self.is_postgres:
                q = q.with_for_update(skip_locked=True)
            rows = list(s.scalars(q))
            for row in rows:
                att = self._current_attempt(s, row)
                if att is not None and att.outcome is None:
                    att.outcome = Outcome.INTERRUPTED.value
                    att.ended_at = now
                    att.duration_s = (now - att.started_at).total_seconds()
                    att.detail = (
                        f"lease of {row.lease_owner} expired at {row.lease_until}: worker gone"
                    )
                log.warning("reaped notification %s from %s", row.id, row.lease_owner)
                self._apply(s, row, att, Outcome.INTERRUPTED, None, now)
            return len(rows)

    # ---- policy ----------------------------------------------------------------------------

    def _apply(
        self,
        s: Session,
        row: NotificationRow,
        att: AttemptRow | None,
        outcome: Outcome,
        callback_at: datetime | None,
        now: datetime,
    ) -> Status:
        from cuckoo.policy import AttemptHistory, decide

        history = AttemptHistory(
            attempts=row.channel_attempts + 1,
            contacts=row.contacts,
            network_failures=row.network_failures + (outcome == Outcome.NETWORK),
            rejections=row.rejections + (outcome == Outcome.REJECTED),
            channel=ChannelKind(row.channel),
            current_channel=ChannelKind(row.current_channel),
            deadline=row.deadline,
        )
        decision = decide(
            history,
            outcome,
            callback_at,
            now,
            row.timezone,
            self.policy.policy_for(row.tenant, row.scenario),
            self.policy.window_for(row.tenant, ChannelKind(row.current_channel)),
            self.policy.window_for(row.tenant, ChannelKind.SMS),
        )
        status = Status(decision.status)
        if status == Status.ACTIVE:
            status = Status.PENDING
        row.attempts += int(bool(decision.counts_as_attempt))
        row.channel_attempts += int(bool(decision.counts_as_attempt))
        row.contacts += int(bool(decision.counts_as_contact))
        row.network_failures += int(outcome == Outcome.NETWORK)
        row.rejections += int(outcome == Outcome.REJECTED)
        row.status = status.value
        pending = status == Status.PENDING
        row.next_attempt_at = (decision.next_attempt_at or now) if pending else None
        next_channel = ChannelKind(decision.next_channel or row.current_channel).value
        if next_channel != row.current_channel:  # call_then_sms fell back to SMS: new cap
            row.current_channel, row.channel_attempts = next_channel, 0
        row.lease_owner = None
        row.lease_until = None
        row.last_outcome = outcome.value
        row.last_attempt_at = att.ended_at if att is not None and att.ended_at else now
        row.detail = decision.reason or ""
        row.updated_at = now
        if outcome == Outcome.OPTED_OUT and row.phone:
            blocklist.add(s, row.phone, f"opted out ({row.source}/{row.external_id})", now)
        # Final results go to the ERP; so does an agreed callback time (the manager sees it).
        if status.is_final or outcome == Outcome.CALLBACK_REQUESTED:
            outbox.enqueue(s, row, status, outcome, att, now)
        return status

    def _finalize_unsent(
        self, s: Session, row: NotificationRow, status: Status, why: str, now: datetime
    ) -> None:
        res = s.execute(
            update(NotificationRow)
            .where(NotificationRow.id == row.id, NotificationRow.status == Status.PENDING.value)
            .values(status=status.value, next_attempt_at=None, detail=why, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if res.rowcount:  # type: ignore[attr-defined]
            row.status, row.detail = status.value, why
            outbox.enqueue(s, row, status, None, None, now)

    @staticmethod
    def _current_attempt(s: Session, row: NotificationRow) -> AttemptRow | None:
        return s.scalar(
            select(AttemptRow).where(
                AttemptRow.notification_id == row.id, AttemptRow.no == row.attempt_seq
            )
        )

    # ---- outbox ----------------------------------------------------------------------------

    def claim_outbox(
        self,
        now: datetime,
        limit: int,
        lease_s: float,
        sources: Collection[str] | None = None,
    ) -> list[OutboxItem]:
        """Reports due to be sent, leased to this worker: outbox.claim."""
        with self._db.tx() as s:
            return outbox.claim(s, now, limit, lease_s, sources)

    def outbox_ack(self, item_id: int, now: datetime) -> None:
        with self._db.tx() as s:
            outbox.ack(s, item_id, now)

    def outbox_failed(self, item_id: int, error: str, retry_at: datetime) -> None:
        with self._db.tx() as s:
            outbox.failed(s, item_id, error, retry_at)

    def outbox_pending(self) -> int:
        return sum(self.outbox_pending_by_source().values())

    def outbox_pending_by_source(self) -> dict[str, int]:
        """Reports not yet acknowledged, per ERP source."""
        with self._db.tx() as s:
            return outbox.pending_by_source(s)

    # ---- SMS requested during calls ----------------------------------------------------------

    def claim_sms_requests(self, now: datetime, limit: int, lease_s: float) -> list[SmsRequestItem]:
        """Requests due to be sent, leased to this worker: sms_requests.claim."""
        with self._db.tx() as s:
            return sms_requests.claim(s, self.policy.window_for, now, limit, lease_s)

    def sms_request_sent(
        self, request_id: int, gateway_message_id: str | None, detail: str, now: datetime
    ) -> bool:
        """The gateway accepted the SMS; its receipt is matched by gateway_message_id."""
        with self._db.tx() as s:
            return sms_requests.sent(s, request_id, gateway_message_id, detail, now)

    def sms_request_retry(self, request_id: int, error: str, retry_at: datetime) -> bool:
        """Sending failed for now (gateway down): try again at retry_at."""
        with self._db.tx() as s:
            return sms_requests.retry(s, request_id, error, retry_at)

    def sms_request_failed(self, request_id: int, reason: str, now: datetime) -> bool:
        """Final: the SMS will not be sent (refused, blocked number, too long, retries used up)."""
        with self._db.tx() as s:
            return sms_requests.failed(s, request_id, reason, now)

    def sms_requests_of(self, notification_id: int) -> list[SmsRequestRow]:
        with self._db.tx() as s:
            return sms_requests.of_notification(s, notification_id)

    def sms_request_counts(self) -> dict[str, int]:
        """In-call SMS requests by state (pending / sent / failed)."""
        with self._db.tx() as s:
            return sms_requests.counts(s)

    # ---- do-not-call list ------------------------------------------------------------------

    def block(self, phone: str, reason: str, now: datetime) -> str:
        """Put a number on the do-not-call list; returns it in E.164. Raises InputError."""
        e164 = normalize_phone(phone, self.default_region)
        with self._db.tx() as s:
            blocklist.add(s, e164, reason, now)
        return e164

    def unblock(self, phone: str) -> bool:
        e164 = normalize_phone(phone, self.default_region)
        with self._db.tx() as s:
            return blocklist.remove(s, e164)

    def is_blocked(self, phone: str) -> bool:
        e164 = normalize_phone(phone, self.default_region)
        with self._db.tx() as s:
            return blocklist.contains(s, e164)

    def blocked_numbers(self) -> list[BlockedNumberRow]:
        with self._db.tx() as s:
            return blocklist.all_numbers(s)

    # ---- reading ---------------------------------------------------------------------------

    def counts_by_status(self) -> dict[str, int]:
        with self._db.tx() as s:
            return reports.counts_by_status(s)

    def due_by_channel(self, now: datetime) -> dict[str, int]:
        """Pending notifications due now, counted by the channel their next attempt needs."""
        with self._db.tx() as s:
            return reports.due_by_channel(s, now)

    def due_summary(self, now: datetime) -> tuple[int, datetime | None]:
        """How many pending notifications are due now, and when the next one after now is."""
        with self._db.tx() as s:
            return reports.due_summary(s, now)

    def get(self, source: str, external_id: str) -> NotificationRow | None:
        with self._db.tx() as s:
            return reports.get(s, source, external_id)

    def attempts_of(self, notification_id: int) -> list[AttemptRow]:
        with self._db.tx() as s:
            return reports.attempts_of(s, notification_id)

    def outbox_of(self, notification_id: int) -> list[OutboxRow]:
        with self._db.tx() as s:
            return reports.outbox_of(s, notification_id)

    def attempts_report(
        self, since: datetime | None = None, limit: int | None = None
    ) -> list[AttemptLine]:
        with self._db.tx() as s:
            return reports.attempts_report(s, since, limit)

    def update_receipt(self, gateway_message_id: str, receipt_status: str) -> bool:
        """Store an SMS delivery receipt: reports.update_receipt."""
        with self._db.tx() as s:
            return reports.update_receipt(s, gateway_message_id, receipt_status)


def _fill_attempt(att: AttemptRow, r: AttemptResult) -> None:
    att.outcome = Outcome(r.outcome).value
    att.started_at = r.started_at
    att.answered_at = r.answered_at
    att.ended_at = r.ended_at
    att.sip_code = r.sip_code
    att.q850 = r.q850_cause
    att.dtmf = r.dtmf
    att.transcript = r.transcript
    att.duration_s = r.duration_s
    att.recording_path = r.recording_path
    att.detail = r.detail
    att.said = list(r.said)
    att.callback_at = r.callback_at
    att.gateway_message_id = r.gateway_message_id

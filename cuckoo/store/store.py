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
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from cuckoo.domain import (
    AttemptResult,
    ChannelKind,
    IncomingNotification,
    Notification,
    Status,
)
from cuckoo.errors import InputError
from cuckoo.intake.phones import normalize_phone
from cuckoo.store import blocklist, notifications, outbox, reports, sms_requests
from cuckoo.store.database import Database, default_url
from cuckoo.store.models import (
    AttemptRow,
    BlockedNumberRow,
    NotificationRow,
    OutboxRow,
    SmsRequestRow,
)
from cuckoo.store.notifications import PolicyProvider
from cuckoo.store.outbox import OutboxItem
from cuckoo.store.reports import AttemptLine
from cuckoo.store.sms_requests import SmsRequestItem

if TYPE_CHECKING:
    from cuckoo.config import Config

log = logging.getLogger(__name__)


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
        """Lease due notifications to `owner`: notifications.claim_due."""
        with self._db.tx() as s:
            return notifications.claim_due(
                s,
                self.policy,
                owner,
                now,
                limit,
                lease_s,
                channels=channels,
                tenant_slots=tenant_slots,
                channel_caps=channel_caps,
            )

    def renew_leases(
        self, owner: str, notification_ids: Collection[int], now: datetime, lease_s: float
    ) -> int:
        """Extend the leases `owner` still holds: notifications.renew_leases."""
        with self._db.tx() as s:
            return notifications.renew_leases(s, owner, notification_ids, now, lease_s)

    def finish_attempt(
        self, notification: Notification, owner: str, result: AttemptResult, now: datetime
    ) -> Status | None:
        """Store a result and apply the retry policy: notifications.finish_attempt."""
        with self._db.tx() as s:
            return notifications.finish_attempt(s, self.policy, notification, owner, result, now)

    def interrupt(self, notification: Notification, owner: str, now: datetime, why: str) -> bool:
        """End a running attempt as INTERRUPTED: notifications.interrupt."""
        with self._db.tx() as s:
            return notifications.interrupt(s, self.policy, notification, owner, now, why)

    def reap_expired_leases(self, now: datetime, limit: int = 100) -> int:
        """Interrupt attempts of dead workers: notifications.reap_expired_leases."""
        with self._db.tx() as s:
            return notifications.reap_expired_leases(s, self.policy, now, limit)

    # ---- policy ----------------------------------------------------------------------------

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

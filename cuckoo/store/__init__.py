"""The store: notifications, attempts, the outbox to the ERPs, SMS requested during calls and
the do-not-call list, on SQLite or PostgreSQL, shared safely by several `cuckoo run` processes.

`Store` is a thin front: each method is one transaction (`Database.tx`) around a function of the
module of its concern, where its contract (what it persists, its lease rules) is written:

- `database`: the engine (SQLite: WAL, BEGIN IMMEDIATE), transactions, the schema's revision;
- `intake`: storing new notifications; what a row becomes is `cuckoo.intake.admission.admit`'s;
- `notifications`: claim the due ones, renew leases, finish, interrupt, reap dead leases;
- `cancels`: cancelling (by hand, the API, or withdrawn in the ERP);
- `outbox`: results to write back to the ERPs;
- `sms_requests`: SMS requested during calls;
- `blocklist`: the do-not-call list;
- `wrong_numbers`: (tenant, phone, customer) where somebody else answered;
- `reports`: counts and reads, SMS delivery receipts;
- `browse`: the web console's and the API's reads, scoped to a tenant;
- `console`: web users, their sessions, API tokens, the audit log.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime

from sqlalchemy import select

from cuckoo.clock import utcnow
from cuckoo.config import Config
from cuckoo.config.policy import PolicySettings
from cuckoo.domain import (
    AttemptResult,
    CancelResult,
    ChannelKind,
    IncomingNotification,
    Notification,
    Outcome,
    Status,
)
from cuckoo.errors import StoreUnavailable
from cuckoo.intake.admission import AdmissionContext, Admitted, Rejected, VariablesCheck
from cuckoo.intake.phones import normalize_phone
from cuckoo.store import (
    blocklist,
    cancels,
    intake,
    notifications,
    outbox,
    reports,
    retention,
    sms_requests,
    wrong_numbers,
)
from cuckoo.store.browse import Dashboard, NotificationQuery
from cuckoo.store.console import ConsoleStore
from cuckoo.store.database import Database, default_url, make_engine
from cuckoo.store.intake import IngestReport
from cuckoo.store.models import (
    AttemptRow,
    BlockedNumberRow,
    NotificationRow,
    OutboxRow,
    SmsRequestRow,
)
from cuckoo.store.notifications import PolicyProvider
from cuckoo.store.outbox import OutboxItem, report_from_json, report_to_json
from cuckoo.store.reports import AttemptLine, ReportFilter
from cuckoo.store.sms_requests import SmsRequestItem, SmsRequestState

__all__ = [
    "AttemptLine",
    "Dashboard",
    "IngestReport",
    "NotificationQuery",
    "OutboxItem",
    "ReportFilter",
    "SmsRequestItem",
    "SmsRequestState",
    "Store",
    "default_url",
    "make_engine",
    "report_from_json",
    "report_to_json",
]


class Store:
    """The store's operations; see the module of each concern for what it guarantees."""

    def __init__(
        self,
        url: str,
        *,
        policy: PolicyProvider | None = None,
        known_scenarios: Collection[str] | None = None,
        check_variables: VariablesCheck | None = None,
        default_region: str = "RU",
        busy_timeout_ms: int = 10_000,
        echo: bool = False,
        create: bool = True,
        report_every_attempt: Collection[str] = (),
    ) -> None:
        # create=False: a missing SQLite file is a ConfigError and nothing is made on disk.
        self._db = Database(url, busy_timeout_ms=busy_timeout_ms, echo=echo, create=create)
        self.url = url
        self.engine = self._db.engine
        self.is_postgres = self._db.is_postgres
        self.policy: PolicyProvider = policy if policy is not None else PolicySettings()
        # kept as given: a live collection (worker.store.ScenarioNames) sees files added later
        self.known_scenarios = known_scenarios
        # (scenario, variables) -> problems; rejects a row whose texts would not render
        # before anybody is called, instead of failing mid-call.
        self.check_variables = check_variables
        self.default_region = default_region
        # sources whose ERP hears of every attempt, not only final results (a webhook's
        # webhook_attempts): their outbox gets each finished attempt too
        self.report_every_attempt = frozenset(report_every_attempt)
        # what the web console and the API read and write (users, tokens, pages of rows)
        self.console = ConsoleStore(self._db)

    @classmethod
    def from_config(
        cls,
        config: Config,
        known_scenarios: Collection[str] | None = None,
        check_variables: VariablesCheck | None = None,
        *,
        create: bool = True,
    ) -> Store:
        return cls(
            default_url(config),
            policy=config.policy,
            known_scenarios=known_scenarios,
            check_variables=check_variables,
            default_region=config.store.default_region,
            busy_timeout_ms=config.store.busy_timeout_ms,
            echo=config.store.echo,
            create=create,
        )

    def close(self) -> None:
        self._db.close()

    def watch(self, watcher: Callable[[StoreUnavailable | None], None]) -> None:
        """Call `watcher` after every transaction: with None when it committed, with the
        StoreUnavailable it raised when the database could not be reached or written."""
        self._db.watchers.append(watcher)

    # ---- schema (database) ---------------------------------------------------------------

    def upgrade(self) -> str | None:
        """Bring the schema to the newest Alembic revision; returns that revision."""
        return self._db.upgrade()

    def require_schema(self) -> None:
        """Raise ConfigError unless the schema is at the newest revision."""
        self._db.require_schema()

    # ---- intake ----------------------------------------------------------------------------

    def ingest(
        self, items: Sequence[IncomingNotification], now: datetime, *, keep_rejected: bool = True
    ) -> IngestReport:
        """Store new notifications: intake.ingest (`keep_rejected=False`: a rejected row is
        refused, not stored, as for a row typed by hand)."""
        context = self._admission_context()
        return intake.ingest(self._db, items, now, context, keep_rejected=keep_rejected)

    def preview_ingest(
        self, items: Sequence[IncomingNotification], now: datetime
    ) -> list[tuple[IncomingNotification, Admitted | Rejected | None]]:
        """What `ingest` would make of each item (None: stored already); writes nothing."""
        return intake.preview(self._db, items, now, self._admission_context())

    def _admission_context(self) -> AdmissionContext:
        return AdmissionContext(
            self.policy,
            self.known_scenarios,
            self.check_variables,
            self.default_region,
            max_variable_chars=self.policy.max_variable_chars,
            consent_tenants=self.policy.consent_tenants(),
        )

    # ---- notifications in flight -----------------------------------------------------------

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
            status = notifications.finish_attempt(s, self.policy, notification, owner, result, now)
            interim = status == Status.PENDING and result.outcome != Outcome.CALLBACK_REQUESTED
            if interim and notification.source in self.report_every_attempt:
                outbox.enqueue_latest(s, notification.id, now)  # final ones are queued already
            return status

    def interrupt(self, notification: Notification, owner: str, now: datetime, why: str) -> bool:
        """End a running attempt as INTERRUPTED: notifications.interrupt."""
        with self._db.tx() as s:
            return notifications.interrupt(s, self.policy, notification, owner, now, why)

    def reap_expired_leases(self, now: datetime, limit: int = 100) -> int:
        """Interrupt attempts of dead workers: notifications.reap_expired_leases."""
        with self._db.tx() as s:
            return notifications.reap_expired_leases(s, self.policy, now, limit)

    # ---- cancelling ------------------------------------------------------------------------

    def cancel_notification(
        self, notification_id: int, *, reason: str, now: datetime | None = None
    ) -> CancelResult:
        """Cancel one notification: cancels.cancel (a call under way finishes first)."""
        with self._db.tx() as s:
            return cancels.cancel(s, notification_id, reason, now or utcnow())

    def open_external_ids(self, source: str) -> set[str]:
        """External ids of `source`'s notifications not yet final: cancels.open_external_ids."""
        with self._db.tx() as s:
            return cancels.open_external_ids(s, source)

    def withdraw(self, source: str, external_ids: Collection[str], now: datetime) -> int:
        """Cancel these notifications as withdrawn in their ERP: cancels.withdraw."""
        with self._db.tx() as s:
            return cancels.withdraw(s, source, external_ids, now)

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

    # ---- SMS requested during calls --------------------------------------------------------

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

    def block_many(self, numbers: Sequence[tuple[str, str]], now: datetime) -> int:
        """(E.164, reason) pairs onto the list in one transaction; returns how many were new."""
        with self._db.tx() as s:
            new = [e for e, _ in numbers if not blocklist.contains(s, e)]
            for e164, reason in numbers:
                blocklist.add(s, e164, reason, now)
            return len(set(new))

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

    # ---- retention -------------------------------------------------------------------------

    def purge(
        self, before: datetime, limit: int = 500, *, dry_run: bool = False
    ) -> retention.PurgeReport:
        """Purge personal data of notifications final since before `before`: retention.purge."""
        with self._db.tx() as s:
            return retention.purge(s, before, limit, dry_run=dry_run)

    # ---- wrong numbers ---------------------------------------------------------------------

    def forget_wrong_number(self, phone: str, tenant: str | None = None) -> int:
        """Forget the wrong numbers recorded for `phone` (one tenant's, or every tenant's):
        wrong_numbers.forget. Returns how many (customer, tenant) pairs. Raises InputError."""
        e164 = normalize_phone(phone, self.default_region)
        with self._db.tx() as s:
            return wrong_numbers.forget(s, e164, tenant)

    def wrong_number_count(self) -> int:
        """Recorded (tenant, phone, customer) wrong numbers."""
        with self._db.tx() as s:
            return wrong_numbers.count(s)

    # ---- reading ---------------------------------------------------------------------------

    def counts_by_status(self) -> dict[str, int]:
        with self._db.tx() as s:
            return reports.counts_by_status(s)

    def due_by_channel(self, now: datetime) -> dict[str, int]:
        """Pending notifications due now, counted by the channel their next attempt needs."""
        with self._db.tx() as s:
            return reports.due_by_channel(s, now)

    def due_notifications(self, now: datetime, limit: int = 100) -> list[Notification]:
        """Pending notifications due now, not leased: reports.due_notifications."""
        with self._db.tx() as s:
            return reports.due_notifications(s, now, limit)

    def due_summary(self, now: datetime) -> tuple[int, datetime | None]:
        """How many pending notifications are due now, and when the next one after now is."""
        with self._db.tx() as s:
            return reports.due_summary(s, now)

    def get(self, source: str, external_id: str) -> NotificationRow | None:
        with self._db.tx() as s:
            return reports.get(s, source, external_id)

    def get_by_id(self, notification_id: int) -> NotificationRow | None:
        with self._db.tx() as s:
            return s.get(NotificationRow, notification_id)

    def attempts_of(self, notification_id: int) -> list[AttemptRow]:
        with self._db.tx() as s:
            return reports.attempts_of(s, notification_id)

    def outbox_of(self, notification_id: int) -> list[OutboxRow]:
        with self._db.tx() as s:
            return reports.outbox_of(s, notification_id)

    def attempts_report(
        self,
        since: datetime | None = None,
        limit: int | None = None,
        where: ReportFilter | None = None,
    ) -> list[AttemptLine]:
        with self._db.tx() as s:
            return reports.attempts_report(s, since, limit, where)

    def update_receipt(self, gateway_message_id: str, receipt_status: str) -> bool:
        """Store an SMS delivery receipt: reports.update_receipt."""
        with self._db.tx() as s:
            return reports.update_receipt(s, gateway_message_id, receipt_status)

    def ping(self) -> None:
        """Raises StoreUnavailable when the database cannot be reached (/healthz)."""
        with self._db.tx() as s:
            s.execute(select(1))

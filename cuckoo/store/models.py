"""SQLAlchemy tables of the store. Times are stored in UTC and come back timezone-aware.

Changing a table means a new Alembic revision in migrations/versions/.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from cuckoo.domain import (
    AttemptResult,
    ChannelKind,
    JsonObject,
    Notification,
    Outcome,
    Variables,
)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend.

    SQLite has no time zones: values are stored as naive UTC there, so text comparison of stored
    values and bound parameters stays correct."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store needs timezone-aware times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Stable constraint names so migrations work the same on SQLite (batch mode) and PostgreSQL.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        JsonObject: JSON,
        list[str]: JSON,
    }


# The rows of calls in flight (the partial unique index below), as SQL.
ACTIVE_CALL = "status = 'active' AND current_channel = 'call'"


class NotificationRow(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        # Dispatch reads only due rows: status = 'pending' AND next_attempt_at <= now.
        Index("ix_notifications_due", "status", "next_attempt_at"),
        Index("ix_notifications_lease", "status", "lease_until"),
        Index("ix_notifications_phone", "phone"),
        # The console's list: newest first, filtered by status and tenant, or an ERP id.
        Index("ix_notifications_status_id", "status", "id"),
        Index("ix_notifications_tenant_status_id", "tenant", "status", "id"),
        Index("ix_notifications_external_id", "external_id"),
        # One customer, one call: at most one call in flight per phone, cluster-wide. The claim
        # never tries a second one (store/notifications.py); this index is the database's own
        # last word if anything did.
        Index(
            "uq_notifications_phone_in_call",
            "phone",
            unique=True,
            sqlite_where=text(ACTIVE_CALL),
            postgresql_where=text(ACTIVE_CALL),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(200))
    tenant: Mapped[str] = mapped_column(String(100), default="default")
    phone: Mapped[str] = mapped_column(String(32))  # E.164; empty when it could not be parsed
    phone_raw: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(20))  # as requested: call / sms / call_then_sms
    current_channel: Mapped[str] = mapped_column(String(20))  # call or sms: the next attempt's
    scenario: Mapped[str] = mapped_column(String(100))
    variables: Mapped[Variables] = mapped_column(default=dict)
    not_before: Mapped[datetime | None]
    deadline: Mapped[datetime | None]
    timezone: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(default=0)  # attempts the policy counts, all channels
    channel_attempts: Mapped[int] = mapped_column(default=0)  # the same, on current_channel
    contacts: Mapped[int] = mapped_column(default=0)
    network_failures: Mapped[int] = mapped_column(default=0)
    rejections: Mapped[int] = mapped_column(default=0)
    attempt_seq: Mapped[int] = mapped_column(default=0)  # number of attempt rows, counted or not
    next_attempt_at: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None]
    last_outcome: Mapped[str | None] = mapped_column(String(30))
    last_attempt_at: Mapped[datetime | None]
    detail: Mapped[str] = mapped_column(Text, default="")  # why INVALID/BLOCKED, policy reason
    # Cancelled (store/cancels.py): why and when; set on an ACTIVE row, it ends CANCELLED
    # once its call is over, unless the customer gave a final answer.
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    cancel_requested_at: Mapped[datetime | None]
    consent: Mapped[str] = mapped_column(String(500), default="")  # the ERP's consent record
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    def as_notification(self, channel: ChannelKind, attempt_no: int) -> Notification:
        """The notification as a channel sees it for attempt `attempt_no` (for an in-call SMS
        request: the call attempt that asked for it)."""
        return Notification(
            id=self.id,
            source=self.source,
            external_id=self.external_id,
            tenant=self.tenant,
            phone=self.phone,
            phone_raw=self.phone_raw,
            channel=channel,
            scenario=self.scenario,
            variables=dict(self.variables),
            timezone=self.timezone,
            attempt_no=attempt_no,
            contacts=self.contacts,
        )


class AttemptRow(Base):
    __tablename__ = "attempts"
    __table_args__ = (
        UniqueConstraint("notification_id", "no"),
        Index("ix_attempts_started_at", "started_at"),
        Index("ix_attempts_gateway_message_id", "gateway_message_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"))
    no: Mapped[int]
    channel: Mapped[str] = mapped_column(String(20))
    owner: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    sip_code: Mapped[int | None]
    q850: Mapped[int | None]
    outcome: Mapped[str | None] = mapped_column(String(30))  # NULL while in flight
    dtmf: Mapped[str] = mapped_column(String(50), default="")
    transcript: Mapped[str] = mapped_column(Text, default="")
    duration_s: Mapped[float | None] = mapped_column(Float)
    recording_path: Mapped[str | None] = mapped_column(String(500))
    detail: Mapped[str] = mapped_column(Text, default="")
    said: Mapped[list[str]] = mapped_column(default=list)
    path: Mapped[list[str]] = mapped_column(default=list)  # the dialog's states, as visited
    callback_at: Mapped[datetime | None]
    gateway_message_id: Mapped[str | None] = mapped_column(String(100))
    receipt_status: Mapped[str | None] = mapped_column(String(50))

    def fill(self, r: AttemptResult) -> None:
        """Take the facts of a finished attempt."""
        self.outcome = Outcome(r.outcome).value
        self.started_at = r.started_at
        self.answered_at = r.answered_at
        self.ended_at = r.ended_at
        self.sip_code = r.sip_code
        self.q850 = r.q850_cause
        self.dtmf = r.dtmf
        self.transcript = r.transcript
        self.duration_s = r.duration_s
        self.recording_path = r.recording_path
        self.detail = r.detail
        self.said = list(r.said)
        self.path = list(r.path)
        self.callback_at = r.callback_at
        self.gateway_message_id = r.gateway_message_id


class OutboxRow(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "acked_at", "next_try_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"))
    source: Mapped[str] = mapped_column(String(100))  # the adapter that gets the report
    payload: Mapped[JsonObject]  # a ResultReport as JSON
    created_at: Mapped[datetime]
    tries: Mapped[int] = mapped_column(default=0)
    next_try_at: Mapped[datetime]
    last_error: Mapped[str] = mapped_column(Text, default="")
    acked_at: Mapped[datetime | None]


class BlockedNumberRow(Base):
    __tablename__ = "blocked_numbers"

    phone: Mapped[str] = mapped_column(String(32), primary_key=True)  # E.164
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]


class WrongNumberRow(Base):
    """Somebody else answered this number for this customer (outcome wrong_number): the
    customer is not called nor texted at this number again (cuckoo.store.wrong_numbers)."""

    __tablename__ = "wrong_numbers"
    __table_args__ = (Index("ix_wrong_numbers_phone", "phone"),)

    tenant: Mapped[str] = mapped_column(String(100), primary_key=True)
    phone: Mapped[str] = mapped_column(String(32), primary_key=True)  # E.164
    customer: Mapped[str] = mapped_column(String(200), primary_key=True)  # customer_key()
    reason: Mapped[str] = mapped_column(Text, default="")  # where it was found: source/id
    created_at: Mapped[datetime]


class SmsRequestRow(Base):
    """An SMS a call's dialog asked to send (an `sms:` step), stored with the attempt's result
    and sent by the scheduler's flush_sms_requests job: pending → sent | failed."""

    __tablename__ = "sms_requests"
    __table_args__ = (
        # One request per attempt: storing an attempt's result twice cannot text twice.
        UniqueConstraint("notification_id", "attempt_no"),
        Index("ix_sms_requests_due", "state", "next_try_at"),
        Index("ix_sms_requests_gateway_message_id", "gateway_message_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"))
    attempt_no: Mapped[int]  # the call attempt whose dialog asked for it
    text: Mapped[str] = mapped_column(Text)  # rendered during the call
    state: Mapped[str] = mapped_column(String(20))  # pending | sent | failed
    created_at: Mapped[datetime]
    # When to try next; while a worker sends, pushed ahead by its lease. NULL once done.
    next_try_at: Mapped[datetime | None]
    tries: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None]  # accepted by the gateway
    done_at: Mapped[datetime | None]  # sent or failed for good
    gateway_message_id: Mapped[str | None] = mapped_column(String(100))
    receipt_status: Mapped[str | None] = mapped_column(String(50))
    detail: Mapped[str] = mapped_column(Text, default="")  # the gateway's answer, why it failed


class WebUserRow(Base):
    """A person who logs in to the web console (cuckoo.store.console)."""

    __tablename__ = "web_users"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))  # admin | manager | viewer
    tenant: Mapped[str | None] = mapped_column(String(100))  # None: every tenant (admins only)
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2
    created_at: Mapped[datetime]


class WebSessionRow(Base):
    """A logged-in browser: the cookie's sha256 (the cookie itself is never stored)."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_name: Mapped[str] = mapped_column(
        ForeignKey("web_users.name", ondelete="CASCADE"), index=True
    )
    csrf: Mapped[str] = mapped_column(String(64))  # the token every form of this session posts
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class ApiTokenRow(Base):
    """A Bearer token of the HTTP API, for one tenant: its sha256 only."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    tenant: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class AuditRow(Base):
    """One admin action (block, unblock, cancel, user and token changes): who, what, when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(100))  # user name, "cli", "api:TOKEN_NAME"
    action: Mapped[str] = mapped_column(String(50))
    target: Mapped[str] = mapped_column(String(300))
    detail: Mapped[str] = mapped_column(Text, default="")

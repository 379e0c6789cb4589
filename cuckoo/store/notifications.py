"""Notifications in flight: claim the due ones, renew their leases, finish, interrupt or reap
their attempts. The store only persists; cuckoo.policy decides what an outcome means.

What it persists: a claim moves a notification PENDING → ACTIVE with a lease (owner, until) and
opens an `AttemptRow` numbered by attempt_seq; finishing fills the attempt, asks
`cuckoo.policy.decide` for the new status and next attempt, releases the lease, and in the same
transaction queues the report for the ERP when the status is final or a callback was agreed
(outbox), lists a customer who opted out (blocklist), records a wrong number and ends that
customer's other notifications to it (wrong_numbers), and keeps an SMS the call promised
(sms_requests).

Lease rules (every function takes the caller's session, i.e. runs in its transaction):
- `claim_due`: due rows (PENDING, next_attempt_at <= now) are read `FOR UPDATE SKIP LOCKED` on
  PostgreSQL, so two workers never see the same row; under SQLite's BEGIN IMMEDIATE one writer
  claims at a time. The claim itself is a conditional UPDATE (`... AND status = 'pending'`):
  a notification is delivered only by the worker whose UPDATE moved it to ACTIVE. With channel
  caps, PostgreSQL claims are serialized by a transaction-scoped advisory lock, so counting the
  attempts in flight and claiming are one step across workers.
- One customer, one call: a claim never leases a CALL to a phone with one ACTIVE (any tenant),
  nor two in one batch; a partial unique index has the last word (store/phonecalls.py).
- `renew_leases`: extends only leases this owner still holds on ACTIVE rows. `finish_attempt` /
  `interrupt`: the row is locked (FOR UPDATE on PostgreSQL); the result is applied if this
  owner still holds the lease on this attempt; a cancel asked for meanwhile ends it CANCELLED.
- `finish_attempt` is idempotent: a worker replays the results of its journal
  (cuckoo.worker.journal) until the store took them, so the same result stored twice (same
  attempt, outcome and end time) is a no-op that returns the notification's status.
- A result that arrives after the lease was lost (the worker could not reach the store for
  longer than its lease and was reaped) is late. Its facts replace the reaper's INTERRUPTED on
  its attempt row; whether it also decides the notification is `cuckoo.policy.late.late_result`:
  yes when the customer was reached and nothing the customer said is stored since (a confirmed
  customer ends CONFIRMED and is not called again), else it is marked as not applied.
- `reap_expired_leases`: only leases that have expired (lease_until < now), read with SKIP LOCKED
  on PostgreSQL; their attempts end INTERRUPTED — provisionally: the worker may still hold the
  real result in its journal (above) — and the policy schedules the retry. Workers renew their
  leases while attempts run and while their results wait in the journal, so a live worker that
  reaches the store is never reaped.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from cuckoo.domain import AttemptResult, ChannelKind, Notification, Outcome, Status
from cuckoo.intake.admission import wrong_number_reason
from cuckoo.policy.late import Verdict, late_result, same_result
from cuckoo.policy.percustomer import PhoneLimits
from cuckoo.policy.retry import AttemptHistory, RetryPolicy, decide
from cuckoo.policy.windows import CallingWindow
from cuckoo.store import blocklist, cancels, outbox, phonecalls, sms_requests, wrong_numbers
from cuckoo.store.database import is_postgres
from cuckoo.store.models import AttemptRow, NotificationRow

__all__ = [
    "PolicyProvider",
    "claim_due",
    "finish_attempt",
    "interrupt",
    "reap_expired_leases",
    "renew_leases",
]

log = logging.getLogger(__name__)

# pg_advisory_xact_lock key of claims under a store-wide channel cap (any constant will do;
# this one spells "cuckoo" in ASCII).
CLAIM_LOCK_KEY = 0x6375636B6F6F


class PolicyProvider(Protocol):
    """What the store asks of the [policy] settings (cuckoo.config.policy.PolicySettings)."""

    def policy_for(self, tenant: str, scenario: str) -> RetryPolicy: ...

    def window_for(self, tenant: str, channel: ChannelKind) -> CallingWindow: ...

    def tenant_timezone(self, tenant: str) -> str: ...

    def phone_limits(self) -> PhoneLimits: ...

    @property
    def max_variable_chars(self) -> int: ...

    def consent_tenants(self) -> frozenset[str]: ...


def claim_due(
    s: Session,
    policy: PolicyProvider,
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
    meanwhile become BLOCKED, rows whose number was found wrong for their customer meanwhile
    WRONG_NUMBER (all reported to the ERP)."""
    if limit <= 0:
        return []
    slots = dict(tenant_slots or {})
    page = max(limit * 2, 20)
    wanted = [c.value for c in channels] if channels is not None else None
    channel_slots: dict[str, int] = {}
    if channel_caps:
        channel_slots = _channel_slots(s, channel_caps)
        if wanted is None:
            wanted = [c.value for c in ChannelKind if c != ChannelKind.CALL_THEN_SMS]
        wanted = [c for c in wanted if channel_slots.get(c, 1) > 0]
        if not wanted:
            return []
    chosen: list[NotificationRow] = []
    seen: list[int] = []
    in_call: set[str] = set()  # phones whose call this claim has chosen
    # Pages of due rows, oldest first. A page can hold rows that are not dispatched
    # (tenant at its cap, window closed, expired, blocked, phone in a call): read on, leaving
    # out tenants that are full and rows already looked at, until the limit is met or none are
    # left.
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
        if is_postgres(s):
            q = q.with_for_update(skip_locked=True)
        rows = list(s.scalars(q))
        seen.extend(r.id for r in rows)
        chosen.extend(
            _dispatchable(s, policy, rows, now, limit - len(chosen), slots, channel_slots, in_call)
        )
        if len(chosen) >= limit or len(rows) < page:
            break
    if not chosen:
        return []
    seq = phonecalls.lease(s, chosen, owner, now, now + timedelta(seconds=lease_s))
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
                "path": [],
            }
            for r in claimed
        ],
    )
    return [r.as_notification(ChannelKind(r.current_channel), seq[r.id]) for r in claimed]


def _dispatchable(
    s: Session,
    policy: PolicyProvider,
    rows: list[NotificationRow],
    now: datetime,
    limit: int,
    slots: dict[str, int],
    channel_slots: dict[str, int],
    in_call: set[str],
) -> list[NotificationRow]:
    """The rows of one page that may start now (at most `limit`); settles the others.
    `slots` (per tenant) and `channel_slots` (per channel) are counted down as rows are
    chosen; `in_call` gains the phone of each call chosen (one call per phone per claim)."""
    blocked = blocklist.blocked_among(s, [r.phone for r in rows])
    wrong = wrong_numbers.known_among(s, [r.phone for r in rows])
    open_rows: list[NotificationRow] = []
    for row in rows:
        if row.deadline is not None and row.deadline <= now:
            _finalize_unsent(s, row, Status.EXPIRED, "deadline passed", now)
            continue
        if row.phone in blocked:
            why = f"{row.phone} is on the do-not-call list"
            _finalize_unsent(s, row, Status.BLOCKED, why, now)
            continue
        if wrong and wrong_numbers.pair_of(row) in wrong:
            why = wrong_number_reason(row.phone)
            _finalize_unsent(s, row, Status.WRONG_NUMBER, why, now)
            continue
        window = policy.window_for(row.tenant, ChannelKind(row.current_channel))
        if not window.is_open(now, row.timezone):
            # The window closed since this attempt was scheduled: wait for it to open.
            _push(s, row, window.next_open(now, row.timezone), None, now)
            continue
        open_rows.append(row)
    limits = policy.phone_limits()
    phones = phonecalls.phone_states(
        s, {r.phone for r in open_rows if r.current_channel == ChannelKind.CALL}, now, limits
    )
    chosen: list[NotificationRow] = []
    for row in open_rows:
        if len(chosen) >= limit:
            break
        if slots.get(row.tenant, 1) <= 0 or channel_slots.get(row.current_channel, 1) <= 0:
            continue
        if row.current_channel == ChannelKind.CALL:
            window = policy.window_for(row.tenant, ChannelKind.CALL)
            verdict = phonecalls.verdict(phones, in_call, row, now, limits, window)
            if not verdict.may_call:
                if verdict.not_before is not None:
                    _push(s, row, verdict.not_before, verdict.reason, now)
                continue
            in_call.add(row.phone)
        if row.tenant in slots:
            slots[row.tenant] -= 1
        if row.current_channel in channel_slots:
            channel_slots[row.current_channel] -= 1
        chosen.append(row)
    return chosen


def _push(s: Session, row: NotificationRow, at: datetime, why: str | None, now: datetime) -> None:
    """Move a PENDING row's next attempt to `at` (and say why, if `why`); a row whose deadline
    comes first is EXPIRED now instead (the ERP learns it at once)."""
    if why is not None and row.deadline is not None and at >= row.deadline:
        _finalize_unsent(s, row, Status.EXPIRED, f"deadline passed before the next try: {why}", now)
        return
    values: dict[str, object] = {"next_attempt_at": at, "updated_at": now}
    if why is not None:
        values["detail"] = why
    s.execute(
        update(NotificationRow)
        .where(NotificationRow.id == row.id, NotificationRow.status == Status.PENDING.value)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def _channel_slots(s: Session, caps: Mapping[ChannelKind, int]) -> dict[str, int]:
    """Channel → how many more attempts may start on it, store-wide. On PostgreSQL the
    transaction first takes an advisory lock that every capped claim takes, so counting
    and claiming are one step across workers (SQLite's BEGIN IMMEDIATE already is)."""
    if is_postgres(s):
        s.execute(select(func.pg_advisory_xact_lock(CLAIM_LOCK_KEY)))
    active = dict(
        s.execute(
            select(NotificationRow.current_channel, func.count())
            .where(NotificationRow.status == Status.ACTIVE.value)
            .group_by(NotificationRow.current_channel)
        ).all()
    )
    return {c.value: cap - int(active.get(c.value, 0)) for c, cap in caps.items()}


def renew_leases(
    s: Session, owner: str, notification_ids: Collection[int], now: datetime, lease_s: float
) -> int:
    """Extend the leases this worker still holds; returns how many it still holds."""
    if not notification_ids:
        return 0
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
    s: Session,
    policy: PolicyProvider,
    notification: Notification,
    owner: str,
    result: AttemptResult,
    now: datetime,
) -> Status | None:
    """Store the attempt's result and apply the retry policy. Returns the notification's new
    status, or None if the result came after this worker lost the lease and
    `cuckoo.policy.late.late_result` keeps it on the attempt row only. Storing the same result
    again is a no-op (the journal's replays)."""
    row = s.get(NotificationRow, notification.id, with_for_update=is_postgres(s))
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
    if same_result(att.outcome, att.ended_at, result.outcome, result.ended_at):
        return Status(row.status)  # stored before: a replay
    lost = (
        row.status != Status.ACTIVE.value
        or row.lease_owner != owner
        or row.attempt_seq != notification.attempt_no
    )
    reaped = att.outcome == Outcome.INTERRUPTED.value
    att.fill(result)
    if result.sms_text and result.outcome != Outcome.WRONG_NUMBER:
        # Same transaction as the result: the customer was told an SMS is coming, so
        # it is kept (and sent) even when the lease was lost. Not to a stranger, though:
        # whoever promised it a text turned out not to be the customer.
        sms_requests.add(s, notification, result.sms_text, now)
    if not lost:
        return _apply(s, policy, row, att, result.outcome, result.callback_at, now)
    where = f"notification {row.id} attempt {notification.attempt_no}"
    if late_result(result.outcome, Status(row.status)) == Verdict.RECORD:
        att.detail = (att.detail + "; " if att.detail else "") + (
            "finished after the lease was lost: result not applied"
        )
        log.warning("%s finished after %s lost the lease: not applied", where, owner)
        return None
    att.detail = (att.detail + "; " if att.detail else "") + (
        f"finished after the lease was lost (notification was {row.status}): applied"
    )
    if reaped and row.attempts > 0:
        # The reaper counted this attempt as INTERRUPTED; _apply counts it again.
        row.attempts -= 1
        if row.current_channel == att.channel and row.channel_attempts > 0:
            row.channel_attempts -= 1
    log.warning(
        "%s finished after %s lost the lease; the customer was reached: applied over %s",
        where,
        owner,
        row.status,
    )
    return _apply(s, policy, row, att, result.outcome, result.callback_at, now)


def interrupt(
    s: Session,
    policy: PolicyProvider,
    notification: Notification,
    owner: str,
    now: datetime,
    why: str,
) -> bool:
    """Record an attempt of this worker as INTERRUPTED (shutdown with a call still running)."""
    row = s.get(NotificationRow, notification.id, with_for_update=is_postgres(s))
    if row is None or row.status != Status.ACTIVE.value or row.lease_owner != owner:
        return False
    att = _current_attempt(s, row)
    if att is None or att.outcome is not None:
        return False
    att.outcome, att.ended_at, att.detail = Outcome.INTERRUPTED.value, now, why
    att.duration_s = (now - att.started_at).total_seconds()
    _apply(s, policy, row, att, Outcome.INTERRUPTED, None, now)
    return True


def reap_expired_leases(s: Session, policy: PolicyProvider, now: datetime, limit: int) -> int:
    """Attempts whose worker died (lease expired): record them INTERRUPTED and let the
    policy schedule the retry. Returns how many were reaped."""
    q = (
        select(NotificationRow)
        .where(
            NotificationRow.status == Status.ACTIVE.value,
            NotificationRow.lease_until < now,
        )
        .order_by(NotificationRow.lease_until)
        .limit(limit)
    )
    if is_postgres(s):
        q = q.with_for_update(skip_locked=True)
    rows = list(s.scalars(q))
    for row in rows:
        att = _current_attempt(s, row)
        if att is not None and att.outcome is None:
            att.outcome = Outcome.INTERRUPTED.value
            att.ended_at = now
            att.duration_s = (now - att.started_at).total_seconds()
            att.detail = f"lease of {row.lease_owner} expired at {row.lease_until}: worker gone"
        log.warning("reaped notification %s from %s", row.id, row.lease_owner)
        _apply(s, policy, row, att, Outcome.INTERRUPTED, None, now)
    return len(rows)


def _apply(
    s: Session,
    policy: PolicyProvider,
    row: NotificationRow,
    att: AttemptRow | None,
    outcome: Outcome,
    callback_at: datetime | None,
    now: datetime,
) -> Status:
    """Write what the retry policy decides after `outcome`, release the lease, and queue the
    report (final status or agreed callback) and the opt-out block."""
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
        policy.policy_for(row.tenant, row.scenario),
        policy.window_for(row.tenant, ChannelKind(row.current_channel)),
        policy.window_for(row.tenant, ChannelKind.SMS),
    )
    status = Status(decision.status)
    if status == Status.ACTIVE:
        status = Status.PENDING
    cancelled = status == Status.PENDING and row.cancel_reason is not None
    if cancelled:  # cancelled during this call: no next attempt (store/cancels.py)
        status = Status.CANCELLED
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
    reason = decision.reason or ""
    if outcome == Outcome.FAILED and att is not None and att.detail:
        reason = f"failed: {att.detail}"  # what failed, for the ERP (not only "final")
    row.detail = cancels.ended_during_call(row.cancel_reason, outcome) if cancelled else reason
    row.updated_at = now
    if outcome == Outcome.OPTED_OUT and row.phone:
        blocklist.add(s, row.phone, f"opted out ({row.source}/{row.external_id})", now)
    if outcome == Outcome.WRONG_NUMBER:
        wrong_numbers.record(s, row, now)
    # Final results go to the ERP; so does an agreed callback time (the manager sees it).
    if status.is_final or outcome == Outcome.CALLBACK_REQUESTED:
        outbox.enqueue(s, row, status, outcome, att, now)
    return status


def _finalize_unsent(
    s: Session, row: NotificationRow, status: Status, why: str, now: datetime
) -> None:
    """End a PENDING row that will not be tried (EXPIRED, BLOCKED, WRONG_NUMBER) and report
    it, unless another worker moved it meanwhile (conditional UPDATE)."""
    res = s.execute(
        update(NotificationRow)
        .where(NotificationRow.id == row.id, NotificationRow.status == Status.PENDING.value)
        .values(status=status.value, next_attempt_at=None, detail=why, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount:  # type: ignore[attr-defined]
        row.status, row.detail = status.value, why
        outbox.enqueue(s, row, status, None, None, now)


def _current_attempt(s: Session, row: NotificationRow) -> AttemptRow | None:
    return s.scalar(
        select(AttemptRow).where(
            AttemptRow.notification_id == row.id, AttemptRow.no == row.attempt_seq
        )
    )

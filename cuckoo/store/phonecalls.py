"""One customer, one call: the store's side (the rules: `cuckoo.policy.percustomer`).

A claim never leases a CALL attempt to a phone that has one ACTIVE (any tenant), and one batch
never takes two calls to one phone. On PostgreSQL the claim first try-locks each phone it may
call (`pg_try_advisory_xact_lock`, held until it commits): a phone another claimer holds is
skipped for now, and what is read under the lock (calls in flight, the phone's recent attempts)
is complete, since whoever held it before has committed. SQLite's BEGIN IMMEDIATE already makes
a claim one writer's. A phone in a call, over `max_calls_per_phone_per_day` (its local day) or
within `min_minutes_between_calls_to_phone` of another notification's call has its row pushed
(next_attempt_at and detail), not dropped and not counted as an attempt. The database has the
last word: a partial unique index (models.ACTIVE_CALL) allows one ACTIVE call row per phone; a
lease it refuses (a claimer without the phone locks, e.g. an older worker) is left out of the
batch and the rest is claimed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cuckoo.domain import ChannelKind, Outcome, Status
from cuckoo.policy.percustomer import PhoneCall, PhoneLimits, PhoneVerdict, next_call
from cuckoo.policy.windows import CallingWindow
from cuckoo.store.database import is_postgres
from cuckoo.store.models import AttemptRow, NotificationRow

__all__ = ["PHONE_LOCK_KEY", "PhoneState", "lease", "phone_states", "verdict"]

log = logging.getLogger(__name__)

# First half of the two-int4 pg_try_advisory_xact_lock(PHONE_LOCK_KEY, hashtext(phone)) that a
# claim takes on each phone it may call ("cuko"; the two-key form never meets
# notifications.CLAIM_LOCK_KEY).
PHONE_LOCK_KEY = 0x63756B6F


@dataclass(frozen=True)
class PhoneState:
    in_flight: bool  # an ACTIVE call row for this phone exists (committed)
    calls: list[PhoneCall]  # its recent call attempts, every tenant's


def phone_states(
    s: Session, phones: set[str], now: datetime, limits: PhoneLimits
) -> dict[str, PhoneState]:
    """Phone → its calls in flight and recent call attempts, for the phones this claim may
    call. On PostgreSQL each phone is first locked for this transaction
    (pg_try_advisory_xact_lock): a phone another claimer holds right now is left out, and
    since whoever held it before has committed, what is read next is all there is. SQLite's
    BEGIN IMMEDIATE already makes the claim one writer's."""
    if not phones:
        return {}
    mine = sorted(phones)
    if is_postgres(s):
        locked = s.execute(
            text(
                "SELECT p FROM unnest(CAST(:phones AS text[])) AS p "
                "WHERE pg_try_advisory_xact_lock(:key, hashtext(p))"
            ),
            {"phones": mine, "key": PHONE_LOCK_KEY},
        ).scalars()
        mine = sorted(locked)
        if not mine:
            return {}
    busy = set(
        s.scalars(
            select(NotificationRow.phone).where(
                NotificationRow.phone.in_(mine),
                NotificationRow.status == Status.ACTIVE.value,
                NotificationRow.current_channel == ChannelKind.CALL.value,
            )
        )
    )
    # The customer's day began at most ~26 h ago (UTC+14); the gap reaches back further still.
    since = now - timedelta(days=2) - limits.min_gap
    history: dict[str, list[PhoneCall]] = {p: [] for p in mine}
    for phone, nid, started, ended, outcome in s.execute(
        select(
            NotificationRow.phone,
            AttemptRow.notification_id,
            AttemptRow.started_at,
            AttemptRow.ended_at,
            AttemptRow.outcome,
        )
        .join(NotificationRow, NotificationRow.id == AttemptRow.notification_id)
        .where(
            NotificationRow.phone.in_(mine),
            AttemptRow.channel == ChannelKind.CALL.value,
            AttemptRow.started_at >= since,
        )
    ):
        history[phone].append(PhoneCall(nid, started, ended, Outcome(outcome) if outcome else None))
    return {p: PhoneState(p in busy, history[p]) for p in mine}


def verdict(
    phones: dict[str, PhoneState],
    in_call: set[str],
    row: NotificationRow,
    now: datetime,
    limits: PhoneLimits,
    window: CallingWindow,
) -> PhoneVerdict:
    """May this claim call `row`'s phone now (`phone_states` read `phones`; `in_call` holds the
    phones whose calls the claim has already chosen)?"""
    state = phones.get(row.phone)
    if state is None:  # another claimer holds the phone's lock right now: next dispatch
        return PhoneVerdict(False, None, "another worker is claiming a call to this phone")
    in_flight = state.in_flight or row.phone in in_call
    return next_call(state.calls, row.id, now, row.timezone, limits, window, in_flight=in_flight)


def lease(
    s: Session, rows: list[NotificationRow], owner: str, now: datetime, until: datetime
) -> dict[int, int]:
    """Move the chosen rows that are still PENDING to ACTIVE, leased to `owner`: notification
    id → its new attempt number. A row the one-call-per-phone index refuses (a claimer that
    does not take the phone locks, e.g. an older worker, has just leased a call to that phone)
    is left out; the others are still claimed."""
    try:
        with s.begin_nested():
            return _lease_rows(s, [r.id for r in rows], owner, now, until)
    except IntegrityError:
        won: dict[int, int] = {}
        for r in rows:
            try:
                with s.begin_nested():
                    won.update(_lease_rows(s, [r.id], owner, now, until))
            except IntegrityError:
                log.warning("notification %s: not claimed, its phone is already in a call", r.id)
        return won


def _lease_rows(
    s: Session, ids: list[int], owner: str, now: datetime, until: datetime
) -> dict[int, int]:
    won = s.execute(
        update(NotificationRow)
        .where(NotificationRow.id.in_(ids), NotificationRow.status == Status.PENDING.value)
        .values(
            status=Status.ACTIVE.value,
            lease_owner=owner,
            lease_until=until,
            attempt_seq=NotificationRow.attempt_seq + 1,
            updated_at=now,
        )
        .returning(NotificationRow.id, NotificationRow.attempt_seq)
        .execution_options(synchronize_session=False)
    ).all()
    return {i: n for i, n in won}

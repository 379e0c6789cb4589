"""The retry policy: what happens after each attempt. Pure: no I/O, no clock (`now` is a parameter).

Outcomes and what `decide` does with them (intervals and caps: RetryPolicy's defaults below):

| outcome            | status after          | contact | attempt | next attempt               |
|--------------------|-----------------------|---------|---------|----------------------------|
| confirmed          | CONFIRMED             | yes     | yes     | —                          |
| declined           | DECLINED              | yes     | yes     | —                          |
| opted_out          | OPTED_OUT             | yes     | yes     | — (the store blocks it)    |
| operator_requested | OPERATOR_REQUESTED    | yes     | yes     | —                          |
| callback_requested | PENDING               | yes     | yes     | the asked time (*)         |
| delivered          | PENDING until barrier | yes     | yes     | retry_after.delivered      |
| busy               | PENDING               | no      | yes     | retry_after.busy           |
| no_answer          | PENDING               | no      | yes     | retry_after.no_answer      |
| rejected           | PENDING once more (**)| no      | yes     | retry_after.rejected       |
| network            | PENDING               | no      | no      | retry_after.network (***)  |
| invalid_number     | INVALID               | no      | yes     | —                          |
| wrong_number       | WRONG_NUMBER          | no      | yes     | — (the store remembers it) |
| failed             | FAILED                | no      | yes     | — (a retry would fail alike)|
| voicemail          | per `voicemail` (****)| (****)  | yes     | retry_after.voicemail      |
| interrupted        | PENDING               | no      | yes     | retry_after.interrupted    |
| sent (SMS)         | DELIVERED             | yes     | yes     | —                          |
| undeliverable (SMS)| PENDING until SMS cap | no      | yes     | retry_after.undeliverable  |

(*) If the asked time falls outside the calling window, the call is made at the window's next
    opening after it (a customer who says "call me at 22:00" is called at 09:00 next morning rather
    than not at all). A requested callback is honoured even when the barrier of contacts is
    reached (the customer asked for it); the attempt cap still applies. No time given → callback
    interval; a time in the past or too soon → `callback_min_delay` minutes from now.
(**) `rejected_retries` more attempts after a rejection (default 1), then EXHAUSTED.
(***) Not counted against the attempt cap or the barrier (the trunk's fault, not the customer's),
    capped by `max_network_failures` instead.
(****) voicemail = "retry": like no_answer; "contact": the robot spoke its message into the
    voicemail, so it counts as a contact and is retried like delivered; "final": counts as a
    contact and ends the notification as DELIVERED.
INTERRUPTED (our worker died mid-attempt) counts as an attempt so that a notification that keeps
crashing a worker still ends at the attempt cap instead of looping forever.

Exhaustion (barrier of contacts, attempt cap, network cap, rejections) ends a notification as
EXHAUSTED — except that a `call_then_sms` notification whose call channel is exhausted switches
to SMS: status stays PENDING and next_channel becomes SMS. An invalid number never falls back.
A deadline that has passed, or that comes before the next possible attempt, gives EXPIRED at once
(the ERP learns it now rather than at the deadline). A final outcome wins over the deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from cuckoo.domain import ChannelKind, Outcome, Status
from cuckoo.policy.windows import CallingWindow

__all__ = [
    "AttemptHistory",
    "Decision",
    "RetryIntervals",
    "RetryPolicy",
    "decide",
    "first_attempt",
]

Minutes = Annotated[int, Field(ge=1, le=86400)]  # 1 minute … 60 days
Count = Annotated[int, Field(ge=1, le=1000)]
Delay = Annotated[int, Field(ge=0, le=86400)]  # minutes, 0 allowed


class RetryIntervals(BaseModel):
    """Minutes from the end of an attempt to the next one, per outcome (before the window).
    Each is 1 minute … 60 days."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    delivered: Minutes = 240  # heard it, did not confirm: try again later today
    busy: Minutes = 15  # they are on the phone: soon
    no_answer: Minutes = 60
    rejected: Minutes = 120  # pressed "decline": give them time
    network: Minutes = 5  # our trunk's trouble: retry quickly
    voicemail: Minutes = 120
    interrupted: Minutes = 2  # our worker died: retry almost at once
    undeliverable: Minutes = 60  # SMS refused
    callback: Minutes = 120  # "call me later" without a time


class RetryPolicy(BaseModel):
    """Retry rules for one scenario/tenant. Frozen; every field has a default, so `RetryPolicy()`
    is the standard policy (3 contacts, 6 calls, 3 SMS, 5 network failures, 1 retry after a
    rejection)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_contacts: Count = 3  # the barrier: contacts before EXHAUSTED
    max_attempts: Count = 6  # calls per notification (network not counted)
    max_sms_attempts: Count = 3  # SMS sends per notification
    max_network_failures: Count = 5
    # More tries after the customer rejected a call (outcome REJECTED).
    rejected_retries: Annotated[int, Field(ge=0, le=100)] = 1
    voicemail: Literal["retry", "contact", "final"] = "retry"
    delivered_final: bool = False  # True: "heard the message" ends it (nothing to confirm)
    callback_min_delay: Delay = 5  # earliest callback after the call that asked for it
    sms_fallback_delay: Delay = 0  # from the last call to the call_then_sms fallback SMS
    retry_after: RetryIntervals = RetryIntervals()

    def attempt_cap(self, channel: ChannelKind) -> int:
        return self.max_sms_attempts if channel == ChannelKind.SMS else self.max_attempts


@dataclass(frozen=True)
class AttemptHistory:
    """What `decide` needs to know about a notification after an attempt has finished.

    `attempts` counts attempts on the current channel that count against the cap (every outcome
    but NETWORK) plus the one just finished whatever its outcome (for NETWORK it is not read).
    """

    attempts: int  # attempts made on the current channel, INCLUDING the one just finished
    contacts: int  # contacts so far, NOT including the one just finished
    network_failures: int  # including the one just finished if it was NETWORK
    rejections: int  # including the one just finished if it was REJECTED
    channel: ChannelKind  # what the ERP asked for: CALL / SMS / CALL_THEN_SMS
    current_channel: ChannelKind  # CALL or SMS: the channel of the attempt just finished
    deadline: datetime | None = None  # aware


@dataclass(frozen=True)
class Decision:
    status: Status  # PENDING (retry) or a final status
    next_attempt_at: datetime | None  # UTC aware, set when PENDING, already inside the window
    next_channel: ChannelKind  # CALL or SMS (SMS after the call_then_sms fallback)
    counts_as_contact: bool
    counts_as_attempt: bool  # False for NETWORK: it does not count against the cap or barrier
    reason: str  # human-readable, e.g. "busy: retry in 15 min (attempt 2 of 6)"


_FINAL: dict[Outcome, Status] = {
    Outcome.CONFIRMED: Status.CONFIRMED,
    Outcome.DECLINED: Status.DECLINED,
    Outcome.OPTED_OUT: Status.OPTED_OUT,
    Outcome.OPERATOR_REQUESTED: Status.OPERATOR_REQUESTED,
    Outcome.INVALID_NUMBER: Status.INVALID,
    # Somebody else answered: the customer did not hear the message, so no contact; final,
    # and the store never calls this customer at this number again.
    Outcome.WRONG_NUMBER: Status.WRONG_NUMBER,
    Outcome.SENT: Status.DELIVERED,
    # Our side could not say it (a broken scenario, a voice failing on this text): the same
    # text would fail again, so the ERP is told now instead of after max_attempts silences.
    Outcome.FAILED: Status.FAILED,
}

_CONTACTS = frozenset(
    {
        Outcome.CONFIRMED,
        Outcome.DECLINED,
        Outcome.OPTED_OUT,
        Outcome.OPERATOR_REQUESTED,
        Outcome.CALLBACK_REQUESTED,
        Outcome.DELIVERED,
        Outcome.SENT,
    }
)


def counts_as_contact(outcome: Outcome, policy: RetryPolicy) -> bool:
    """Whether the customer got the message in this attempt."""
    if outcome == Outcome.VOICEMAIL:
        return policy.voicemail != "retry"
    return outcome in _CONTACTS


def _fmt_minutes(minutes: float) -> str:
    m = round(minutes)
    if m < 60:
        return f"{m} min"
    h, m = divmod(m, 60)
    if h >= 48 and m == 0 and h % 24 == 0:
        return f"{h // 24} d"
    return f"{h} h" if m == 0 else f"{h} h {m} min"


def _local(at: datetime, tz: str) -> str:
    return f"{at.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M} {tz}"


def _require_aware(name: str, value: datetime | None) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} must be an aware datetime, got naive {value.isoformat()}")


@dataclass(frozen=True)
class _EndedAttempt:
    """The attempt that just ended, as every Decision about it reports it."""

    outcome: Outcome
    channel: ChannelKind  # CALL or SMS: the channel it was made on
    contact: bool
    attempt: bool

    def final(self, status: Status, reason: str) -> Decision:
        return Decision(
            status, None, self.channel, self.contact, self.attempt, f"{self.outcome}: {reason}"
        )

    def pending(self, at: datetime, next_channel: ChannelKind, why: str) -> Decision:
        return Decision(
            Status.PENDING, at, next_channel, self.contact, self.attempt, f"{self.outcome}: {why}"
        )


def decide(
    history: AttemptHistory,
    outcome: Outcome,
    callback_at: datetime | None,
    now: datetime,
    tz: str,
    policy: RetryPolicy,
    window: CallingWindow,
    sms_window: CallingWindow | None = None,
) -> Decision:
    """The notification's new status and next attempt after an attempt ended with `outcome`.

    `window` is the calling window of the current channel; `sms_window` (defaults to `window`)
    is used when a call_then_sms notification falls back to SMS.

    The steps, in order: a final outcome ends it (whatever the deadline); a deadline that has
    passed expires it; the barrier of contacts, the attempt caps or the rejections exhaust it
    (or switch a call_then_sms notification to SMS); otherwise the callback time or the retry
    interval gives the next attempt, moved into the calling window and checked against the
    deadline.
    """
    _check_arguments(history, now, callback_at)
    now = now.astimezone(UTC)
    ended = _EndedAttempt(
        outcome=outcome,
        channel=history.current_channel,
        contact=counts_as_contact(outcome, policy),
        attempt=outcome != Outcome.NETWORK,
    )

    # 1. Final outcomes win over everything, the deadline included.
    final = _final_status(outcome, policy)
    if final is not None:
        return ended.final(*final)

    # 2. Deadline already passed.
    expired = _why_expired(history.deadline, now)
    if expired is not None:
        return ended.final(Status.EXPIRED, expired)

    # 3. The barrier of contacts and the caps.
    exhausted = _why_exhausted(history, outcome, ended.contact, policy)
    if exhausted is not None:
        if not _falls_back_to_sms(history, outcome):
            return ended.final(Status.EXHAUSTED, exhausted)
        at = now + timedelta(minutes=policy.sms_fallback_delay)
        why = f"{exhausted}; falling back to SMS"
        return _schedule_in_window(
            ended, at, why, ChannelKind.SMS, sms_window or window, tz, history.deadline
        )

    # 4. When to try again.
    if outcome == Outcome.CALLBACK_REQUESTED:
        at, why = _callback_time(callback_at, now, tz, policy)
    else:
        at, why = _retry_time(history, outcome, now, policy)
    return _schedule_in_window(ended, at, why, ended.channel, window, tz, history.deadline)


def _check_arguments(history: AttemptHistory, now: datetime, callback_at: datetime | None) -> None:
    """Aware datetimes only, and an attempt made on a real channel (call or SMS)."""
    _require_aware("now", now)
    _require_aware("callback_at", callback_at)
    _require_aware("deadline", history.deadline)
    if history.current_channel not in (ChannelKind.CALL, ChannelKind.SMS):
        raise ValueError(f"current_channel must be call or sms, not {history.current_channel}")


def _final_status(outcome: Outcome, policy: RetryPolicy) -> tuple[Status, str] | None:
    """The final status this outcome ends the notification with, and why; None if it does not."""
    if outcome in _FINAL:
        if outcome == Outcome.SENT:
            return _FINAL[outcome], "SMS accepted by the gateway"
        return _FINAL[outcome], "final"
    if outcome == Outcome.DELIVERED and policy.delivered_final:
        return Status.DELIVERED, "message heard; delivered_final is set"
    if outcome == Outcome.VOICEMAIL and policy.voicemail == "final":
        return Status.DELIVERED, "message left on voicemail"
    return None


def _why_expired(deadline: datetime | None, now: datetime) -> str | None:
    """Why the notification has expired already (its deadline has passed); None if it has not."""
    if deadline is not None and now >= deadline:
        return f"deadline {deadline.isoformat()} has passed"
    return None


def _why_exhausted(
    history: AttemptHistory, outcome: Outcome, contact: bool, policy: RetryPolicy
) -> str | None:
    """Why this attempt exhausts the notification (the barrier of contacts, the attempt cap,
    the network cap, too many rejections); None if it may go on.

    A requested callback is honoured past the barrier (the customer asked for it), but not past
    the attempt cap. A network failure counts against the network cap, not the attempt cap.
    """
    cap = policy.attempt_cap(history.current_channel)
    if outcome == Outcome.CALLBACK_REQUESTED:
        if history.attempts >= cap:
            return f"callback requested but the cap of {cap} attempts is reached"
        return None
    if history.contacts + (1 if contact else 0) >= policy.max_contacts:
        return f"barrier of {policy.max_contacts} contacts reached"
    if outcome == Outcome.NETWORK:
        if history.network_failures >= policy.max_network_failures:
            return (
                f"{history.network_failures} network failures (cap {policy.max_network_failures})"
            )
    elif history.attempts >= cap:
        return f"cap of {cap} attempts reached"
    if outcome == Outcome.REJECTED and history.rejections > policy.rejected_retries:
        return f"rejected {history.rejections} times"
    return None


def _falls_back_to_sms(history: AttemptHistory, outcome: Outcome) -> bool:
    """Whether an exhausted notification switches to SMS instead of ending: a call_then_sms
    notification whose calls are exhausted, unless the number is invalid."""
    return (
        history.channel == ChannelKind.CALL_THEN_SMS
        and history.current_channel == ChannelKind.CALL
        and outcome != Outcome.INVALID_NUMBER
    )


def _callback_time(
    callback_at: datetime | None, now: datetime, tz: str, policy: RetryPolicy
) -> tuple[datetime, str]:
    """When to call back a customer who asked for it, and why: the asked time, but not sooner
    than `callback_min_delay` from now; no time given → the callback interval."""
    if callback_at is None:
        minutes = policy.retry_after.callback
        return (
            now + timedelta(minutes=minutes),
            f"no time given, call back in {_fmt_minutes(minutes)}",
        )
    earliest = now + timedelta(minutes=policy.callback_min_delay)
    at = max(callback_at.astimezone(UTC), earliest)
    return at, f"call back at {_local(at, tz)} as asked"


def _retry_time(
    history: AttemptHistory, outcome: Outcome, now: datetime, policy: RetryPolicy
) -> tuple[datetime, str]:
    """When to try again after an attempt that reached nobody or did not settle it, and why:
    the outcome's retry interval from now."""
    minutes = _interval(outcome, policy)
    if outcome == Outcome.NETWORK:
        count = (
            f"network failure {history.network_failures} of {policy.max_network_failures}, "
            "not counted as an attempt"
        )
    else:
        count = f"attempt {history.attempts} of {policy.attempt_cap(history.current_channel)}"
    return now + timedelta(minutes=minutes), f"retry in {_fmt_minutes(minutes)} ({count})"


def _schedule_in_window(
    ended: _EndedAttempt,
    at: datetime,
    why: str,
    next_channel: ChannelKind,
    window: CallingWindow,
    tz: str,
    deadline: datetime | None,
) -> Decision:
    """PENDING at the window's first opening at or after `at`; EXPIRED if that opening is not
    before the deadline."""
    opens = window.next_open(at, tz)
    if opens != at:
        why += f"; outside the calling window, moved to {_local(opens, tz)}"
    if deadline is not None and opens >= deadline:
        return ended.final(
            Status.EXPIRED, f"{why}; that is after the deadline {deadline.isoformat()}"
        )
    return ended.pending(opens, next_channel, why)


def _interval(outcome: Outcome, policy: RetryPolicy) -> int:
    r = policy.retry_after
    table: dict[Outcome, int] = {
        Outcome.DELIVERED: r.delivered,
        Outcome.BUSY: r.busy,
        Outcome.NO_ANSWER: r.no_answer,
        Outcome.REJECTED: r.rejected,
        Outcome.NETWORK: r.network,
        Outcome.VOICEMAIL: r.delivered if policy.voicemail == "contact" else r.voicemail,
        Outcome.INTERRUPTED: r.interrupted,
        Outcome.UNDELIVERABLE: r.undeliverable,
    }
    return table[outcome]


def first_attempt(
    now: datetime,
    not_before: datetime | None,
    deadline: datetime | None,
    tz: str,
    window: CallingWindow,
    channel: ChannelKind = ChannelKind.CALL,
) -> Decision:
    """When a newly ingested notification should be tried first: the window's first opening at or
    after max(now, not_before); EXPIRED if that is not before the deadline."""
    _require_aware("now", now)
    _require_aware("not_before", not_before)
    _require_aware("deadline", deadline)
    first = ChannelKind.SMS if channel == ChannelKind.SMS else ChannelKind.CALL
    start = max(now, not_before) if not_before is not None else now
    opens = window.next_open(start, tz)
    if deadline is not None and opens >= deadline:
        return Decision(
            Status.EXPIRED,
            None,
            first,
            False,
            False,
            f"first opening {_local(opens, tz)} is after the deadline {deadline.isoformat()}",
        )
    why = "first attempt"
    if opens != start:
        why += f" at the window opening {_local(opens, tz)}"
    return Decision(Status.PENDING, opens, first, False, False, why)

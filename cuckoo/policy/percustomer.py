"""One customer, one call: may a phone be called now, given the calls it already got? Pure: no
I/O, no clock (`now` is a parameter). The store reads the phone's recent call attempts — every
tenant, every notification — and asks `next_call`.

The rules, checked in this order:
1. Daily cap: at most `max_per_day` calls to one phone per calendar day in the customer's zone
   (0 = no cap). Every call attempt counts whatever its outcome, the one in flight too, except
   NETWORK (our trunk failed; the phone did not ring). Over the cap → the calling window's first
   opening on the next local day.
2. One at a time: while a call to the phone is in flight (for any notification, any tenant) no
   other call starts. That call ends after now, so the earliest next one is now + `min_gap`.
3. The gap: after a call for ANOTHER notification ended at t, not before t + `min_gap` (two
   documents must not become two calls a minute apart). Calls of the notification itself are
   left to the retry policy's intervals (a busy line is tried again after retry_after.busy).
Every later time is moved into the calling window (its next opening).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from cuckoo.domain import Outcome
from cuckoo.policy.windows import CallingWindow

__all__ = ["PhoneCall", "PhoneLimits", "PhoneVerdict", "next_call"]


@dataclass(frozen=True)
class PhoneCall:
    """A call attempt to the phone (any tenant, any notification)."""

    notification_id: int
    started_at: datetime  # aware
    ended_at: datetime | None = None  # None while in flight
    outcome: Outcome | None = None  # None while in flight


@dataclass(frozen=True)
class PhoneLimits:
    """`[policy] max_calls_per_phone_per_day` and `min_minutes_between_calls_to_phone`."""

    max_per_day: int = 3  # 0 = no cap
    min_gap: timedelta = timedelta(minutes=30)

    def __post_init__(self) -> None:
        if self.max_per_day < 0:
            raise ValueError(f"max_per_day must be >= 0, got {self.max_per_day}")
        if self.min_gap < timedelta(0):
            raise ValueError(f"min_gap must be >= 0, got {self.min_gap}")


@dataclass(frozen=True)
class PhoneVerdict:
    """`may_call`: the call may start now. Otherwise `not_before` is the earliest time it may
    (UTC, inside the window), or None when that is not known yet (a call is in flight and there
    is no gap: try again at the next dispatch); `reason` says why, for the notification's detail."""

    may_call: bool
    not_before: datetime | None = None
    reason: str = ""


CALL_NOW = PhoneVerdict(True)


def calls_today(calls: Sequence[PhoneCall], now: datetime, tz: str) -> int:
    """Call attempts that count against the daily cap, started on now's local date in `tz`."""
    zone = ZoneInfo(tz)
    midnight = datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone)
    return sum(1 for c in calls if c.started_at >= midnight and c.outcome != Outcome.NETWORK)


def next_call(
    calls: Sequence[PhoneCall],
    notification_id: int,
    now: datetime,
    tz: str,
    limits: PhoneLimits,
    window: CallingWindow,
    *,
    in_flight: bool,
) -> PhoneVerdict:
    """Whether notification `notification_id` may call its phone at `now` (aware), or from when.

    `calls`: the phone's call attempts of (at least) the last two days plus the gap, every
    tenant's. `in_flight`: a call to this phone is under way now (the store knows it from the
    ACTIVE call rows, and from the rows it has just chosen in the same claim)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"next_call needs an aware datetime, got naive {now.isoformat()}")
    now = now.astimezone(UTC)
    if limits.max_per_day:
        made = calls_today(calls, now, tz)
        if made >= limits.max_per_day:
            zone = ZoneInfo(tz)
            tomorrow = now.astimezone(zone).date() + timedelta(days=1)
            at = window.next_open(datetime.combine(tomorrow, time(0), tzinfo=zone), tz)
            return PhoneVerdict(
                False,
                at,
                f"{made} calls to this phone today already (max_calls_per_phone_per_day = "
                f"{limits.max_per_day}, day in {tz}): moved to the next day's window, "
                f"{at.astimezone(zone):%Y-%m-%d %H:%M} local",
            )
    gap_min = int(limits.min_gap.total_seconds() // 60)
    if in_flight:
        if not limits.min_gap:
            return PhoneVerdict(False, None, "another call to this phone is in progress")
        at = window.next_open(now + limits.min_gap, tz)
        return PhoneVerdict(
            False,
            at,
            f"another call to this phone is in progress: waits for it to end + {gap_min} min "
            "(min_minutes_between_calls_to_phone)",
        )
    ends = [c.ended_at for c in calls if c.notification_id != notification_id and c.ended_at]
    if ends and limits.min_gap:
        free = max(ends) + limits.min_gap
        if now < free:
            at = window.next_open(free, tz)
            return PhoneVerdict(
                False,
                at,
                f"another notification's call to this phone ended at "
                f"{max(ends).astimezone(ZoneInfo(tz)):%H:%M} local: waits {gap_min} min "
                "(min_minutes_between_calls_to_phone)",
            )
    return CALL_NOW

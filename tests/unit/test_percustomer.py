"""One customer, one call (cuckoo.policy.percustomer.next_call): the daily cap per phone, one
call at a time, the gap between two notifications' calls, all moved into the calling window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cuckoo.domain import Outcome
from cuckoo.policy.percustomer import PhoneCall, PhoneLimits, PhoneVerdict, calls_today, next_call
from cuckoo.policy.windows import CallingWindow

MSK = "Europe/Moscow"  # UTC+3, no DST
WINDOW = CallingWindow()  # Mon–Fri 09–20, Sat 10–18, Sun closed, holidays closed
# Monday 2026-11-23 09:00 UTC = 12:00 in Moscow.
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ME, OTHER = 1, 2
LIMITS = PhoneLimits(max_per_day=3, min_gap=timedelta(minutes=30))


def call(
    minutes_ago: float,
    nid: int = OTHER,
    outcome: Outcome | None = Outcome.NO_ANSWER,
    length_s: float = 40,
) -> PhoneCall:
    start = NOW - timedelta(minutes=minutes_ago)
    ended = None if outcome is None else start + timedelta(seconds=length_s)
    return PhoneCall(nid, start, ended, outcome)


def verdict(
    calls: list[PhoneCall],
    *,
    in_flight: bool = False,
    now: datetime = NOW,
    tz: str = MSK,
    limits: PhoneLimits = LIMITS,
    window: CallingWindow = WINDOW,
) -> PhoneVerdict:
    return next_call(calls, ME, now, tz, limits, window, in_flight=in_flight)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# ---- nothing in the way ----------------------------------------------------------------------


def test_a_phone_never_called_may_be_called() -> None:
    assert verdict([]) == PhoneVerdict(True)


def test_calls_long_ago_do_not_matter() -> None:
    assert verdict([call(60 * 24), call(60 * 30, ME), call(45)]).may_call


# ---- the daily cap ---------------------------------------------------------------------------


def test_the_cap_moves_the_call_to_the_next_days_opening() -> None:
    v = verdict([call(200, ME), call(150, OTHER), call(100, 7)])
    assert not v.may_call
    assert v.not_before == utc(2026, 11, 24, 6, 0)  # Tuesday 09:00 Moscow
    assert "3 calls to this phone today" in v.reason
    assert "max_calls_per_phone_per_day = 3" in v.reason
    assert "2026-11-24 09:00 local" in v.reason


def test_below_the_cap_the_call_goes_ahead() -> None:
    assert verdict([call(200, ME), call(150, OTHER)]).may_call


def test_the_cap_counts_every_tenant_and_notification_and_the_one_itself() -> None:
    # Three different notifications (any tenant: the phone is the customer) …
    assert not verdict([call(200, 10), call(150, 11), call(100, 12)]).may_call
    # … or one notification's own retries.
    assert not verdict([call(200, ME), call(150, ME), call(100, ME)]).may_call


def test_the_cap_counts_a_call_in_flight() -> None:
    v = verdict([call(200, ME), call(150, ME), call(1, OTHER, outcome=None)], in_flight=True)
    assert v.not_before == utc(2026, 11, 24, 6, 0)  # the cap wins over "wait for that call"


def test_network_failures_do_not_count_the_phone_did_not_ring() -> None:
    calls = [call(200, ME), call(150, ME), call(100, ME, Outcome.NETWORK)]
    assert calls_today(calls, NOW, MSK) == 2
    assert verdict(calls).may_call


@pytest.mark.parametrize(
    "outcome",
    [o for o in Outcome if o != Outcome.NETWORK],
)
def test_every_other_outcome_counts(outcome: Outcome) -> None:
    assert calls_today([call(100, ME, outcome)], NOW, MSK) == 1


def test_zero_means_no_cap() -> None:
    calls = [call(300 - i * 10, ME) for i in range(10)]
    assert verdict(calls, limits=PhoneLimits(max_per_day=0, min_gap=timedelta(0))).may_call


def test_the_day_is_the_customers_local_calendar_day() -> None:
    # 20:59 UTC the day before = 23:59 Moscow on Sunday: yesterday, not counted.
    late_yesterday = PhoneCall(OTHER, utc(2026, 11, 22, 20, 59), utc(2026, 11, 22, 21, 0))
    # 21:00 UTC = 00:00 Moscow on Monday: today.
    midnight = PhoneCall(OTHER, utc(2026, 11, 22, 21, 0), utc(2026, 11, 22, 21, 1))
    assert calls_today([late_yesterday, midnight], NOW, MSK) == 1
    # In Vladivostok (UTC+10) both are Monday already (06:59 and 07:00 local).
    assert calls_today([late_yesterday, midnight], NOW, "Asia/Vladivostok") == 2
    # In Kaliningrad (UTC+2) Monday begins at 22:00 UTC: neither counts.
    assert calls_today([late_yesterday, midnight], NOW, "Europe/Kaliningrad") == 0


def test_the_next_day_is_the_customers_and_so_is_its_window() -> None:
    vlad = "Asia/Vladivostok"
    now = utc(2026, 11, 23, 9, 0)  # 19:00 in Vladivostok, Monday
    calls = [
        PhoneCall(OTHER, now - timedelta(hours=h), now - timedelta(hours=h)) for h in (1, 2, 3)
    ]
    v = verdict(calls, now=now, tz=vlad)
    assert v.not_before == utc(2026, 11, 23, 23, 0)  # Tuesday 09:00 in Vladivostok


def test_over_the_cap_on_friday_waits_for_saturdays_hours() -> None:
    friday = utc(2026, 11, 27, 9, 0)  # 12:00 Moscow
    calls = [PhoneCall(OTHER, friday - timedelta(hours=h), friday) for h in (1, 2, 3)]
    assert verdict(calls, now=friday).not_before == utc(2026, 11, 28, 7, 0)  # Sat 10:00


def test_over_the_cap_on_saturday_skips_the_closed_sunday() -> None:
    saturday = utc(2026, 11, 28, 9, 0)
    calls = [PhoneCall(OTHER, saturday - timedelta(hours=h), saturday) for h in (1, 2, 3)]
    assert verdict(calls, now=saturday).not_before == utc(2026, 11, 30, 6, 0)  # Mon 09:00


def test_over_the_cap_before_a_holiday_waits_for_the_first_open_day() -> None:
    # Wednesday 2026-11-03; 2026-11-04 (National Unity Day) is a public holiday.
    day = utc(2026, 11, 3, 9, 0)
    calls = [PhoneCall(OTHER, day - timedelta(hours=h), day) for h in (1, 2, 3)]
    assert verdict(calls, now=day).not_before == utc(2026, 11, 5, 6, 0)


# ---- one at a time ---------------------------------------------------------------------------


def test_while_a_call_is_in_flight_wait_for_its_end_plus_the_gap() -> None:
    v = verdict([call(2, OTHER, outcome=None)], in_flight=True)
    assert not v.may_call
    assert v.not_before == NOW + timedelta(minutes=30)
    assert "in progress" in v.reason and "min_minutes_between_calls_to_phone" in v.reason


def test_in_flight_without_a_gap_waits_for_the_next_dispatch() -> None:
    v = verdict([], in_flight=True, limits=PhoneLimits(3, timedelta(0)))
    assert (v.may_call, v.not_before) == (False, None)
    assert "in progress" in v.reason


def test_in_flight_near_closing_time_waits_for_the_next_opening() -> None:
    evening = utc(2026, 11, 23, 16, 45)  # 19:45 Moscow: +30 min is after 20:00
    v = verdict([], in_flight=True, now=evening)
    assert v.not_before == utc(2026, 11, 24, 6, 0)


# ---- the gap ---------------------------------------------------------------------------------


def test_another_notifications_call_that_just_ended_holds_the_next_for_the_gap() -> None:
    recent = call(10, OTHER, length_s=60)  # ended 9 minutes ago
    v = verdict([recent])
    assert not v.may_call
    assert recent.ended_at is not None
    assert v.not_before == recent.ended_at + timedelta(minutes=30)
    assert "ended at 11:51 local" in v.reason and "30 min" in v.reason


def test_after_the_gap_the_call_goes_ahead() -> None:
    assert verdict([call(31, OTHER, length_s=0)]).may_call
    assert verdict([call(30, OTHER, length_s=0)]).may_call  # exactly the gap: free


def test_the_gap_counts_from_the_latest_end() -> None:
    calls = [call(25, OTHER, length_s=0), call(12, 9, length_s=120), call(40, 8)]
    no_cap = PhoneLimits(0, timedelta(minutes=30))
    assert verdict(calls, limits=no_cap).not_before == NOW + timedelta(minutes=20)


def test_the_notifications_own_calls_are_the_retry_policys_business() -> None:
    assert verdict([call(1, ME)]).may_call  # e.g. busy, retried after retry_after.busy


def test_no_gap_means_right_after_the_other_call() -> None:
    assert verdict([call(1, OTHER)], limits=PhoneLimits(3, timedelta(0))).may_call


def test_a_gap_ending_after_closing_time_waits_for_the_next_opening() -> None:
    evening = utc(2026, 11, 23, 16, 50)  # 19:50 Moscow
    ended = PhoneCall(OTHER, evening - timedelta(minutes=3), evening - timedelta(minutes=2))
    assert verdict([ended], now=evening).not_before == utc(2026, 11, 24, 6, 0)


# ---- bad input -------------------------------------------------------------------------------


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        verdict([], now=datetime(2026, 11, 23, 9, 0))


@pytest.mark.parametrize(
    ("cap", "gap", "message"),
    [(-1, timedelta(0), "max_per_day"), (3, timedelta(minutes=-1), "min_gap")],
)
def test_negative_limits_are_refused(cap: int, gap: timedelta, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PhoneLimits(cap, gap)

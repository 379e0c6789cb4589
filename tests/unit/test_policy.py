"""decide(): every outcome × counters × channel, windows, deadlines, callbacks, call_then_sms.

The clock is a parameter: NOW is Wednesday 2026-11-18 12:00 Moscow (09:00Z), inside the default
window (Mon–Fri 09:00–20:00, Sat 10:00–18:00), far enough from closing for every interval.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cuckoo.config.policy import DEFAULT_SMS_WINDOW
from cuckoo.domain import ChannelKind, Outcome, Status
from cuckoo.policy.retry import (
    AttemptHistory,
    Decision,
    RetryIntervals,
    RetryPolicy,
    decide,
    first_attempt,
)
from cuckoo.policy.windows import CallingWindow

MSK = "Europe/Moscow"
NOW = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)  # Wed 12:00 Moscow
POLICY = RetryPolicy()  # max_contacts 3, max_attempts 6, max_sms_attempts 3, network 5, rejected 1
WINDOW = CallingWindow()
CALL, SMS, BOTH = ChannelKind.CALL, ChannelKind.SMS, ChannelKind.CALL_THEN_SMS


def msk(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=ZoneInfo(MSK))


def history(
    attempts: int = 1,
    contacts: int = 0,
    network_failures: int = 0,
    rejections: int = 0,
    channel: ChannelKind = CALL,
    current: ChannelKind = CALL,
    deadline: datetime | None = None,
) -> AttemptHistory:
    return AttemptHistory(
        attempts, contacts, network_failures, rejections, channel, current, deadline
    )


def run(
    h: AttemptHistory,
    outcome: Outcome,
    *,
    now: datetime = NOW,
    callback_at: datetime | None = None,
    policy: RetryPolicy = POLICY,
    tz: str = MSK,
    window: CallingWindow = WINDOW,
    sms_window: CallingWindow | None = None,
) -> Decision:
    return decide(h, outcome, callback_at, now, tz, policy, window, sms_window)


# --- final outcomes: final whatever the counters, channel or deadline -----------------------------

FINAL = [
    (Outcome.CONFIRMED, Status.CONFIRMED, True),
    (Outcome.DECLINED, Status.DECLINED, True),
    (Outcome.OPTED_OUT, Status.OPTED_OUT, True),
    (Outcome.OPERATOR_REQUESTED, Status.OPERATOR_REQUESTED, True),
    (Outcome.INVALID_NUMBER, Status.INVALID, False),
    # somebody else answered: final, but the customer did not hear it, so no contact
    (Outcome.WRONG_NUMBER, Status.WRONG_NUMBER, False),
    (Outcome.SENT, Status.DELIVERED, True),
]
COUNTERS = {
    "fresh": {"attempts": 1},
    "at barrier": {"attempts": 3, "contacts": 3},
    "attempt cap": {"attempts": 6},
    "network cap": {"attempts": 2, "network_failures": 5},
    "rejected twice": {"attempts": 2, "rejections": 2},
}


@pytest.mark.parametrize(
    ("outcome", "status", "contact", "counters", "channel", "deadline_passed"),
    [
        (o, s, c, name, ch, dl)
        for (o, s, c), name, ch, dl in itertools.product(
            FINAL, COUNTERS, (CALL, SMS, BOTH), (False, True)
        )
    ],
)
def test_final_outcomes(
    outcome: Outcome,
    status: Status,
    contact: bool,
    counters: str,
    channel: ChannelKind,
    deadline_passed: bool,
) -> None:
    current = SMS if channel == SMS or outcome == Outcome.SENT else CALL
    deadline = NOW - timedelta(minutes=1) if deadline_passed else None
    h = history(**COUNTERS[counters], channel=channel, current=current, deadline=deadline)
    d = run(h, outcome)
    assert d.status == status
    assert d.status.is_final
    assert d.next_attempt_at is None
    assert d.counts_as_contact is contact
    assert d.counts_as_attempt is True
    assert d.reason.startswith(f"{outcome}: ")


# --- retrying outcomes × counters: the matrix ---------------------------------------------------

# P = retried (PENDING on the same channel), X = exhausted.
# fresh:          attempts 1, contacts 0, 1 network failure and 1 rejection so far
# pre-barrier:    contacts 2 of 3: one more contact reaches the barrier
# at-barrier:     contacts 3 of 3 already (e.g. max_contacts lowered since)
# attempt-cap:    attempts 6 of 6
# network-cap:    network failures 5 of 5 (including this one when the outcome is NETWORK)
# rejected-twice: rejections 2 (including this one when the outcome is REJECTED)
STATES = {
    "fresh": {"attempts": 1, "contacts": 0, "network_failures": 1, "rejections": 1},
    "pre-barrier": {"attempts": 3, "contacts": 2},
    "at-barrier": {"attempts": 3, "contacts": 3},
    "attempt-cap": {"attempts": 6, "contacts": 1},
    "network-cap": {"attempts": 2, "network_failures": 5},
    "rejected-twice": {"attempts": 2, "rejections": 2},
}
MATRIX = """
                      fresh  pre-barrier  at-barrier  attempt-cap  network-cap  rejected-twice
delivered             P      X            X           X            P            P
busy                  P      P            X           X            P            P
no_answer             P      P            X           X            P            P
rejected              P      P            X           X            P            X
network               P      P            X           P            X            P
voicemail             P      P            X           X            P            P
interrupted           P      P            X           X            P            P
callback_requested    P      P            P           X            P            P
"""
CONTACT = {Outcome.DELIVERED, Outcome.CALLBACK_REQUESTED}
INTERVAL = {
    Outcome.DELIVERED: 240,
    Outcome.BUSY: 15,
    Outcome.NO_ANSWER: 60,
    Outcome.REJECTED: 120,
    Outcome.NETWORK: 5,
    Outcome.VOICEMAIL: 120,
    Outcome.INTERRUPTED: 2,
    Outcome.CALLBACK_REQUESTED: 120,  # no time given
}


def _matrix() -> list[tuple[Outcome, str, str]]:
    lines = [ln.split() for ln in MATRIX.strip().splitlines()]
    header = lines[0]
    rows = []
    for cells in lines[1:]:
        for state, mark in zip(header, cells[1:], strict=True):
            rows.append((Outcome(cells[0]), state, mark))
    return rows


ROWS = _matrix()


def test_matrix_covers_every_retrying_outcome_and_state() -> None:
    assert {o for o, _, _ in ROWS} == set(INTERVAL)
    assert {s for _, s, _ in ROWS} == set(STATES)


@pytest.mark.parametrize(("outcome", "state", "mark"), ROWS)
def test_call_matrix(outcome: Outcome, state: str, mark: str) -> None:
    d = run(history(**STATES[state]), outcome)
    assert d.counts_as_contact is (outcome in CONTACT)
    assert d.counts_as_attempt is (outcome != Outcome.NETWORK)
    assert d.next_channel == CALL
    if mark == "P":
        assert d.status == Status.PENDING
        assert d.next_attempt_at == NOW + timedelta(minutes=INTERVAL[outcome])
    else:
        assert d.status == Status.EXHAUSTED
        assert d.next_attempt_at is None


@pytest.mark.parametrize(("outcome", "state", "mark"), ROWS)
def test_call_then_sms_matrix_falls_back_to_sms(outcome: Outcome, state: str, mark: str) -> None:
    d = run(history(**STATES[state], channel=BOTH), outcome, sms_window=DEFAULT_SMS_WINDOW)
    assert d.status == Status.PENDING
    if mark == "P":
        assert d.next_channel == CALL
        assert d.next_attempt_at == NOW + timedelta(minutes=INTERVAL[outcome])
    else:
        assert d.next_channel == SMS
        assert d.next_attempt_at == NOW  # the SMS window (09:00–21:00) is open now
        assert "falling back to SMS" in d.reason


# --- SMS channel ---------------------------------------------------------------------------------

SMS_ROWS = [
    # outcome, attempts, network failures, expected status, minutes to next attempt
    (Outcome.UNDELIVERABLE, 1, 0, Status.PENDING, 60),
    (Outcome.UNDELIVERABLE, 2, 0, Status.PENDING, 60),
    (Outcome.UNDELIVERABLE, 3, 0, Status.EXHAUSTED, None),
    (Outcome.NETWORK, 3, 4, Status.PENDING, 5),  # network does not count against the cap
    (Outcome.NETWORK, 1, 5, Status.EXHAUSTED, None),
    (Outcome.INTERRUPTED, 1, 0, Status.PENDING, 2),
    (Outcome.INTERRUPTED, 3, 0, Status.EXHAUSTED, None),
    (Outcome.SENT, 1, 0, Status.DELIVERED, None),
    (Outcome.SENT, 3, 5, Status.DELIVERED, None),
]


@pytest.mark.parametrize("channel", [SMS, BOTH])
@pytest.mark.parametrize(("outcome", "attempts", "nf", "status", "minutes"), SMS_ROWS)
def test_sms_channel(
    channel: ChannelKind,
    outcome: Outcome,
    attempts: int,
    nf: int,
    status: Status,
    minutes: int | None,
) -> None:
    # After the call_then_sms switch the SMS channel is final: no second fallback.
    h = history(attempts=attempts, network_failures=nf, channel=channel, current=SMS)
    d = run(h, outcome, window=DEFAULT_SMS_WINDOW)
    assert d.status == status
    assert d.next_channel == SMS
    assert d.counts_as_contact is (outcome == Outcome.SENT)
    if minutes is None:
        assert d.next_attempt_at is None
    else:
        assert d.next_attempt_at == NOW + timedelta(minutes=minutes)


def test_sms_retry_respects_the_sms_night() -> None:
    # Undeliverable at 20:30 Sunday: +60 min = 21:30, SMS window closes at 21:00 → Mon 09:00.
    now = msk(2026, 11, 22, 20, 30)
    d = run(
        history(current=SMS, channel=SMS), Outcome.UNDELIVERABLE, now=now, window=DEFAULT_SMS_WINDOW
    )
    assert d.next_attempt_at == msk(2026, 11, 23, 9, 0)


def test_call_then_sms_fallback_uses_the_sms_window() -> None:
    # Calls exhausted on Saturday 17:55: the call window would reopen on Monday, but the SMS
    # window is open on weekends till 21:00, so the SMS goes now.
    now = msk(2026, 11, 21, 17, 55)
    h = history(attempts=6, channel=BOTH)
    d = run(h, Outcome.NO_ANSWER, now=now, sms_window=DEFAULT_SMS_WINDOW)
    assert (d.status, d.next_channel, d.next_attempt_at) == (Status.PENDING, SMS, now)
    # Exhausted at 21:30: SMS at 09:00 next morning (Sunday, the SMS window is open).
    late = msk(2026, 11, 21, 21, 30)
    d = run(h, Outcome.NO_ANSWER, now=late, sms_window=DEFAULT_SMS_WINDOW)
    assert d.next_attempt_at == msk(2026, 11, 22, 9, 0)
    # Without an SMS window the call window is used: Monday 09:00.
    d = run(h, Outcome.NO_ANSWER, now=late)
    assert d.next_attempt_at == msk(2026, 11, 23, 9, 0)


def test_call_then_sms_fallback_delay_and_deadline() -> None:
    policy = RetryPolicy(sms_fallback_delay=30)
    h = history(attempts=6, channel=BOTH)
    d = run(h, Outcome.BUSY, policy=policy, sms_window=DEFAULT_SMS_WINDOW)
    assert (d.next_channel, d.next_attempt_at) == (SMS, NOW + timedelta(minutes=30))
    d = run(replace(h, deadline=NOW + timedelta(minutes=10)), Outcome.BUSY, policy=policy)
    assert d.status == Status.EXPIRED


def test_invalid_number_never_falls_back_to_sms() -> None:
    d = run(history(channel=BOTH), Outcome.INVALID_NUMBER)
    assert (d.status, d.next_channel) == (Status.INVALID, CALL)


def test_a_wrong_number_is_final_before_any_barrier_or_sms_fallback() -> None:
    # The last call before the cap of a call_then_sms notification: no SMS to a stranger.
    d = run(history(attempts=6, contacts=2, channel=BOTH), Outcome.WRONG_NUMBER)
    assert (d.status, d.next_channel, d.next_attempt_at) == (Status.WRONG_NUMBER, CALL, None)
    assert (d.counts_as_contact, d.counts_as_attempt) == (False, True)
    assert d.reason == "wrong_number: final"
    assert Status.WRONG_NUMBER.is_final


# --- voicemail and delivered_final ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "contacts", "status", "contact", "minutes"),
    [
        ("retry", 0, Status.PENDING, False, 120),
        ("retry", 2, Status.PENDING, False, 120),
        ("contact", 0, Status.PENDING, True, 240),  # retried like delivered
        ("contact", 2, Status.EXHAUSTED, True, None),  # the third contact reaches the barrier
        ("final", 0, Status.DELIVERED, True, None),
    ],
)
def test_voicemail_modes(
    mode: str, contacts: int, status: Status, contact: bool, minutes: int | None
) -> None:
    policy = RetryPolicy.model_validate({"voicemail": mode})
    d = run(history(contacts=contacts), Outcome.VOICEMAIL, policy=policy)
    assert (d.status, d.counts_as_contact) == (status, contact)
    expected = None if minutes is None else NOW + timedelta(minutes=minutes)
    assert d.next_attempt_at == expected


def test_delivered_final() -> None:
    d = run(history(), Outcome.DELIVERED, policy=RetryPolicy(delivered_final=True))
    assert (d.status, d.counts_as_contact, d.next_attempt_at) == (Status.DELIVERED, True, None)


def test_custom_intervals_and_caps() -> None:
    policy = RetryPolicy(
        max_contacts=1,
        max_attempts=2,
        rejected_retries=0,
        retry_after=RetryIntervals(busy=7),
    )
    assert run(history(), Outcome.BUSY, policy=policy).next_attempt_at == NOW + timedelta(minutes=7)
    assert run(history(attempts=2), Outcome.BUSY, policy=policy).status == Status.EXHAUSTED
    assert run(history(rejections=1), Outcome.REJECTED, policy=policy).status == Status.EXHAUSTED
    assert run(history(), Outcome.DELIVERED, policy=policy).status == Status.EXHAUSTED


# --- the calling window moves every retry --------------------------------------------------------

WINDOW_CASES = [
    # (case, outcome, local now, expected local next attempt)
    ("inside", Outcome.BUSY, (2026, 11, 18, 12, 0), (2026, 11, 18, 12, 15)),
    ("after closing", Outcome.BUSY, (2026, 11, 18, 19, 50), (2026, 11, 19, 9, 0)),
    ("before opening", Outcome.INTERRUPTED, (2026, 11, 18, 6, 0), (2026, 11, 18, 9, 0)),
    ("Friday → Saturday", Outcome.NO_ANSWER, (2026, 11, 20, 19, 30), (2026, 11, 21, 10, 0)),
    ("Saturday → Monday", Outcome.DELIVERED, (2026, 11, 21, 16, 0), (2026, 11, 23, 9, 0)),
    ("Sunday → Monday", Outcome.NETWORK, (2026, 11, 22, 12, 0), (2026, 11, 23, 9, 0)),
    ("Unity Day", Outcome.BUSY, (2026, 11, 3, 19, 50), (2026, 11, 5, 9, 0)),
    ("New Year 2026", Outcome.NO_ANSWER, (2025, 12, 30, 19, 30), (2026, 1, 10, 10, 0)),
    ("New Year 2027", Outcome.REJECTED, (2026, 12, 30, 18, 30), (2027, 1, 9, 10, 0)),
    ("moved day off Jan 9 2026", Outcome.BUSY, (2026, 1, 9, 12, 0), (2026, 1, 10, 10, 0)),
]


@pytest.mark.parametrize(
    ("case", "outcome", "now", "expected"), WINDOW_CASES, ids=[c[0] for c in WINDOW_CASES]
)
def test_retry_is_moved_into_the_window(
    case: str, outcome: Outcome, now: tuple[int, ...], expected: tuple[int, ...]
) -> None:
    d = run(history(), outcome, now=msk(*now))
    assert d.status == Status.PENDING
    assert d.next_attempt_at == msk(*expected)
    assert d.next_attempt_at is not None and d.next_attempt_at.tzinfo is UTC
    moved = "outside the calling window" in d.reason
    assert moved is (msk(*expected) != msk(*now) + timedelta(minutes=INTERVAL[outcome]))


# The same finished attempt at the same UTC instant, customers in different zones.
ZONE_CASES = [
    # now = Wed 2026-11-18 16:50Z; busy → 17:05Z
    ("Europe/Kaliningrad", "2026-11-18T17:05:00+00:00"),  # 19:05 local: inside
    ("Europe/Moscow", "2026-11-19T06:00:00+00:00"),  # 20:05 local: closed → Thu 09:00
    ("Asia/Yekaterinburg", "2026-11-19T04:00:00+00:00"),
    ("Asia/Kamchatka", "2026-11-18T21:00:00+00:00"),  # 05:05 Thu local → 09:00 Thu
]


@pytest.mark.parametrize(("tz", "expected"), ZONE_CASES)
def test_retry_in_the_customers_zone(tz: str, expected: str) -> None:
    now = datetime(2026, 11, 18, 16, 50, tzinfo=UTC)
    d = run(history(), Outcome.BUSY, now=now, tz=tz)
    assert d.next_attempt_at == datetime.fromisoformat(expected)


# --- deadline ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "deadline_minutes", "status"),
    [
        (Outcome.BUSY, -1, Status.EXPIRED),  # passed
        (Outcome.BUSY, 0, Status.EXPIRED),  # right now
        (Outcome.BUSY, 10, Status.EXPIRED),  # before the next attempt (15 min)
        (Outcome.BUSY, 15, Status.EXPIRED),  # at the next attempt: no time left to call
        (Outcome.BUSY, 16, Status.PENDING),
        (Outcome.NETWORK, 3, Status.EXPIRED),
        (Outcome.NETWORK, 60, Status.PENDING),
        (Outcome.DELIVERED, 60, Status.EXPIRED),
        (Outcome.CALLBACK_REQUESTED, -5, Status.EXPIRED),
        (Outcome.CONFIRMED, -5, Status.CONFIRMED),  # a final outcome wins over the deadline
        (Outcome.OPTED_OUT, -5, Status.OPTED_OUT),
    ],
)
def test_deadline(outcome: Outcome, deadline_minutes: int, status: Status) -> None:
    h = history(deadline=NOW + timedelta(minutes=deadline_minutes))
    d = run(h, outcome)
    assert d.status == status
    if status == Status.EXPIRED:
        assert d.next_attempt_at is None
        assert "deadline" in d.reason


def test_deadline_before_the_window_reopens() -> None:
    # Busy at 19:55; the window reopens tomorrow 09:00 but the deadline is tonight 23:00.
    h = history(deadline=msk(2026, 11, 18, 23, 0))
    d = run(h, Outcome.BUSY, now=msk(2026, 11, 18, 19, 55))
    assert d.status == Status.EXPIRED
    h = history(deadline=msk(2026, 11, 19, 9, 30))
    assert run(h, Outcome.BUSY, now=msk(2026, 11, 18, 19, 55)).status == Status.PENDING


def test_expired_wins_over_exhausted_when_both() -> None:
    h = history(attempts=6, deadline=NOW - timedelta(minutes=1))
    assert run(h, Outcome.BUSY).status == Status.EXPIRED


# --- callbacks -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "asked", "expected"),
    [
        ("tomorrow 10:00, inside", (2026, 11, 19, 10, 0), (2026, 11, 19, 10, 0)),
        ("today 15:30, inside", (2026, 11, 18, 15, 30), (2026, 11, 18, 15, 30)),
        ("today 22:00, after closing → 09:00", (2026, 11, 18, 22, 0), (2026, 11, 19, 9, 0)),
        ("tomorrow 07:00, before opening", (2026, 11, 19, 7, 0), (2026, 11, 19, 9, 0)),
        ("Sunday → Monday", (2026, 11, 22, 11, 0), (2026, 11, 23, 9, 0)),
        ("on a holiday → next open day", (2026, 12, 31, 11, 0), (2027, 1, 9, 10, 0)),
        ("in the past → in 5 min", (2026, 11, 18, 11, 0), (2026, 11, 18, 12, 5)),
        ("in 2 minutes → in 5 min", (2026, 11, 18, 12, 2), (2026, 11, 18, 12, 5)),
    ],
)
def test_callback_at_the_asked_time(
    case: str, asked: tuple[int, ...], expected: tuple[int, ...]
) -> None:
    d = run(history(contacts=1), Outcome.CALLBACK_REQUESTED, callback_at=msk(*asked))
    assert d.status == Status.PENDING
    assert d.next_attempt_at == msk(*expected)
    assert d.counts_as_contact


def test_callback_without_time_and_after_deadline() -> None:
    d = run(history(), Outcome.CALLBACK_REQUESTED)
    assert d.next_attempt_at == NOW + timedelta(minutes=120)
    assert "no time given" in d.reason
    h = history(deadline=msk(2026, 11, 19, 0, 0))
    d = run(h, Outcome.CALLBACK_REQUESTED, callback_at=msk(2026, 11, 19, 10, 0))
    assert d.status == Status.EXPIRED


def test_callback_in_the_customers_zone() -> None:
    # "Call me tomorrow at 10" from Yekaterinburg: 10:00 +5 = 05:00Z.
    tz = "Asia/Yekaterinburg"
    asked = datetime(2026, 11, 19, 10, 0, tzinfo=ZoneInfo(tz))
    d = run(history(), Outcome.CALLBACK_REQUESTED, callback_at=asked, tz=tz)
    assert d.next_attempt_at == datetime(2026, 11, 19, 5, 0, tzinfo=UTC)


# --- reasons, validation, first attempt ---------------------------------------------------------


def test_reason_texts() -> None:
    assert run(history(attempts=2), Outcome.BUSY).reason == (
        "busy: retry in 15 min (attempt 2 of 6)"
    )
    assert run(history(network_failures=2), Outcome.NETWORK).reason == (
        "network: retry in 5 min (network failure 2 of 5, not counted as an attempt)"
    )
    assert run(history(contacts=2), Outcome.DELIVERED).reason == (
        "delivered: barrier of 3 contacts reached"
    )
    late = run(history(), Outcome.NO_ANSWER, now=msk(2026, 11, 18, 19, 30))
    assert late.reason == (
        "no_answer: retry in 1 h (attempt 1 of 6); outside the calling window, "
        "moved to 2026-11-19 09:00 Europe/Moscow"
    )
    assert run(history(), Outcome.DELIVERED).reason == "delivered: retry in 4 h (attempt 1 of 6)"


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="naive"):
        run(history(), Outcome.BUSY, now=datetime(2026, 11, 18, 12, 0))
    with pytest.raises(ValueError, match="naive"):
        run(history(), Outcome.CALLBACK_REQUESTED, callback_at=datetime(2026, 11, 19, 10, 0))
    with pytest.raises(ValueError, match="current_channel"):
        run(history(current=BOTH), Outcome.BUSY)


@pytest.mark.parametrize(
    ("now", "not_before", "deadline", "status", "expected"),
    [
        (msk(2026, 11, 18, 12), None, None, Status.PENDING, msk(2026, 11, 18, 12)),
        (msk(2026, 11, 18, 21), None, None, Status.PENDING, msk(2026, 11, 19, 9)),
        (msk(2026, 11, 18, 12), msk(2026, 11, 20, 15), None, Status.PENDING, msk(2026, 11, 20, 15)),
        (msk(2026, 11, 18, 12), msk(2026, 11, 1, 0), None, Status.PENDING, msk(2026, 11, 18, 12)),
        (msk(2026, 11, 18, 21), None, msk(2026, 11, 18, 23), Status.EXPIRED, None),
        (msk(2026, 11, 18, 12), None, msk(2026, 11, 18, 11), Status.EXPIRED, None),
    ],
)
def test_first_attempt(
    now: datetime,
    not_before: datetime | None,
    deadline: datetime | None,
    status: Status,
    expected: datetime | None,
) -> None:
    d = first_attempt(now, not_before, deadline, MSK, WINDOW)
    assert (d.status, d.next_attempt_at) == (status, expected)
    assert d.next_channel == CALL
    assert first_attempt(now, not_before, None, MSK, WINDOW, SMS).next_channel == SMS

"""Pure parts of the scheduler: token bucket, back-off, concurrency slots, demo clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cuckoo.clock import ScaledClock
from cuckoo.policy.ratelimit import TokenBucket
from cuckoo.worker.scheduler import backoff_delay, free_slots


@pytest.mark.parametrize(
    ("rate", "burst", "steps", "expected"),
    [
        # steps: (time, take) → tokens available *before* taking at that time
        (1.0, 1, [(0.0, 1), (0.5, 0), (1.0, 1), (1.9, 0), (2.0, 1)], [1, 0, 1, 0, 1]),
        (2.0, 2, [(0.0, 2), (0.25, 0), (0.5, 1), (10.0, 2)], [2, 0, 1, 2]),
        (0.5, 3, [(0.0, 3), (1.0, 0), (2.0, 1), (100.0, 0)], [3, 0, 1, 3]),
        (10.0, 5, [(0.0, 5), (0.1, 1), (0.3, 2), (1.0, 0)], [5, 1, 2, 5]),
        # the clock going backwards never adds tokens
        (1.0, 2, [(5.0, 2), (4.0, 0), (5.5, 0), (6.0, 1)], [2, 0, 0, 1]),
    ],
    ids=["1/s", "2/s-burst2", "slow-burst3", "fast-burst5", "clock-backwards"],
)
def test_token_bucket(
    rate: float, burst: int, steps: list[tuple[float, int]], expected: list[int]
) -> None:
    bucket = TokenBucket(rate, burst, now=steps[0][0])
    seen = []
    for at, take in steps:
        seen.append(bucket.available(at))
        bucket.take(take, at)
    assert seen == expected


def test_token_bucket_refuses_overdraw_and_bad_settings() -> None:
    bucket = TokenBucket(1.0, 2, now=0.0)
    with pytest.raises(ValueError, match="only"):
        bucket.take(3, 0.0)
    with pytest.raises(ValueError):
        TokenBucket(-1.0, 1, now=0.0)
    with pytest.raises(ValueError):
        TokenBucket(1.0, 0, now=0.0)


def test_token_bucket_sustained_rate() -> None:
    """Over 100 s at 2/s, polled every 0.5 s: 1 saved token + 200 earned start, no more."""
    bucket = TokenBucket(2.0, 1, now=0.0)
    started = 0
    for i in range(201):
        t = i / 2
        n = bucket.available(t)
        bucket.take(n, t)
        started += n
    assert started == 201


@pytest.mark.parametrize(
    ("failures", "expected"),
    [(0, 0.0), (1, 30.0), (2, 60.0), (3, 120.0), (5, 480.0), (6, 900.0), (50, 900.0)],
)
def test_backoff_delay(failures: int, expected: float) -> None:
    assert backoff_delay(failures, 30.0, 900.0) == expected


@pytest.mark.parametrize(
    ("in_flight", "cap", "per_tenant", "total", "slots"),
    [
        ([], 4, {}, 4, {}),
        (["a", "a", "b"], 4, {}, 1, {}),
        (["a", "a", "b", "c"], 4, {"a": 3}, 0, {"a": 1}),
        (["a", "a"], 10, {"a": 2, "b": 1}, 8, {"a": 0, "b": 1}),
        (["a", "a", "a"], 10, {"a": 2}, 7, {"a": 0}),  # over the cap after a config change
        (["x"] * 6, 4, {}, 0, {}),
    ],
)
def test_free_slots(
    in_flight: list[str], cap: int, per_tenant: dict[str, int], total: int, slots: dict[str, int]
) -> None:
    assert free_slots(in_flight, cap, per_tenant) == (total, slots)


def test_scaled_clock_runs_faster_from_now() -> None:
    wall = [datetime(2026, 1, 1, 12, 0, tzinfo=UTC)]
    clock = ScaledClock(60.0, base=lambda: wall[0])
    assert clock() == wall[0]
    wall[0] += timedelta(seconds=2)
    assert clock() == datetime(2026, 1, 1, 12, 2, tzinfo=UTC)
    with pytest.raises(ValueError):
        ScaledClock(0)


def test_call_worker_times_are_moved_onto_a_fast_clock() -> None:
    from cuckoo.domain import Outcome
    from cuckoo.line.leg import CallReport

    t0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    clock = ScaledClock(60.0, base=lambda: t0)
    assert clock.at(t0 + timedelta(seconds=3)) == t0 + timedelta(minutes=3)
    real = CallReport(
        "sip:x",
        Outcome.CONFIRMED,
        started_at=t0 + timedelta(seconds=1),
        ended_at=t0 + timedelta(seconds=11),
        answered_at=t0 + timedelta(seconds=2),
    )
    moved = real.moved_to(clock.at(real.started_at))
    # placed where it started on the fast clock; its length stays real
    assert moved.started_at == t0 + timedelta(minutes=1)
    assert moved.answered_at == t0 + timedelta(minutes=1, seconds=1)
    assert moved.ended_at == t0 + timedelta(minutes=1, seconds=10)
    assert moved.duration_s == 10.0 and moved.outcome == Outcome.CONFIRMED
    # without an answer, nothing is invented
    unanswered = CallReport("sip:x", Outcome.NO_ANSWER, t0, t0 + timedelta(seconds=30))
    assert unanswered.moved_to(clock.at(t0)).answered_at is None

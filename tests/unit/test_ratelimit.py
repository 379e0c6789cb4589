"""The one token bucket: unlimited rate, pauses, reserve() and available() agreeing."""

from __future__ import annotations

import math

import pytest

from cuckoo.policy.ratelimit import TokenBucket


def test_unlimited_rate_never_waits_but_honours_a_pause() -> None:
    b = TokenBucket(0.0, 1, now=0.0)
    assert [b.reserve(0.0) for _ in range(1000)] == [0.0] * 1000
    assert b.available(0.0) > 1000
    b.pause_until(2.5)
    assert b.available(1.0) == 0
    assert b.reserve(1.0) == pytest.approx(1.5)
    assert b.available(2.5) > 0


@pytest.mark.parametrize(("rate", "burst"), [(1.0, 1), (2.0, 3), (10.0, 5), (0.5, 2)])
def test_reserve_books_future_tokens_evenly(rate: float, burst: int) -> None:
    b = TokenBucket(rate, burst, now=0.0)
    waits = [b.reserve(0.0) for _ in range(burst + 4)]
    assert waits[:burst] == [0.0] * burst
    assert waits[burst:] == pytest.approx([(i + 1) / rate for i in range(4)])
    assert b.available(0.0) == 0  # booked tokens are not available to take


def test_a_pause_delays_even_saved_tokens() -> None:
    b = TokenBucket(5.0, 5, now=0.0)
    b.pause_until(3.0)
    assert b.available(1.0) == 0
    assert b.reserve(1.0) == pytest.approx(2.0)
    assert b.available(3.0) == 5  # refilled to the burst while paused, never above it
    assert not math.isinf(b.paused_until)

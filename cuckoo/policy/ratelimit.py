"""One token bucket for every rate cap in cuckoo: attempts per second (scheduler), INVITEs per
second (telephony pool), messages per second (SMPP gateway).

Pure: the caller passes the time in seconds (any origin, e.g. time.monotonic()), so tests move
time by hand. `Throttle` adds the clock, a lock and sleeping for code that just waits its turn.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class TokenBucket:
    """`rate` tokens per second, at most `burst` saved up; `rate` 0 = unlimited.

    Two ways to use it: ask what is `available` and `take` that many (never below zero), or
    `reserve` one token and wait the returned time (books future tokens, so callers queue up
    evenly: with burst 1 that spaces events exactly 1/rate apart)."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        if rate < 0 or burst < 1:
            raise ValueError("rate must be >= 0 and burst >= 1")
        self.rate = rate
        self.burst = float(burst)
        self.tokens = float(burst)
        self.at = now
        self.paused_until = -math.inf

    def _refill(self, now: float) -> None:
        if now > self.at:
            if self.rate > 0:
                self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
            self.at = now

    def available(self, now: float) -> int:
        if self.rate <= 0:
            return 0 if now < self.paused_until else 2**31
        self._refill(now)
        if now < self.paused_until:
            return 0
        return max(0, int(self.tokens + 1e-9))

    def take(self, n: int, now: float) -> None:
        if self.rate <= 0:
            return
        self._refill(now)
        if n > self.tokens + 1e-9:
            raise ValueError(f"took {n} tokens, only {self.tokens:.2f} available")
        self.tokens -= n

    def reserve(self, now: float) -> float:
        """Book one token; returns how long to wait before using it (0 = now)."""
        start = max(now, self.paused_until)
        if self.rate <= 0:
            return start - now
        self._refill(now)
        self.tokens -= 1.0
        wait = 0.0 if self.tokens >= 0 else -self.tokens / self.rate
        return max(wait, start - now)

    def pause_until(self, t: float) -> None:
        """Nothing goes out before `t` (a peer said "too fast", e.g. ESME_RTHROTTLED)."""
        self.paused_until = max(self.paused_until, t)


class Throttle:
    """A thread-safe TokenBucket on a real clock: `acquire()` sleeps until its turn."""

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self.bucket = TokenBucket(rate, burst if burst is not None else max(1.0, rate), clock())

    @property
    def rate(self) -> float:
        return self.bucket.rate

    def pause(self, seconds: float) -> None:
        with self._lock:
            self.bucket.pause_until(self._clock() + seconds)

    def reserve(self) -> float:
        with self._lock:
            return self.bucket.reserve(self._clock())

    def acquire(self) -> None:
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)

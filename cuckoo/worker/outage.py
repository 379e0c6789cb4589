"""When the store is down: back off, and say so once. Pure: the caller passes the time
(`time.monotonic()`), so the tests step it by hand.

Every scheduler job touches the store. While it is unreachable they would all fail at every
interval, each with a traceback; instead the first failure opens an outage (one WARNING), the
jobs skip their turn until the back-off delay has passed (doubling from `base_s` up to `max_s`),
the first job after it probes the store, and the first success closes the outage (one INFO
saying how long it lasted).
"""

from __future__ import annotations

import threading

__all__ = ["Outage", "backoff_delay"]


def backoff_delay(failures: int, base_s: float, max_s: float) -> float:
    """Delay after `failures` failures in a row: base, 2×base, 4×base, … capped at max."""
    if failures <= 0:
        return 0.0
    return min(max_s, base_s * 2 ** min(failures - 1, 30))


class Outage:
    """The store's availability as the worker saw it last. Thread-safe: jobs run in threads."""

    def __init__(self, base_s: float, max_s: float) -> None:
        self.base_s, self.max_s = base_s, max_s
        self.down_since: float | None = None
        self.failures = 0
        self.next_try: float = 0.0
        self._lock = threading.Lock()

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def may_try(self, now: float) -> bool:
        """Whether a job may touch the store now (always, unless backing off)."""
        with self._lock:
            return self.down_since is None or now >= self.next_try

    def failed(self, now: float) -> bool:
        """A store call failed for want of the store. True when this starts an outage (the one
        moment to warn)."""
        with self._lock:
            started = self.down_since is None
            if started:
                self.down_since = now
            self.failures += 1
            self.next_try = now + backoff_delay(self.failures, self.base_s, self.max_s)
            return started

    def succeeded(self, now: float) -> float | None:
        """A store call worked. Returns how long the outage lasted when this ends one."""
        with self._lock:
            if self.down_since is None:
                return None
            lasted = now - self.down_since
            self.down_since, self.failures, self.next_try = None, 0, 0.0
            return lasted

    def retry_in(self, now: float) -> float:
        with self._lock:
            return max(0.0, self.next_try - now)

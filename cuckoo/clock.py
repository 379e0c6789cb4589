"""Time as cuckoo reads it: one `utcnow`, the `Clock` type injected into policy, store and
scheduler code so tests can move time, and the demo's fast clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """The wall clock, aware UTC (every stored time is UTC)."""
    return datetime.now(UTC)


class ScaledClock:
    """Demo clock: time runs `speed` times faster than `base`, starting from now."""

    def __init__(self, speed: float, base: Clock = utcnow) -> None:
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        self.speed = speed
        self.base = base
        self.start = base()

    def __call__(self) -> datetime:
        return self.at(self.base())

    def at(self, real: datetime) -> datetime:
        """The clock's time at the wall-clock moment `real` (e.g. a call worker's timestamp)."""
        return self.start + (real - self.start) * self.speed

"""The scheduler under a fast demo clock, and with a channel it does not have."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from cuckoo.clock import ScaledClock
from cuckoo.config.scheduler import SchedulerSettings
from cuckoo.domain import (
    AttemptResult,
    ChannelKind,
    IncomingNotification,
    Notification,
    Outcome,
    Status,
)
from cuckoo.store import Store
from cuckoo.worker.scheduler import Scheduler


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    s.upgrade()
    yield s
    s.close()


def always_open(store: Store) -> None:
    """A calling window open around the clock, so the test does not depend on the hour."""
    from cuckoo.config.policy import PolicySettings

    every_day = {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    store.policy = PolicySettings.model_validate(
        {"window": {**every_day, "skip_holidays": False}, "sms_window": every_day}
    )


class SlowCall:
    """A call that takes `seconds` of real time, like a customer listening to the message."""

    kind = ChannelKind.CALL

    def __init__(self, clock: ScaledClock, seconds: float) -> None:
        self.clock, self.seconds = clock, seconds
        self.calls: list[int] = []
        self.lock = threading.Lock()

    def deliver(self, n: Notification) -> AttemptResult:
        with self.lock:
            self.calls.append(n.id)
        started = self.clock()
        time.sleep(self.seconds)
        return AttemptResult(Outcome.CONFIRMED, started, self.clock(), dtmf="1")


def test_fast_clock_leases_last_real_time(store: Store) -> None:
    """At 60× a 60 s lease is one real second of clock time; a 2.5 s call must keep its lease
    (not be reaped and called again in parallel) and its result must be kept."""
    always_open(store)
    clock = ScaledClock(60.0)
    store.ingest([IncomingNotification("erp", "1", "+79123000001", "order_ready")], clock())
    channel = SlowCall(clock, 2.5)
    settings = SchedulerSettings.model_validate({"lease_s": 60, "max_concurrent": 4})
    sched = Scheduler(store, {ChannelKind.CALL: channel}, settings=settings, clock=clock)
    assert sched.dispatch() == 1
    deadline = time.monotonic() + 10
    while sched.in_flight() and time.monotonic() < deadline:
        assert sched.reap() == 0  # another worker's reaper would find no expired lease
        assert sched.dispatch() == 0  # and nobody may call the same customer again
        time.sleep(0.2)
    row = store.get("erp", "1")
    assert row is not None
    assert row.status == Status.CONFIRMED.value
    assert channel.calls == [row.id]
    assert [a.outcome for a in store.attempts_of(row.id)] == [Outcome.CONFIRMED.value]


def test_calls_per_second_is_real_seconds_under_a_fast_clock(store: Store) -> None:
    """A trunk's limit of 2 calls per second does not become 120 under a 60× demo clock."""
    always_open(store)
    clock = ScaledClock(60.0)
    items = [
        IncomingNotification("erp", str(i), f"+7912300{i:04d}", "order_ready") for i in range(6)
    ]
    store.ingest(items, clock())
    channel = SlowCall(clock, 0.0)
    settings = SchedulerSettings.model_validate(
        {"calls_per_second": 2, "burst": 2, "max_concurrent": 10}
    )
    sched = Scheduler(store, {ChannelKind.CALL: channel}, settings=settings, clock=clock)
    assert sched.dispatch() == 2  # the burst
    time.sleep(0.1)  # 6 s of demo time would refill a bucket kept on demo time
    assert sched.dispatch() == 0
    time.sleep(1.1)  # a real second refills two tokens
    assert sched.dispatch() == 2
    sched.wait_idle(5)


def test_notifications_for_a_missing_channel_wait_and_are_named(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday noon in Moscow
    store.ingest(
        [
            IncomingNotification("erp", "s1", "+79123000001", "order_ready", ChannelKind.SMS),
            IncomingNotification("erp", "s2", "+79123000002", "order_ready", ChannelKind.SMS),
        ],
        now,
    )
    sched = Scheduler(store, {ChannelKind.CALL: SlowCall(ScaledClock(1.0), 0)}, clock=lambda: now)
    with caplog.at_level(logging.WARNING, logger="cuckoo"):
        assert sched.dispatch() == 0
        assert sched.warn_missing_channels() == 2
    assert "2 due notification(s) wait for the sms channel" in caplog.text
    assert "[sms.gateways]" in caplog.text
    # Nothing is lost: they are still pending and go out once the channel exists.
    later = now + timedelta(minutes=1)
    assert all(
        (r := store.get("erp", x)) is not None and r.status == Status.PENDING.value
        for x in ("s1", "s2")
    )
    assert store.due_by_channel(later) == {"sms": 2}


def test_calls_without_a_call_channel_wait_and_name_the_trunk(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    store.ingest([IncomingNotification("erp", "c1", "+79123000003", "order_ready")], now)
    sched = Scheduler(store, {}, clock=lambda: now)  # no trunk: build_channels left calls out
    with caplog.at_level(logging.WARNING, logger="cuckoo"):
        assert sched.dispatch() == 0
        assert sched.warn_missing_channels() == 1
    assert "1 due notification(s) wait for the call channel" in caplog.text
    assert "[telephony.trunk] domain" in caplog.text
    row = store.get("erp", "c1")
    assert row is not None and row.status == Status.PENDING.value and row.attempts == 0

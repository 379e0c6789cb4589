"""The scheduler in-process against a real store (SQLite and PostgreSQL), a real SQL ERP (the
sample shop schema via the sql adapter) and channels that really run in their own threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from cuckoo.config.scheduler import SchedulerSettings
from cuckoo.domain import (
    AttemptResult,
    ChannelKind,
    IncomingNotification,
    Notification,
    Outcome,
    ResultReport,
    Status,
)
from cuckoo.errors import ErpUnavailable
from cuckoo.store import Store
from cuckoo.worker.scheduler import Scheduler

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday, noon in Moscow


class Clock:
    def __init__(self, at: datetime = NOW) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **kw: float) -> None:
        self.at += timedelta(**kw)


class ScriptedChannel:
    """Answers with `outcome_for(notification)`; optionally waits for `gate` first."""

    def __init__(
        self,
        kind: ChannelKind,
        outcome_for: Callable[[Notification], Outcome],
        clock: Callable[[], datetime],
        gate: threading.Event | None = None,
    ) -> None:
        self.kind = kind
        self.outcome_for = outcome_for
        self.clock = clock
        self.gate = gate
        self.delivered: list[tuple[int, int]] = []
        self.started = threading.Semaphore(0)
        self._lock = threading.Lock()

    def deliver(self, notification: Notification) -> AttemptResult:
        self.started.release()
        if self.gate is not None:
            self.gate.wait(30)
        with self._lock:
            self.delivered.append((notification.id, notification.attempt_no))
        outcome = self.outcome_for(notification)
        at = self.clock()
        return AttemptResult(
            outcome=outcome,
            started_at=at,
            ended_at=at,
            dtmf="1" if outcome == Outcome.CONFIRMED else "",
            said=[f"{notification.scenario}"],
        )


class MemoryErp:
    """A tiny ERP in memory: `down` fetches/reports raise ErpUnavailable."""

    def __init__(self, name: str, items: list[IncomingNotification]) -> None:
        self.name = name
        self.items = items
        self.fetch_down = 0
        self.report_down = 0
        self.fetches = 0
        self.reports: list[ResultReport] = []

    def fetch_pending(self) -> list[IncomingNotification]:
        self.fetches += 1
        if self.fetch_down:
            self.fetch_down -= 1
            raise ErpUnavailable(f"{self.name}: connection refused")
        return list(self.items)

    def report(self, result: ResultReport) -> None:
        if self.report_down:
            self.report_down -= 1
            raise ErpUnavailable(f"{self.name}: 503")
        self.reports.append(result)


def item(ext: str, phone: str, source: str = "mem", **kw: object) -> IncomingNotification:
    return IncomingNotification(source, ext, phone, "order_ready", **kw)  # type: ignore[arg-type]


def phone(i: int) -> str:
    return f"+7912{3_000_000 + i:07d}"


def fast(**kw: object) -> SchedulerSettings:
    base: dict[str, object] = {"calls_per_second": 1000, "burst": 1000, "max_concurrent": 50}
    base.update(kw)
    return SchedulerSettings.model_validate(base)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    s.upgrade()
    yield s
    s.close()


def confirm(_n: Notification) -> Outcome:
    return Outcome.CONFIRMED


def test_round_trip_with_the_sql_adapter_and_sample_erp(store: Store, tmp_path: Path) -> None:
    from adapters import build_adapter
    from adapters.samples.erp import create_sample_erp
    from cuckoo.config.adapters import AdapterSettings

    erp_url = f"sqlite:///{tmp_path / 'shop.sqlite'}"
    create_sample_erp(
        erp_url,
        [
            {"phone": "8 912 300-00-01", "notify_call": True, "notify_scenario": "order_ready"},
            {"phone": "+7 916 300 00 02", "notify_sms": True, "notify_scenario": "order_ready"},
            {"phone": "12-34", "notify_call": True, "notify_scenario": "order_ready"},
        ],
    )
    shop = build_adapter("shop", AdapterSettings(type="sql", url=erp_url), tmp_path)
    clock = Clock()
    calls = ScriptedChannel(ChannelKind.CALL, confirm, clock)
    sms = ScriptedChannel(ChannelKind.SMS, lambda n: Outcome.SENT, clock)
    sched = Scheduler(
        store, {ChannelKind.CALL: calls, ChannelKind.SMS: sms}, [shop], fast(), clock, "w1"
    )
    report = sched.run_once(timeout=30)
    assert (report.ingested, report.dispatched, report.reported) == (3, 2, 3)
    assert len(calls.delivered) == 1 and len(sms.delivered) == 1
    assert store.counts_by_status() == {"confirmed": 1, "delivered": 1, "invalid": 1}
    engine = sa.create_engine(erp_url)
    with engine.connect() as conn:
        flags = conn.execute(
            sa.text("SELECT number, notify_call, notify_sms, notify_status FROM documents")
        ).all()
        results = conn.execute(sa.text("SELECT status_code, dtmf FROM notify_results")).all()
    engine.dispose()
    # Final results cleared the flags: the next poll finds nothing new.
    # the ERP's own column in words, the result rows also with the codes
    assert {f.notify_status for f in flags} == {"подтверждено", "доставлено", "неверные данные"}
    assert not any(f.notify_call or f.notify_sms for f in flags)
    assert sorted(r.status_code for r in results) == ["confirmed", "delivered", "invalid"]
    assert sched.run_once(timeout=5).ingested == 0
    shop.close()  # type: ignore[attr-defined]


def test_erp_down_backs_off_and_loses_nothing(store: Store) -> None:
    erp = MemoryErp("mem", [item("1", phone(1)), item("2", phone(2))])
    erp.fetch_down, erp.report_down = 2, 1
    clock = Clock()
    channel = ScriptedChannel(ChannelKind.CALL, confirm, clock)
    settings = fast(erp_retry_s=30, erp_retry_max_s=900, outbox_retry_s=60)
    sched = Scheduler(store, {ChannelKind.CALL: channel}, [erp], settings, clock, "w1")
    assert sched.poll() == 0 and erp.fetches == 1  # down: next try in 30 s
    clock.advance(seconds=10)
    assert sched.poll() == 0 and erp.fetches == 1  # still backing off: not even asked
    clock.advance(seconds=20)
    assert sched.poll() == 0 and erp.fetches == 2  # down again: next try in 60 s
    clock.advance(seconds=59)
    assert sched.poll() == 0 and erp.fetches == 2
    clock.advance(seconds=1)
    assert sched.poll() == 2 and erp.fetches == 3
    assert sched.dispatch() == 2 and sched.wait_idle(10)
    # The ERP refuses the first report: it is retried after the back-off, not lost.
    assert sched.flush_outbox() == 0
    assert erp.reports == [] and store.outbox_pending() == 2
    clock.advance(seconds=61)
    assert sched.flush_outbox() == 2
    assert sorted(r.external_id for r in erp.reports) == ["1", "2"]
    assert {r.status for r in erp.reports} == {Status.CONFIRMED}
    assert store.outbox_pending() == 0


def test_concurrency_caps_overall_and_per_tenant(store: Store) -> None:
    items = [item(f"a{i}", phone(i), tenant="acme") for i in range(5)]
    items += [item(f"b{i}", phone(10 + i), tenant="beta") for i in range(5)]
    store.ingest(items, NOW)
    gate = threading.Event()
    clock = Clock()
    channel = ScriptedChannel(ChannelKind.CALL, confirm, clock, gate)
    settings = fast(max_concurrent=3, max_concurrent_per_tenant={"acme": 1})
    sched = Scheduler(store, {ChannelKind.CALL: channel}, [], settings, clock, "w1")
    try:
        assert sched.dispatch() == 3
        assert sched.dispatch() == 0  # full
        counts = store.counts_by_status()
        assert counts == {"active": 3, "pending": 7}
        with store.engine.connect() as conn:
            tenants = conn.execute(
                sa.text("SELECT tenant FROM notifications WHERE status = 'active'")
            ).scalars()
            assert sorted(tenants) == ["acme", "beta", "beta"]
    finally:
        gate.set()
    assert sched.wait_idle(10)
    assert sched.dispatch() == 3


def test_cluster_max_calls_is_shared_by_every_worker_on_the_store(db_url: str) -> None:
    """Two workers, each allowed 4 calls of its own, on one store whose trunk takes 3."""
    setup = Store(db_url)
    setup.upgrade()
    setup.ingest([item(f"c{i}", phone(i)) for i in range(10)], NOW)
    gate = threading.Event()
    clock = Clock()
    settings = fast(max_concurrent=4, cluster_max_calls=3)
    workers = []
    for name in ("w1", "w2"):
        s = Store(db_url)
        channel = ScriptedChannel(ChannelKind.CALL, confirm, clock, gate)
        workers.append((s, Scheduler(s, {ChannelKind.CALL: channel}, [], settings, clock, name)))
    try:
        started = [sched.dispatch() for _, sched in workers]
        started += [sched.dispatch() for _, sched in workers]  # full: nobody may add one
        assert sum(started) == 3 and started[0] == 3
        assert setup.counts_by_status() == {"active": 3, "pending": 7}
        gate.set()
        for _, sched in workers:
            assert sched.wait_idle(10)
        assert workers[1][1].dispatch() == 3  # the freed slots go to whoever asks
    finally:
        gate.set()
        for s, sched in workers:
            sched.wait_idle(10)
            s.close()
        setup.close()


def test_calls_per_second_token_bucket(store: Store) -> None:
    store.ingest([item(str(i), phone(i)) for i in range(10)], NOW)
    clock = Clock()
    channel = ScriptedChannel(ChannelKind.CALL, confirm, clock)
    settings = fast(calls_per_second=2, burst=3)
    sched = Scheduler(store, {ChannelKind.CALL: channel}, [], settings, clock, "w1")
    assert sched.dispatch() == 3  # the burst
    assert sched.dispatch() == 0  # no time has passed
    clock.advance(seconds=0.5)
    assert sched.dispatch() == 1
    clock.advance(seconds=1)
    assert sched.dispatch() == 2
    assert sched.wait_idle(10)


def test_a_failing_channel_is_recorded_interrupted_and_retried(store: Store) -> None:
    store.ingest([item("1", phone(1))], NOW)

    class Broken:
        kind = ChannelKind.CALL

        def deliver(self, notification: Notification) -> AttemptResult:
            raise RuntimeError("sound card on fire")

    clock = Clock()
    sched = Scheduler(store, {ChannelKind.CALL: Broken()}, [], fast(), clock, "w1")
    assert sched.dispatch() == 1 and sched.wait_idle(10)
    row = store.get("mem", "1")
    assert row is not None and row.status == "pending" and row.last_outcome == "interrupted"
    [att] = store.attempts_of(row.id)
    assert "sound card on fire" in att.detail


def test_stop_records_attempts_still_running_as_interrupted(store: Store) -> None:
    store.ingest([item("1", phone(1))], NOW)
    gate = threading.Event()
    clock = Clock()
    channel = ScriptedChannel(ChannelKind.CALL, confirm, clock, gate)
    sched = Scheduler(store, {ChannelKind.CALL: channel}, [], fast(), clock, "w1")
    assert sched.dispatch() == 1
    assert channel.started.acquire(timeout=10)
    assert sched.stop(grace_s=0.2) == 1
    row = store.get("mem", "1")
    assert row is not None and row.status == "pending" and row.lease_owner is None
    [att] = store.attempts_of(row.id)
    assert att.outcome == "interrupted" and "shut down" in att.detail
    assert sched.dispatch() == 0  # stopping: nothing new
    # The call ends after all and the customer confirmed: a late result of a reached customer
    # still decides (cuckoo.policy.late), so nobody calls them again.
    gate.set()
    assert sched.wait_idle(10)
    row = store.get("mem", "1")
    assert row is not None and row.status == "confirmed"
    [att] = store.attempts_of(row.id)
    assert att.outcome == "confirmed" and "lease was lost" in att.detail


def test_background_jobs_deliver_everything_once(store: Store) -> None:
    """The real APScheduler loop, wall clock: 30 notifications end confirmed, each called once."""
    erp = MemoryErp("mem", [item(str(i), phone(i)) for i in range(30)])
    clock = Clock()
    channel = ScriptedChannel(ChannelKind.CALL, confirm, clock)
    settings = fast(
        poll_interval_s=0.2, dispatch_interval_s=0.05, outbox_interval_s=0.2, max_concurrent=4
    )
    sched = Scheduler(store, {ChannelKind.CALL: channel}, [erp], settings, clock, "w1")
    sched.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(erp.reports) < 30:
            time.sleep(0.05)
    finally:
        sched.stop(grace_s=10)
    assert store.counts_by_status() == {"confirmed": 30}
    assert sorted(n for n, _ in channel.delivered) == sorted({n for n, _ in channel.delivered})
    assert len(channel.delivered) == 30
    assert sorted(r.external_id for r in erp.reports) == sorted(str(i) for i in range(30))


def test_run_once_dispatches_everything_due_within_the_caps(db_url: str) -> None:
    """Wall clock, 4 attempts/s, at most 2 at a time, tenant acme 1: all 8 due get their call."""
    from cuckoo.clock import utcnow
    from cuckoo.config.policy import PolicySettings

    day = dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), "00:00-24:00")
    policy = PolicySettings.model_validate({"window": {**day, "skip_holidays": False}})
    store = Store(db_url, policy=policy)
    store.upgrade()
    try:
        items = [item(f"a{i}", phone(i), tenant="acme") for i in range(4)]
        items += [item(f"b{i}", phone(10 + i)) for i in range(4)]
        store.ingest(items, utcnow())
        channel = ScriptedChannel(ChannelKind.CALL, confirm, utcnow)
        settings = SchedulerSettings.model_validate(
            {
                "calls_per_second": 4,
                "burst": 1,
                "max_concurrent": 2,
                "max_concurrent_per_tenant": {"acme": 1},
            }
        )
        sched = Scheduler(store, {ChannelKind.CALL: channel}, [], settings, utcnow, "w1")
        report = sched.run_once(timeout=60)
        assert report.dispatched == 8 and not report.errors
        assert store.counts_by_status() == {"confirmed": 8}
        assert sorted(n for n, _ in channel.delivered) == sorted({n for n, _ in channel.delivered})
    finally:
        store.close()

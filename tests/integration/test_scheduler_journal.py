"""The scheduler and its journal on a real store (SQLite and PostgreSQL): results a worker could
not store are stored when the next worker starts, once, before it dispatches anything."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cuckoo.config.scheduler import SchedulerSettings
from cuckoo.domain import AttemptResult, ChannelKind, IncomingNotification, Notification, Outcome
from cuckoo.errors import StoreUnavailable
from cuckoo.store import Store
from cuckoo.worker.journal import Entry, Journal
from cuckoo.worker.scheduler import Scheduler

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday, noon in Moscow


class CountingChannel:
    """Confirms every call, and counts them: any call here is a customer called again."""

    kind = ChannelKind.CALL

    def __init__(self) -> None:
        self.calls: list[int] = []

    def deliver(self, notification: Notification) -> AttemptResult:
        self.calls.append(notification.id)
        return AttemptResult(Outcome.CONFIRMED, NOW, NOW + timedelta(seconds=20), dtmf="1")


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    s.upgrade()
    yield s
    s.close()


def left_by_a_dead_worker(store: Store, folder: Path, ext: str, outcome: Outcome) -> Entry:
    """A worker claimed `ext`, the customer answered, the worker journaled the result and died
    before the store took it."""
    store.ingest([IncomingNotification("erp", ext, f"+7912300000{ext}", "order_ready")], NOW)
    [n] = store.claim_due("dead:1", NOW, 1, 60)
    e = Entry("dead:1", n, AttemptResult(outcome, NOW, NOW + timedelta(seconds=30)), NOW)
    j = Journal(folder)
    j.open()
    j.record(e)
    j.close()
    return e


def test_the_next_worker_stores_what_a_dead_one_journaled_and_calls_nobody(
    store: Store, tmp_path: Path
) -> None:
    folder = tmp_path / "journal"
    left_by_a_dead_worker(store, folder, "1", Outcome.CONFIRMED)
    # Its lease ran out long ago: the reaper would take it, but the journal is stored first.
    later = NOW + timedelta(minutes=10)
    channel = CountingChannel()
    sched = Scheduler(
        store, {ChannelKind.CALL: channel}, [], SchedulerSettings(), lambda: later, "new:2",
        journal=Journal(folder),
    )  # fmt: skip
    report = sched.run_once(timeout=10)
    sched.journal.close()
    assert report.errors == [] and report.reaped == 0 and report.dispatched == 0
    assert channel.calls == []
    row = store.get("erp", "1")
    assert row is not None and (row.status, row.attempts) == ("confirmed", 1)
    assert [a.outcome for a in store.attempts_of(row.id)] == ["confirmed"]
    assert [p.read_text() for p in folder.glob("*.jsonl")] == [""]


def test_a_result_stored_before_the_crash_is_replayed_as_a_no_op(
    store: Store, tmp_path: Path
) -> None:
    folder = tmp_path / "journal"
    e = left_by_a_dead_worker(store, folder, "1", Outcome.CONFIRMED)
    # The store took it; the worker died before it wrote "done".
    store.finish_attempt(e.notification, e.owner, e.result, NOW)
    sched = Scheduler(
        store, {ChannelKind.CALL: CountingChannel()}, [], SchedulerSettings(), lambda: NOW,
        "new:2", journal=Journal(folder),
    )  # fmt: skip
    assert sched.run_once(timeout=10).errors == []
    sched.journal.close()
    row = store.get("erp", "1")
    assert row is not None and (row.status, row.attempts, row.contacts) == ("confirmed", 1, 1)
    assert len(store.outbox_of(row.id)) == 1


def test_a_run_while_the_store_is_locked_fails_and_the_next_run_stores_the_result(
    tmp_path: Path,
) -> None:
    """The store is unavailable for this run (its SQLite file held by another writer past the
    busy timeout): the run fails with StoreUnavailable (`cuckoo run --once` exits non-zero),
    the result stays in the journal, and the next run stores it."""
    db = tmp_path / "cuckoo.sqlite"
    store = Store(f"sqlite:///{db}", busy_timeout_ms=200)
    store.upgrade()
    folder = tmp_path / "journal"
    try:
        left_by_a_dead_worker(store, folder, "1", Outcome.CONFIRMED)
        other = sqlite3.connect(db, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        sched = Scheduler(
            store, {ChannelKind.CALL: CountingChannel()}, [], SchedulerSettings(), lambda: NOW,
            "new:2", journal=Journal(folder),
        )  # fmt: skip
        with pytest.raises(StoreUnavailable, match="database is locked"):
            sched.run_once(timeout=5)  # the poll/reap of this run fail too: the CLI says so
        assert len(sched.journal) == 1
        other.execute("ROLLBACK")
        other.close()
        sched.journal.close()
        again = Scheduler(
            store, {ChannelKind.CALL: CountingChannel()}, [], SchedulerSettings(), lambda: NOW,
            "new:3", journal=Journal(folder),
        )  # fmt: skip
        assert again.run_once(timeout=5).errors == []
        again.journal.close()
        row = store.get("erp", "1")
        assert row is not None and row.status == "confirmed"
    finally:
        store.close()

"""The store's lease contract for results that come late or twice (a worker replaying its
journal after a store outage), on SQLite and PostgreSQL (db_url fixture), and the store
reporting itself unavailable (a full SQLite database) instead of raising driver errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from cuckoo.config.policy import PolicySettings
from cuckoo.domain import AttemptResult, IncomingNotification, Notification, Outcome, Status
from cuckoo.errors import StoreUnavailable
from cuckoo.store import Store

# Monday 2026-11-23 09:00 UTC = 12:00 in Moscow: the calling window is open.
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PHONE = "+79123456700"
REAP = NOW + timedelta(seconds=61)  # the 60 s lease has run out


def result(outcome: Outcome, at: datetime = NOW, **kw: Any) -> AttemptResult:
    return AttemptResult(outcome, at, at + timedelta(seconds=40), **kw)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    s.upgrade()
    yield s
    s.close()


def claim(store: Store, owner: str = "w1", at: datetime = NOW) -> Notification:
    store.ingest([IncomingNotification("erp", "a", PHONE, "order_ready")], NOW)
    [n] = store.claim_due(owner, at, 1, 60)
    return n


def test_storing_the_same_result_again_is_a_no_op(store: Store) -> None:
    n = claim(store)
    r = result(Outcome.CONFIRMED, dtmf="1", sms_text="Акт отправлен")
    assert store.finish_attempt(n, "w1", r, NOW) == Status.CONFIRMED
    # The worker stored it, then died before marking its journal: it replays at start.
    assert store.finish_attempt(n, "w1", r, NOW + timedelta(minutes=5)) == Status.CONFIRMED
    row = store.get("erp", "a")
    assert row is not None and (row.attempts, row.contacts) == (1, 1)
    assert len(store.outbox_of(n.id)) == 1
    assert len(store.sms_requests_of(n.id)) == 1
    [att] = store.attempts_of(n.id)
    assert att.outcome == "confirmed" and "lease" not in att.detail


def test_a_confirmation_after_the_reap_wins_and_nobody_calls_again(store: Store) -> None:
    n = claim(store)
    assert store.reap_expired_leases(REAP) == 1  # another worker, while ours lost the store
    row = store.get("erp", "a")
    assert row is not None and (row.status, row.attempts) == ("pending", 1)
    late = REAP + timedelta(seconds=30)
    assert store.finish_attempt(n, "w1", result(Outcome.CONFIRMED, dtmf="1"), late) == (
        Status.CONFIRMED
    )
    row = store.get("erp", "a")
    assert row is not None
    # Counted once, not as INTERRUPTED and then again as CONFIRMED.
    assert (row.status, row.attempts, row.contacts, row.last_outcome) == (
        "confirmed",
        1,
        1,
        "confirmed",
    )
    [att] = store.attempts_of(n.id)
    assert (att.outcome, att.dtmf) == ("confirmed", "1")
    assert "applied" in att.detail and "interrupted" not in att.detail
    [out] = store.outbox_of(n.id)
    assert out.payload["status"] == "confirmed"
    assert store.claim_due("w2", late + timedelta(days=1), 5, 60) == []
    # And a second replay of it changes nothing.
    assert store.finish_attempt(n, "w1", result(Outcome.CONFIRMED, dtmf="1"), late) == (
        Status.CONFIRMED
    )
    assert len(store.outbox_of(n.id)) == 1


def test_a_confirmation_after_a_newer_attempt_started_settles_the_notification(
    store: Store,
) -> None:
    n = claim(store)
    store.reap_expired_leases(REAP)
    row = store.get("erp", "a")
    assert row is not None and row.next_attempt_at is not None
    [again] = store.claim_due("w2", row.next_attempt_at, 1, 60)  # the customer rings again
    assert again.attempt_no == 2
    at = row.next_attempt_at + timedelta(seconds=5)
    assert store.finish_attempt(n, "w1", result(Outcome.CONFIRMED), at) == Status.CONFIRMED
    # The second call's own result, when it comes, is kept but changes nothing.
    assert store.finish_attempt(again, "w2", result(Outcome.NO_ANSWER, at), at) is None
    row = store.get("erp", "a")
    assert row is not None and row.status == "confirmed" and row.lease_owner is None
    assert [a.outcome for a in store.attempts_of(n.id)] == ["confirmed", "no_answer"]


def test_a_confirmation_after_the_reap_used_up_the_attempts_still_reaches_the_erp(
    db_url: str,
) -> None:
    policy = PolicySettings.model_validate({"retry": {"max_attempts": 1}})
    s = Store(db_url, policy=policy)
    s.upgrade()
    try:
        n = claim(s)
        s.reap_expired_leases(REAP)
        row = s.get("erp", "a")
        assert row is not None and row.status == "exhausted"
        late = REAP + timedelta(seconds=30)
        assert s.finish_attempt(n, "w1", result(Outcome.CONFIRMED), late) == Status.CONFIRMED
        reports = [o.payload["status"] for o in s.outbox_of(n.id)]
        assert reports == ["exhausted", "confirmed"]  # the ERP learns the truth after all
    finally:
        s.close()


def test_the_customers_first_stored_word_stands(store: Store) -> None:
    n = claim(store)
    store.reap_expired_leases(REAP)
    row = store.get("erp", "a")
    assert row is not None and row.next_attempt_at is not None
    [again] = store.claim_due("w2", row.next_attempt_at, 1, 60)
    at = row.next_attempt_at
    assert store.finish_attempt(again, "w2", result(Outcome.DECLINED, at), at) == Status.DECLINED
    assert store.finish_attempt(n, "w1", result(Outcome.CONFIRMED), at) is None
    row = store.get("erp", "a")
    assert row is not None and row.status == "declined"
    [first, _] = store.attempts_of(n.id)
    assert first.outcome == "confirmed" and "not applied" in first.detail


def test_a_late_busy_line_leaves_the_reapers_retry(store: Store) -> None:
    n = claim(store)
    store.reap_expired_leases(REAP)
    before = store.get("erp", "a")
    assert store.finish_attempt(n, "w1", result(Outcome.BUSY), REAP) is None
    row = store.get("erp", "a")
    assert before is not None and row is not None
    assert (row.status, row.next_attempt_at, row.attempts) == (
        "pending",
        before.next_attempt_at,
        before.attempts,
    )


def test_a_full_sqlite_database_is_unavailable_not_a_crash(tmp_path: Any) -> None:
    """SQLITE_FULL (here: PRAGMA max_page_count at the file's size) → StoreUnavailable, and
    the store's watchers hear of it; once there is room again they hear it is back."""
    s = Store(f"sqlite:///{tmp_path / 'cuckoo.sqlite'}")
    s.upgrade()
    seen: list[str | None] = []
    s.watch(lambda down: seen.append(None if down is None else str(down)))
    full = {"on": True}

    @event.listens_for(s.engine, "connect")
    def _cap(dbapi_conn: Any, _record: Any) -> None:
        if full["on"]:
            size = dbapi_conn.execute("PRAGMA page_count").fetchone()[0]
            dbapi_conn.execute(f"PRAGMA max_page_count = {size}")

    s.engine.dispose()  # new connections get the cap
    many = [IncomingNotification("erp", str(i), PHONE, "order_ready") for i in range(2000)]
    try:
        with pytest.raises(StoreUnavailable, match="full"):
            s.ingest(many, NOW)
        assert seen[-1] is not None and "database or disk is full" in seen[-1]
        full["on"] = False
        s.engine.dispose()
        assert s.ingest(many[:10], NOW).new == 10
        assert seen[-1] is None
    finally:
        s.close()

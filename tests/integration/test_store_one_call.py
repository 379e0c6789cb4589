"""One customer, one call, on a real database (SQLite and PostgreSQL, the db_url fixture):
never two calls to one phone at once, whatever the number of workers; the next notification's
call waits for the last one to end plus the gap; the per-phone daily cap moves a call to the
next day. The rules themselves: tests/unit/test_percustomer.py."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.exc import IntegrityError

from cuckoo.config.policy import PolicySettings
from cuckoo.domain import AttemptResult, ChannelKind, IncomingNotification, Notification, Outcome
from cuckoo.store import Store, phonecalls
from cuckoo.store.database import Database
from cuckoo.store.migrate import alembic_config, head_revision
from cuckoo.store.models import NotificationRow

# Monday 2026-11-23 09:00 UTC = 12:00 in Moscow: the calling window is open.
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PHONE = "+74951234567"  # a Moscow landline: zone Europe/Moscow
OTHER_PHONE = "+74951234568"
GAP = timedelta(minutes=30)


def item(ext: str, phone: str = PHONE, **kw: object) -> IncomingNotification:
    return IncomingNotification(
        source="erp",
        external_id=ext,
        phone=phone,
        scenario="order_ready",
        **kw,  # type: ignore[arg-type]
    )


def ended(n: Notification, at: datetime, outcome: Outcome = Outcome.CONFIRMED) -> AttemptResult:
    return AttemptResult(outcome=outcome, started_at=at, ended_at=at + timedelta(seconds=40))


def open_store(url: str, **policy: object) -> Store:
    s = Store(url, policy=PolicySettings.model_validate(policy))
    s.upgrade()
    return s


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = open_store(db_url)
    yield s
    s.close()


def row(store: Store, ext: str) -> NotificationRow:
    r = store.get("erp", ext)
    assert r is not None
    return r


def calls_in_flight(engine: sa.Engine) -> dict[str, int]:
    """Phone → call attempts in flight (no outcome yet), for phones with more than one."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT n.phone, COUNT(*) FROM attempts a "
                "JOIN notifications n ON n.id = a.notification_id "
                "WHERE a.channel = 'call' AND a.outcome IS NULL "
                "GROUP BY n.phone HAVING COUNT(*) > 1"
            )
        ).all()
    return {str(p): int(k) for p, k in rows}


# ---- one claim, one call per phone -----------------------------------------------------------


def test_two_notifications_for_one_phone_in_one_batch_make_one_call(store: Store) -> None:
    # Two tenants, one customer: the phone is what counts.
    store.ingest([item("a", tenant="acme"), item("b", tenant="beta"), item("c", OTHER_PHONE)], NOW)
    claimed = store.claim_due("w", NOW, 10, 60)
    phones = sorted(n.phone for n in claimed)
    assert phones == [PHONE, OTHER_PHONE]
    [waiting] = [r for r in (row(store, "a"), row(store, "b")) if r.status == "pending"]
    # Pushed (not dropped, not an attempt): the running call ends after now, then the gap.
    assert waiting.next_attempt_at == NOW + GAP
    assert "in progress" in waiting.detail
    assert (waiting.attempts, waiting.attempt_seq) == (0, 0)
    assert store.attempts_of(waiting.id) == []


def test_a_phone_in_a_call_is_not_called_by_another_worker(store: Store) -> None:
    store.ingest([item("a")], NOW)
    assert len(store.claim_due("w1", NOW, 10, 60)) == 1
    store.ingest([item("b")], NOW)
    assert store.claim_due("w2", NOW + timedelta(minutes=1), 10, 60) == []
    assert row(store, "b").next_attempt_at == NOW + timedelta(minutes=1) + GAP


def test_sms_are_not_calls(store: Store) -> None:
    store.ingest([item("call"), item("sms", channel=ChannelKind.SMS)], NOW)
    claimed = store.claim_due("w", NOW, 10, 60)
    assert sorted(n.channel for n in claimed) == [ChannelKind.CALL, ChannelKind.SMS]


def test_the_next_call_waits_for_the_end_of_the_last_plus_the_gap(store: Store) -> None:
    store.ingest([item("a"), item("b")], NOW)
    [first] = store.claim_due("w", NOW, 10, 60)
    later = NOW + GAP  # "b" was pushed here while the call went on
    store.finish_attempt(first, "w", ended(first, later - timedelta(minutes=5)), later)
    assert store.claim_due("w", later, 10, 60) == []
    second = "b" if first.external_id == "a" else "a"
    free = later - timedelta(minutes=5) + timedelta(seconds=40) + GAP
    assert row(store, second).next_attempt_at == free
    assert "ended at" in row(store, second).detail
    [n] = store.claim_due("w", free, 10, 60)
    assert n.external_id == second and n.attempt_no == 1


def test_a_notifications_own_retry_is_left_to_the_retry_policy(store: Store) -> None:
    store.ingest([item("a")], NOW)
    [n] = store.claim_due("w", NOW, 10, 60)
    store.finish_attempt(n, "w", ended(n, NOW, Outcome.BUSY), NOW + timedelta(minutes=1))
    retry_at = row(store, "a").next_attempt_at
    assert retry_at == NOW + timedelta(minutes=1 + 15)  # retry_after.busy, within the gap
    [again] = store.claim_due("w", retry_at, 10, 60)
    assert again.attempt_no == 2


def test_a_push_past_the_deadline_expires_at_once(store: Store) -> None:
    store.ingest([item("a")], NOW)
    assert len(store.claim_due("w", NOW, 1, 60)) == 1
    store.ingest([item("b", deadline=NOW + timedelta(minutes=10))], NOW)
    assert store.claim_due("w", NOW, 10, 60) == []
    b = row(store, "b")
    assert b.status == "expired" and "deadline passed before the next try" in b.detail
    assert store.outbox_of(b.id)[0].payload["status"] == "expired"


# ---- the daily cap ---------------------------------------------------------------------------


def test_the_daily_cap_moves_the_fourth_call_to_the_next_days_window(db_url: str) -> None:
    store = open_store(db_url, min_minutes_between_calls_to_phone=0)
    try:
        store.ingest([item(str(i), tenant=f"t{i}") for i in range(4)], NOW)
        at = NOW
        for _ in range(3):
            [n] = store.claim_due("w", at, 10, 60)
            store.finish_attempt(n, "w", ended(n, at, Outcome.DECLINED), at + timedelta(minutes=1))
            at += timedelta(minutes=2)
        assert store.claim_due("w", at, 10, 60) == []
        [fourth] = [row(store, str(i)) for i in range(4) if row(store, str(i)).status == "pending"]
        tomorrow_9_msk = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
        assert fourth.next_attempt_at == tomorrow_9_msk
        assert "max_calls_per_phone_per_day = 3" in fourth.detail
        assert (fourth.attempts, fourth.attempt_seq) == (0, 0)  # not an attempt
        [n] = store.claim_due("w", tomorrow_9_msk, 10, 60)
        assert n.id == fourth.id
    finally:
        store.close()


def test_zero_means_no_daily_cap(db_url: str) -> None:
    store = open_store(db_url, max_calls_per_phone_per_day=0, min_minutes_between_calls_to_phone=0)
    try:
        store.ingest([item(str(i)) for i in range(5)], NOW)
        for i in range(5):
            at = NOW + timedelta(minutes=i)
            [n] = store.claim_due("w", at, 10, 60)
            store.finish_attempt(n, "w", ended(n, at, Outcome.DECLINED), at)
        assert store.counts_by_status() == {"declined": 5}
    finally:
        store.close()


# ---- the database's own guard ----------------------------------------------------------------


def test_the_database_refuses_a_second_call_in_flight_to_one_phone(store: Store) -> None:
    store.ingest([item("a"), item("b"), item("s", channel=ChannelKind.SMS)], NOW)
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE notifications SET status = 'active' WHERE external_id = 'a'"))
        conn.execute(sa.text("UPDATE notifications SET status = 'active' WHERE external_id = 's'"))
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE notifications SET status = 'active' WHERE external_id = 'b'"))


def test_a_lease_the_index_refuses_does_not_fail_the_batch(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A claimer that skipped the phone check (an older worker) leased a call to PHONE: the
    batch that holds another row of that phone still leases its other rows."""
    store = open_store(db_url)
    db = Database(db_url)
    try:
        store.ingest([item("a"), item("b"), item("c", OTHER_PHONE)], NOW)
        with store.engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE notifications SET status = 'active' WHERE external_id = 'a'")
            )
        with db.tx() as s:
            rows = list(
                s.scalars(sa.select(NotificationRow).where(NotificationRow.status == "pending"))
            )
            with caplog.at_level(logging.WARNING):
                won = phonecalls.lease(s, rows, "w", NOW, NOW + timedelta(minutes=1))
        assert won == {row(store, "c").id: 1}
        assert row(store, "b").status == "pending" and row(store, "c").status == "active"
        assert "its phone is already in a call" in caplog.text
    finally:
        db.close()
        store.close()


def test_the_migration_names_phones_with_two_calls_in_flight(db_url: str) -> None:
    store = Store(db_url)
    try:
        # Rows stored by today's models, then the schema taken back to before the index.
        store.upgrade()
        store.ingest([item("a"), item("b")], NOW)
        with store.engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0003")
            conn.execute(sa.text("UPDATE notifications SET status = 'active'"))
        with pytest.raises(RuntimeError, match=r"\+74951234567 \(2 calls\)"):
            store.upgrade()
        with store.engine.begin() as conn:
            conn.execute(sa.text("UPDATE notifications SET status = 'pending'"))
        assert store.upgrade() == head_revision()
    finally:
        store.close()


# ---- two workers racing ----------------------------------------------------------------------


def claim_together(stores: list[Store], limit: int) -> list[list[Notification]]:
    """Each store claims once, in its own thread, all starting at the same moment."""
    start = threading.Barrier(len(stores))
    got: list[list[Notification]] = [[] for _ in stores]
    errors: list[BaseException] = []

    def claim(i: int) -> None:
        try:
            start.wait()
            got[i] = stores[i].claim_due(f"w{i}", NOW, limit, 60)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return got


def race_rounds(url: str, phones: int, per_phone: int, limit: int) -> int:
    """Two workers (own Store, own engine, own owner) claim together, round after round; after
    each round no phone may have two calls in flight; then every call ends (CONFIRMED). Returns
    the rounds it took; asserts every notification got exactly one attempt."""
    setup = open_store(url, max_calls_per_phone_per_day=0, min_minutes_between_calls_to_phone=0)
    numbers = [f"+7912{4_000_000 + i:07d}" for i in range(phones)]
    setup.ingest(
        [
            item(f"{p}-{k}", numbers[p], tenant=f"t{k % 3}")
            for k in range(per_phone)
            for p in range(phones)
        ],
        NOW,
    )
    stores = [
        open_store(url, max_calls_per_phone_per_day=0, min_minutes_between_calls_to_phone=0)
        for _ in range(2)
    ]
    total = phones * per_phone
    try:
        for rnd in range(1, 20 * per_phone):
            got = claim_together(stores, limit)
            assert calls_in_flight(setup.engine) == {}, f"round {rnd}"
            both = got[0] + got[1]
            assert len({n.phone for n in both}) == len(both), f"round {rnd}: {both}"
            for i, batch in enumerate(got):
                for n in batch:
                    stores[i].finish_attempt(n, f"w{i}", ended(n, NOW), NOW)
            if setup.counts_by_status() == {"confirmed": total}:
                break
        else:
            pytest.fail(f"not all confirmed: {setup.counts_by_status()}")
        with setup.engine.connect() as conn:
            per = conn.execute(
                sa.text(
                    "SELECT COUNT(a.id) FROM notifications n "
                    "LEFT JOIN attempts a ON a.notification_id = n.id GROUP BY n.id"
                )
            ).scalars()
            assert sorted(set(per)) == [1]  # nothing lost, nothing twice
        return rnd
    finally:
        for s in [*stores, setup]:
            s.close()


def test_two_workers_never_call_one_phone_twice_at_once(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        rounds = race_rounds(db_url, phones=12, per_phone=5, limit=8)
    assert rounds >= 5  # five notifications per phone: five rounds at least
    assert "already in a call" not in caplog.text  # the claim checks; the index never had to


@pytest.mark.postgres
def test_without_the_index_the_phone_locks_alone_keep_calls_apart(pg_url: str) -> None:
    """The claim protocol itself (per-phone try-locks, then the check) under a real race on
    PostgreSQL, with the database's last guard removed so a slip would show."""
    open_store(pg_url).close()
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP INDEX uq_notifications_phone_in_call"))
    engine.dispose()
    race_rounds(pg_url, phones=10, per_phone=6, limit=10)

"""SMS that a call's dialog asked for (`sms:` steps): stored with the attempt, claimed with a
lease, sent / retried / failed, matched to receipts. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Column, Connection, MetaData, Table, inspect
from store_helpers import race

from cuckoo.config.policy import PolicySettings
from cuckoo.domain import (
    AttemptResult,
    ChannelKind,
    IncomingNotification,
    Notification,
    Outcome,
    Status,
)
from cuckoo.store import SmsRequestState, Store
from cuckoo.store.migrate import head_revision
from cuckoo.store.models import NotificationRow

# Monday 2026-11-23 09:00 UTC = 14:00 in Yekaterinburg: the SMS window (09-21) is open.
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PHONE = "+79123456700"  # a Yekaterinburg-issued mobile
TEXT = "Заказ 1024: улица Ленина, дом 5, с 09:00 до 21:00."


def item(ext: str, phone: str = PHONE, **kw: Any) -> IncomingNotification:
    return IncomingNotification(
        source="erp", external_id=ext, phone=phone, scenario="order_ready", **kw
    )


def result(outcome: Outcome = Outcome.CONFIRMED, **kw: Any) -> AttemptResult:
    return AttemptResult(outcome, NOW, NOW + timedelta(seconds=40), **kw)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    s.upgrade()
    yield s
    s.close()


def claim_call(store: Store, ext: str = "a", phone: str = PHONE, **kw: Any) -> Notification:
    store.ingest([item(ext, phone, **kw)], NOW)
    [n] = store.claim_due("w", NOW, 1, 60)
    return n


def test_the_request_is_stored_with_the_attempt(store: Store) -> None:
    n = claim_call(store, tenant="shop")
    status = store.finish_attempt(n, "w", result(dtmf="1", sms_text=TEXT), NOW)
    assert status == Status.CONFIRMED
    [req] = store.sms_requests_of(n.id)
    assert (req.state, req.attempt_no, req.text, req.tries) == ("pending", 1, TEXT, 0)
    assert req.next_try_at == NOW and req.sent_at is None and req.done_at is None
    assert store.sms_request_counts() == {"pending": 1}
    # What the SMS channel needs comes with the claim: the notification as of that attempt.
    [claimed] = store.claim_sms_requests(NOW, 10, 120)
    assert claimed.id == req.id and claimed.text == TEXT and claimed.tries == 0
    c = claimed.notification
    assert (c.id, c.phone, c.tenant, c.source, c.external_id, c.scenario) == (
        n.id,
        PHONE,
        "shop",
        "erp",
        "a",
        "order_ready",
    )
    assert (c.channel, c.attempt_no, c.timezone) == (ChannelKind.SMS, 1, "Asia/Yekaterinburg")


def test_no_request_without_an_sms_step(store: Store) -> None:
    n = claim_call(store)
    store.finish_attempt(n, "w", result(), NOW)
    assert store.sms_requests_of(n.id) == []
    assert store.claim_sms_requests(NOW, 10, 120) == []


def test_request_and_result_are_one_transaction(db_url: str) -> None:
    """If storing the result fails, the request is not stored either (and vice versa): the
    retry of the call then starts from a clean attempt."""

    class BrokenPolicy(PolicySettings):
        def policy_for(self, tenant: str, scenario: str) -> Any:
            raise RuntimeError("policy exploded")

    s = Store(db_url, policy=BrokenPolicy())
    s.upgrade()
    try:
        n = claim_call(s)
        with pytest.raises(RuntimeError, match="policy exploded"):
            s.finish_attempt(n, "w", result(sms_text=TEXT), NOW)
        assert s.sms_requests_of(n.id) == []
        [att] = s.attempts_of(n.id)
        assert att.outcome is None  # the attempt result was rolled back with it
    finally:
        s.close()


def test_a_lost_lease_still_stores_the_request_and_only_once(store: Store) -> None:
    n = claim_call(store)
    assert store.reap_expired_leases(NOW + timedelta(seconds=61)) == 1
    later = NOW + timedelta(seconds=70)
    # Confirmed after the reap: the customer's answer still decides (cuckoo.policy.late).
    assert store.finish_attempt(n, "w", result(sms_text=TEXT), later) == Status.CONFIRMED
    # The same result stored again (e.g. a retried write) must not text the customer twice.
    assert store.finish_attempt(n, "w", result(sms_text=TEXT), later) == Status.CONFIRMED
    [req] = store.sms_requests_of(n.id)
    assert (req.state, req.attempt_no, req.next_try_at) == ("pending", 1, later)


def test_each_attempt_may_ask_for_its_own_sms(store: Store) -> None:
    n = claim_call(store)
    store.finish_attempt(n, "w", result(Outcome.CALLBACK_REQUESTED, sms_text="one"), NOW)
    row = store.get("erp", "a")
    assert row is not None and row.next_attempt_at is not None
    [again] = store.claim_due("w", row.next_attempt_at, 1, 60)
    store.finish_attempt(again, "w", result(sms_text="two"), row.next_attempt_at)
    reqs = store.sms_requests_of(n.id)
    assert [(r.attempt_no, r.text) for r in reqs] == [(1, "one"), (2, "two")]


def test_a_claimed_request_is_hidden_for_its_lease(store: Store) -> None:
    n = claim_call(store)
    store.finish_attempt(n, "w", result(sms_text=TEXT), NOW)
    [first] = store.claim_sms_requests(NOW, 10, 120)
    assert store.claim_sms_requests(NOW + timedelta(seconds=119), 10, 120) == []
    # The worker died mid-send: after the lease another worker sends it.
    [again] = store.claim_sms_requests(NOW + timedelta(seconds=120), 10, 120)
    assert again.id == first.id and again.tries == 0


def test_concurrent_claimers_never_share_a_request(db_url: str) -> None:
    """Four threads, each with its own Store (own connections), race for 40 requests."""
    setup = Store(db_url)
    setup.upgrade()
    setup.ingest([item(str(i), f"+7912{3_000_000 + i:07d}") for i in range(40)], NOW)
    for n in setup.claim_due("w", NOW, 40, 60):
        setup.finish_attempt(n, "w", result(sms_text=f"text {n.id}"), NOW)
    got = race(db_url, lambda s, _name: [i.id for i in s.claim_sms_requests(NOW, 3, 600)])
    setup.close()
    ids = [i for mine in got.values() for i in mine]
    assert len(ids) == 40 and len(set(ids)) == 40


def test_retry_then_sent_then_receipt(store: Store) -> None:
    n = claim_call(store)
    store.finish_attempt(n, "w", result(sms_text=TEXT), NOW)
    [req] = store.claim_sms_requests(NOW, 10, 120)
    retry_at = NOW + timedelta(minutes=5)
    assert store.sms_request_retry(req.id, "smpp: link down", retry_at)
    assert store.claim_sms_requests(NOW + timedelta(minutes=4), 10, 120) == []
    [again] = store.claim_sms_requests(retry_at, 10, 120)
    assert again.tries == 1
    sent_at = retry_at + timedelta(seconds=2)
    assert store.sms_request_sent(again.id, "gw-7", "accepted by smsc", sent_at)
    [row] = store.sms_requests_of(n.id)
    assert (row.state, row.tries, row.gateway_message_id, row.last_error) == (
        "sent",
        2,
        "gw-7",
        "",
    )
    assert row.sent_at == sent_at and row.done_at == sent_at and row.next_try_at is None
    assert row.detail == "accepted by smsc"
    # Done is done: never claimed again, later marks do nothing.
    assert store.claim_sms_requests(NOW + timedelta(days=2), 10, 120) == []
    assert not store.sms_request_failed(again.id, "late", sent_at)
    assert not store.sms_request_retry(again.id, "late", sent_at)
    # The SMSC's receipt lands on the request (no attempt has that id).
    assert store.update_receipt("gw-7", "delivered")
    assert not store.update_receipt("gw-unknown", "delivered")
    [row] = store.sms_requests_of(n.id)
    assert row.receipt_status == "delivered"
    assert store.sms_request_counts() == {SmsRequestState.SENT.value: 1}


def test_failed_is_final_with_its_reason(store: Store) -> None:
    n = claim_call(store)
    store.finish_attempt(n, "w", result(sms_text=TEXT), NOW)
    [req] = store.claim_sms_requests(NOW, 10, 120)
    why = f"blocked: {PHONE} is on the do-not-contact list; SMS not sent"
    assert store.sms_request_failed(req.id, why, NOW)
    [row] = store.sms_requests_of(n.id)
    assert (row.state, row.tries, row.detail, row.last_error) == ("failed", 1, why, why)
    assert row.done_at == NOW and row.sent_at is None
    assert store.claim_sms_requests(NOW + timedelta(days=2), 10, 120) == []
    assert store.sms_request_counts() == {"failed": 1}


def test_no_sms_at_night_the_request_waits_for_the_window(store: Store) -> None:
    n = claim_call(store)
    store.finish_attempt(n, "w", result(sms_text=TEXT), NOW)
    night = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)  # 23:00 in Yekaterinburg
    # The gateway was down until the night: the retry falls due at 23:00 local.
    [req] = store.claim_sms_requests(NOW, 10, 120)
    store.sms_request_retry(req.id, "down", night)
    assert store.claim_sms_requests(night, 10, 120) == []
    [row] = store.sms_requests_of(n.id)
    morning = datetime(2026, 11, 24, 4, 0, tzinfo=UTC)  # 09:00 local
    assert row.next_try_at == morning and row.state == "pending"
    [claimed] = store.claim_sms_requests(morning, 10, 120)
    assert claimed.id == req.id


def old_release_table(conn: Connection) -> Table:
    """The notifications table as revision 0001 made it: today's column types, but only the
    columns that exist in the database (later revisions add columns today's model writes)."""
    present = {c["name"] for c in inspect(conn).get_columns("notifications")}
    columns = [
        Column(c.name, c.type) for c in NotificationRow.__table__.columns if c.name in present
    ]
    return Table("notifications", MetaData(), *columns)


def old_release_row(ext: str) -> dict[str, Any]:
    """A pending notification as revision 0001's code stored it (the tables of today's code
    are not all there yet, so it cannot ingest)."""
    return {
        "source": "erp",
        "external_id": ext,
        "tenant": "default",
        "phone": PHONE,
        "phone_raw": PHONE,
        "channel": "call",
        "current_channel": "call",
        "scenario": "order_ready",
        "variables": {},
        "timezone": "Asia/Yekaterinburg",
        "status": "pending",
        "attempts": 0,
        "channel_attempts": 0,
        "contacts": 0,
        "network_failures": 0,
        "rejections": 0,
        "attempt_seq": 0,
        "next_attempt_at": NOW,
        "detail": "",
        "created_at": NOW,
        "updated_at": NOW,
    }


def test_upgrade_from_revision_0001_keeps_the_data(db_url: str) -> None:
    from alembic import command

    from cuckoo.store.migrate import alembic_config

    s = Store(db_url)
    try:
        with s.engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0001")
        assert "sms_requests" not in inspect(s.engine).get_table_names()
        with s.engine.begin() as conn:  # written by the previous release
            conn.execute(old_release_table(conn).insert(), [old_release_row("old")])
        assert s.upgrade() == head_revision()
        s.require_schema()
        assert "sms_requests" in inspect(s.engine).get_table_names()
        indexes = {ix["name"] for ix in inspect(s.engine).get_indexes("sms_requests")}
        assert {"ix_sms_requests_due", "ix_sms_requests_gateway_message_id"} <= indexes
        [n] = s.claim_due("w", NOW, 1, 60)
        assert n.external_id == "old"
        s.finish_attempt(n, "w", result(sms_text=TEXT), NOW)
        assert len(s.sms_requests_of(n.id)) == 1
        with s.engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0001")
        assert "sms_requests" not in inspect(s.engine).get_table_names()
        assert "notifications" in inspect(s.engine).get_table_names()
    finally:
        s.close()

"""Cancelling notifications in the store, on SQLite and PostgreSQL (db_url): a waiting one ends
CANCELLED at once and its ERP is told; one in a call ends CANCELLED when the call is over,
unless the customer answered for good; withdrawal in the ERP goes the same way."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cuckoo.config.policy import PolicySettings
from cuckoo.domain import AttemptResult, CancelResult, IncomingNotification, Outcome, Status
from cuckoo.result_texts import result_text
from cuckoo.store import Store, report_from_json
from cuckoo.store.cancels import BY_API, BY_HAND, WITHDRAWN_IN_ERP

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday, windows open
UNPACED = PolicySettings(max_calls_per_phone_per_day=0, min_minutes_between_calls_to_phone=0)


def item(ext: str, phone: str = "+79123456700", source: str = "erp") -> IncomingNotification:
    return IncomingNotification(
        source=source,
        external_id=ext,
        phone=phone,
        scenario="order_ready",
        variables={"order": ext, "customer": {"first_name": "Иван"}},
    )


def result(outcome: Outcome, at: datetime = NOW) -> AttemptResult:
    answered = at + timedelta(seconds=3) if outcome == Outcome.CONFIRMED else None
    return AttemptResult(outcome, at, at + timedelta(seconds=20), answered_at=answered)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url, policy=UNPACED)
    s.upgrade()
    yield s
    s.close()


def row_of(store: Store, ext: str, source: str = "erp") -> Any:
    row = store.get(source, ext)
    assert row is not None
    return row


def reports_of(store: Store, ext: str) -> list[dict[str, Any]]:
    return [o.payload for o in store.outbox_of(row_of(store, ext).id)]


def test_a_waiting_notification_ends_at_once_and_its_erp_is_told(store: Store) -> None:
    store.ingest([item("a")], NOW)
    got = store.cancel_notification(
        row_of(store, "a").id, reason=BY_HAND + ": сам позвонил", now=NOW
    )
    assert got == CancelResult.CANCELLED
    row = row_of(store, "a")
    assert (row.status, row.next_attempt_at, row.cancel_reason) == (
        "cancelled",
        None,
        "cancelled by hand: сам позвонил",
    )
    [report] = reports_of(store, "a")
    assert report["status"] == "cancelled"
    assert result_text(report_from_json(report)) == "отменено: вручную (сам позвонил)"
    # Nothing is due any more: nobody is called.
    assert store.claim_due("w", NOW + timedelta(days=1), 10, 60) == []


def test_a_call_under_way_finishes_then_the_notification_ends_cancelled(store: Store) -> None:
    store.ingest([item("a")], NOW)
    [n] = store.claim_due("w", NOW, 1, 60)
    assert store.cancel_notification(n.id, reason=BY_API, now=NOW) == CancelResult.AFTER_CALL
    assert row_of(store, "a").status == "active"  # the customer is not cut off
    # Asking twice changes nothing.
    assert store.cancel_notification(n.id, reason=BY_HAND, now=NOW) == CancelResult.AFTER_CALL

    assert store.finish_attempt(n, "w", result(Outcome.NO_ANSWER), NOW) == Status.CANCELLED
    row = row_of(store, "a")
    assert (row.status, row.next_attempt_at, row.attempts) == ("cancelled", None, 1)
    assert row.detail == "cancelled through the API; the call under way ended no_answer"
    [report] = reports_of(store, "a")
    assert result_text(report_from_json(report)) == (
        "отменено: через API; начатый звонок закончился: не ответил"
    )
    assert store.claim_due("w", NOW + timedelta(days=1), 10, 60) == []


def test_the_customers_final_answer_during_that_call_wins(store: Store) -> None:
    store.ingest([item("a")], NOW)
    [n] = store.claim_due("w", NOW, 1, 60)
    store.cancel_notification(n.id, reason=BY_HAND, now=NOW)
    assert store.finish_attempt(n, "w", result(Outcome.CONFIRMED), NOW) == Status.CONFIRMED
    [report] = reports_of(store, "a")
    assert report["status"] == "confirmed"


def test_a_call_whose_worker_died_ends_cancelled_when_reaped(store: Store) -> None:
    store.ingest([item("a")], NOW)
    [n] = store.claim_due("w", NOW, 1, 60)
    store.cancel_notification(n.id, reason=BY_HAND, now=NOW)
    assert store.reap_expired_leases(NOW + timedelta(minutes=5)) == 1
    assert row_of(store, "a").status == "cancelled"
    # The worker's journal brings the real result later: the customer's word still wins.
    late = result(Outcome.CONFIRMED)
    assert store.finish_attempt(n, "w", late, NOW + timedelta(minutes=6)) == Status.CONFIRMED


def test_nothing_to_cancel(store: Store) -> None:
    store.ingest([item("a")], NOW)
    [n] = store.claim_due("w", NOW, 1, 60)
    store.finish_attempt(n, "w", result(Outcome.CONFIRMED), NOW)
    assert store.cancel_notification(n.id, reason=BY_HAND, now=NOW) == CancelResult.ALREADY_FINAL
    assert row_of(store, "a").status == "confirmed"
    assert len(reports_of(store, "a")) == 1
    assert store.cancel_notification(10_000, reason=BY_HAND, now=NOW) == CancelResult.NOT_FOUND


def test_withdrawn_in_the_erp(store: Store) -> None:
    store.ingest([item("b", "+79123456702")], NOW)
    [n] = store.claim_due("w", NOW, 1, 60)  # b: its call is under way
    store.ingest([item("a", "+79123456701"), item("c", "+79123456703")], NOW)
    store.ingest([item("a", "+79123456704", source="crm")], NOW)
    assert store.open_external_ids("erp") == {"a", "b", "c"}
    assert store.withdraw("erp", ["a", "b", "zzz"], NOW) == 2
    assert row_of(store, "a").status == "cancelled"
    assert row_of(store, "a", source="crm").status == "pending"  # another ERP's "a"
    assert row_of(store, "c").status == "pending"
    assert row_of(store, "b").cancel_reason == WITHDRAWN_IN_ERP
    [report] = reports_of(store, "a")
    assert result_text(report_from_json(report)) == "отменено: снято в ERP"
    assert store.open_external_ids("erp") == {"b", "c"}
    assert store.finish_attempt(n, "w", result(Outcome.BUSY), NOW) == Status.CANCELLED

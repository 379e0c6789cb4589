"""Wrong numbers in the store, on SQLite and PostgreSQL (db_url): an attempt that ends
wrong_number is final and reported, the (tenant, phone, customer) pair is recorded, that
customer's other notifications to the number end at once, new ones are never dialled, other
customers at the number are called as usual, and `forget` lets the number be called again."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect

from cuckoo.config.policy import PolicySettings
from cuckoo.domain import (
    AttemptResult,
    ChannelKind,
    IncomingNotification,
    Notification,
    Outcome,
    Status,
)
from cuckoo.errors import StoreUnavailable
from cuckoo.store import Store
from cuckoo.store.migrate import head_revision

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday, windows open
PHONE = "+79123456700"
OTHER_PHONE = "+79123456799"
PETROV = {"order": "A-1", "customer": {"first_name": "Иван", "last_name": "Петров"}}
PETROVA = {"order": "A-2", "customer": {"first_name": "Ольга", "last_name": "Петрова"}}


def item(
    ext: str, variables: dict[str, Any], phone: str = PHONE, **kw: Any
) -> IncomingNotification:
    return IncomingNotification(
        source=kw.pop("source", "erp"),
        external_id=ext,
        phone=phone,
        scenario="order_ready",
        variables=variables,
        **kw,
    )


def wrong_number(at: datetime = NOW) -> AttemptResult:
    return AttemptResult(
        Outcome.WRONG_NUMBER,
        started_at=at,
        ended_at=at + timedelta(seconds=20),
        answered_at=at + timedelta(seconds=3),
        transcript="вы не туда попали",
        said=["Извините за беспокойство. До свидания."],
    )


# These tests are about wrong numbers, not about pacing calls to one phone: no gap, no daily
# cap (one call per phone at a time still holds: tests/integration/test_store_one_call.py).
UNPACED = PolicySettings(max_calls_per_phone_per_day=0, min_minutes_between_calls_to_phone=0)


def claim_all(store: Store, at: datetime) -> list[Notification]:
    """Claim and keep claiming what is due at `at`, ending each call (busy) before the next
    claim, since one phone gets one call at a time."""
    got: list[Notification] = []
    while batch := store.claim_due("w", at, 10, 60):
        got.extend(batch)
        for n in batch:
            store.finish_attempt(n, "w", AttemptResult(Outcome.BUSY, at, at), at)
    return got


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url, policy=UNPACED)
    s.upgrade()
    yield s
    s.close()


def status_of(store: Store, ext: str, source: str = "erp") -> tuple[str, str]:
    row = store.get(source, ext)
    assert row is not None
    return row.status, row.detail


def reports_of(store: Store, ext: str, source: str = "erp") -> list[dict[str, Any]]:
    row = store.get(source, ext)
    assert row is not None
    return [o.payload for o in store.outbox_of(row.id)]


def test_the_table_and_its_index(store: Store) -> None:
    assert "wrong_numbers" in inspect(store.engine).get_table_names()
    indexes = {ix["name"] for ix in inspect(store.engine).get_indexes("wrong_numbers")}
    assert "ix_wrong_numbers_phone" in indexes


def test_a_wrong_number_ends_that_customers_notifications_to_that_number(store: Store) -> None:
    store.ingest([item("called", PETROV)], NOW)
    [n] = store.claim_due("w", NOW, 1, 60)
    store.ingest(
        [
            item("same-customer", {**PETROV, "order": "B-7"}),
            item("same-customer-sms", PETROV, channel=ChannelKind.SMS),
            item("same-customer-other-erp", PETROV, source="crm"),
            item("other-customer", PETROVA),
            item("same-customer-other-phone", PETROV, phone=OTHER_PHONE),
            item("same-customer-other-tenant", PETROV, tenant="south"),
        ],
        NOW,
    )
    assert store.finish_attempt(n, "w", wrong_number(), NOW) == Status.WRONG_NUMBER

    row = store.get("erp", "called")
    assert row is not None
    assert (row.status, row.attempts, row.contacts, row.next_attempt_at) == (
        "wrong_number",
        1,
        0,  # somebody else answered: the customer did not hear the message
        None,
    )
    [report] = reports_of(store, "called")
    assert (report["status"], report["outcome"], report["contacts"]) == (
        "wrong_number",
        "wrong_number",
        0,
    )
    assert report["transcript"] == "вы не туда попали"
    assert store.wrong_number_count() == 1

    # That customer's other notifications to that number end now, each reported to its ERP.
    for ext, source in [
        ("same-customer", "erp"),
        ("same-customer-sms", "erp"),
        ("same-customer-other-erp", "crm"),
    ]:
        status, detail = status_of(store, ext, source)
        assert status == "wrong_number"
        assert detail.startswith(f"wrong number: somebody else answered {PHONE}")
        assert detail.endswith("answered so in erp/called")
        [r] = reports_of(store, ext, source)
        assert (r["status"], r["outcome"], r["attempts"]) == ("wrong_number", None, 0)
        assert r["detail"] == detail
    # Everyone else is called as usual.
    for ext in ("other-customer", "same-customer-other-phone", "same-customer-other-tenant"):
        assert status_of(store, ext)[0] == "pending"
        assert reports_of(store, ext) == []
    got = [x.external_id for x in claim_all(store, NOW)]
    assert sorted(got) == [
        "other-customer",
        "same-customer-other-phone",
        "same-customer-other-tenant",
    ]
    assert store.outbox_pending_by_source() == {"erp": 3, "crm": 1}


def test_a_new_notification_for_a_recorded_pair_is_never_dialled(store: Store) -> None:
    store.ingest([item("first", PETROV)], NOW)
    [n] = store.claim_due("w", NOW, 1, 60)
    store.finish_attempt(n, "w", wrong_number(), NOW)

    later = NOW + timedelta(days=3)
    # The same customer written another way is the same customer; another is not.
    spelled = {"order": "C-1", "customer": "ПЕТРОВ Иван"}
    report = store.ingest(
        [item("again", spelled, phone="8 912 345-67-00"), item("her", PETROVA)], later
    )
    assert (report.new, report.wrong_number, report.stored) == (1, 1, 2)
    assert report.errors == [
        f"erp/again: wrong number: somebody else answered {PHONE} for this customer before; "
        f"not dialled until the number is fixed (`cuckoo unblock --wrong-number {PHONE}` "
        "forgets it)"
    ]
    status, detail = status_of(store, "again")
    assert status == "wrong_number" and "not dialled" in detail
    [r] = reports_of(store, "again")
    assert (r["status"], r["outcome"], r["detail"]) == ("wrong_number", None, detail)
    assert [x.external_id for x in store.claim_due("w", later, 10, 60)] == ["her"]


def test_the_erps_customer_id_decides_over_the_name(store: Store) -> None:
    store.ingest([item("first", {**PETROV, "customer_id": 17})], NOW)
    [n] = store.claim_due("w", NOW, 1, 60)
    store.finish_attempt(n, "w", wrong_number(), NOW)
    report = store.ingest(
        [
            item("same-id-new-name", {"order": "A", "customer_id": 17, "customer": "И. Петров"}),
            item("namesake", {**PETROV, "customer_id": 18}),
        ],
        NOW,
    )
    assert (report.wrong_number, report.new) == (1, 1)
    assert status_of(store, "same-id-new-name")[0] == "wrong_number"
    assert status_of(store, "namesake")[0] == "pending"


def test_a_notification_in_flight_when_the_pair_is_recorded_is_not_called_again(
    store: Store,
) -> None:
    # Only an SMS can be in flight beside a call to the same number (one call per phone).
    store.ingest([item("a", PETROV), item("b", {**PETROV, "order": "B"}, channel="sms")], NOW)
    a, b = sorted(store.claim_due("w", NOW, 2, 60), key=lambda n: n.external_id)
    assert store.finish_attempt(a, "w", wrong_number(), NOW) == Status.WRONG_NUMBER
    assert status_of(store, b.external_id)[0] == "active"  # its SMS is still being sent
    refused = AttemptResult(Outcome.UNDELIVERABLE, NOW, NOW + timedelta(seconds=5))
    assert store.finish_attempt(b, "w", refused, NOW) == Status.PENDING
    # The retry is due, but the claim sees the recorded pair and ends it instead of sending.
    assert store.claim_due("w", NOW + timedelta(hours=1), 10, 60) == []
    status, detail = status_of(store, b.external_id)
    assert status == "wrong_number" and detail.startswith("wrong number:")
    reports = reports_of(store, b.external_id)
    assert [(r["status"], r["attempts"]) for r in reports] == [("wrong_number", 1)]


def test_two_workers_recording_the_same_pair_at_once(db_url: str, store: Store) -> None:
    store.ingest([item("a", PETROV), item("b", {**PETROV, "order": "B"})], NOW)
    # Two calls to one number are never in flight at once; two results for it can still meet:
    # "a"'s worker lost the store, was reaped, "b" was called, and "a"'s late result arrives
    # (from the journal) just as "b"'s does.
    [first] = store.claim_due("w", NOW, 2, 60)
    later = NOW + timedelta(seconds=61)
    assert store.reap_expired_leases(later) == 1
    claimed = [first, *store.claim_due("w", later, 2, 60)]
    assert len(claimed) == 2
    errors: list[BaseException] = []
    retried: list[str] = []
    start = threading.Barrier(2)

    def finish(i: int) -> None:
        s = Store(db_url, policy=UNPACED)  # its own connections, as another worker would have
        try:
            start.wait()
            # As the worker's journal does: a result the store could not take is stored again.
            # Each result ends the other notification too, so on PostgreSQL the two can
            # deadlock; the database aborts one, and its replay then finds the work done.
            for _ in range(5):
                try:
                    s.finish_attempt(claimed[i], "w", wrong_number(), later)
                    break
                except StoreUnavailable as e:
                    retried.append(str(e))
        except BaseException as e:
            errors.append(e)
        finally:
            s.close()

    threads = [threading.Thread(target=finish, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(retried) <= 1, retried
    assert store.wrong_number_count() == 1
    assert {status_of(store, x)[0] for x in "ab"} == {"wrong_number"}
    assert [len(reports_of(store, x)) for x in "ab"] == [1, 1]


def test_forgetting_a_wrong_number_lets_its_customer_be_called_again(store: Store) -> None:
    store.ingest([item("n", PETROV), item("s", PETROV, tenant="south", phone=OTHER_PHONE)], NOW)
    store.ingest([item("s2", PETROV, tenant="north", phone=OTHER_PHONE)], NOW)
    while batch := store.claim_due("w", NOW, 3, 60):  # one call per phone at a time
        for n in batch:
            store.finish_attempt(n, "w", wrong_number(), NOW)
    assert store.wrong_number_count() == 3

    assert store.forget_wrong_number("8 912 345-67-00") == 1  # every tenant's
    assert store.forget_wrong_number(PHONE) == 0
    assert store.forget_wrong_number(OTHER_PHONE, tenant="south") == 1
    assert store.wrong_number_count() == 1  # north's is kept
    report = store.ingest(
        [
            item("n-again", PETROV),
            item("s-again", PETROV, tenant="south", phone=OTHER_PHONE),
            item("north-again", PETROV, tenant="north", phone=OTHER_PHONE),
        ],
        NOW,
    )
    assert (report.new, report.wrong_number) == (2, 1)
    # The notifications that ended WRONG_NUMBER stay ended: the ERP sends new ones.
    assert status_of(store, "n")[0] == "wrong_number"


def test_status_counts_the_wrong_numbers(store: Store) -> None:
    store.ingest([item("a", PETROV)], NOW)
    [n] = store.claim_due("w", NOW, 1, 60)
    store.finish_attempt(n, "w", wrong_number(), NOW)
    store.ingest([item("b", PETROV)], NOW)
    assert store.counts_by_status() == {"wrong_number": 2}


def test_upgrade_from_revision_0002_and_back(db_url: str) -> None:
    from alembic import command

    from cuckoo.store.migrate import alembic_config

    s = Store(db_url)
    try:
        with s.engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0002")
        assert "wrong_numbers" not in inspect(s.engine).get_table_names()
        assert s.upgrade() == head_revision()
        s.ingest([item("a", PETROV)], NOW)
        [n] = s.claim_due("w", NOW, 1, 60)
        s.finish_attempt(n, "w", wrong_number(), NOW)
        assert s.wrong_number_count() == 1
        with s.engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0002")
        assert "wrong_numbers" not in inspect(s.engine).get_table_names()
        assert "notifications" in inspect(s.engine).get_table_names()
    finally:
        s.close()


def cuckoo(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cuckoo.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_status_and_unblock_wrong_number_on_the_command_line(
    tmp_path: Path, sqlite_url: str
) -> None:
    (tmp_path / "cuckoo.toml").write_text(f'[store]\nurl = "{sqlite_url}"\n', encoding="utf-8")
    s = Store(sqlite_url, policy=UNPACED)
    try:
        s.upgrade()
        s.ingest([item("a", PETROV), item("b", PETROV, tenant="south")], NOW)
        while batch := s.claim_due("w", NOW, 2, 60):  # one call per phone at a time
            for n in batch:
                s.finish_attempt(n, "w", wrong_number(), NOW)
    finally:
        s.close()

    status = cuckoo(tmp_path, "status")
    assert status.returncode == 0, status.stderr
    assert "wrong_number\t2\n" in status.stdout, status.stdout  # plain lines in a pipe
    assert "wrong numbers (customer, number): 2" in status.stdout

    mixed = cuckoo(tmp_path, "unblock", PHONE, "--tenant", "south")
    assert mixed.returncode == 1 and "--tenant goes with --wrong-number" in mixed.stderr
    south = cuckoo(tmp_path, "unblock", "--wrong-number", "8 912 345-67-00", "--tenant", "south")
    assert south.returncode == 0, south.stderr
    assert south.stdout.strip() == f"forgot 1 wrong-number record(s) of {PHONE} of tenant south"
    rest = cuckoo(tmp_path, "unblock", "--wrong-number", PHONE)
    assert rest.stdout.strip() == f"forgot 1 wrong-number record(s) of {PHONE}"
    assert "wrong numbers (customer, number): 0" in cuckoo(tmp_path, "status").stdout
    bad = cuckoo(tmp_path, "unblock", "--wrong-number", "12")
    assert bad.returncode == 1 and "phone" in bad.stderr and "Traceback" not in bad.stderr


def test_an_sms_promised_before_the_wrong_number_answer_is_not_sent(store: Store) -> None:
    # «Отправим адрес в SMS» ... «вы не туда попали»: the stranger gets no text
    store.ingest([item("sms", PETROV)], NOW)
    (n,) = store.claim_due("w", NOW, 10, 60)
    promised = replace(wrong_number(), sms_text="Адрес: ул. Ленина, 5")
    assert store.finish_attempt(n, "w", promised, NOW) == Status.WRONG_NUMBER
    assert store.sms_request_counts().get("pending", 0) == 0
    # the same promise with any other outcome is kept, to be sent
    store.ingest([item("sms2", PETROV, phone="+79120000077")], NOW)
    (m,) = store.claim_due("w", NOW, 10, 60)
    kept = replace(promised, outcome=Outcome.CONFIRMED)
    assert store.finish_attempt(m, "w", kept, NOW) == Status.CONFIRMED
    assert store.sms_request_counts().get("pending", 0) == 1

"""The store on a real database: every test runs on SQLite and on PostgreSQL (db_url fixture)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect
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
from cuckoo.store import Store
from cuckoo.store.migrate import head_revision

# Monday 2026-11-23 09:00 UTC = 12:00 in Moscow, 14:00 in Yekaterinburg: calling windows open.
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PHONE = "+79123456700"  # a Yekaterinburg-issued mobile


def item(ext: str, phone: str = PHONE, **kw: object) -> IncomingNotification:
    return IncomingNotification(
        source=str(kw.pop("source", "erp")),
        external_id=ext,
        phone=phone,
        scenario=str(kw.pop("scenario", "order_ready")),
        **kw,  # type: ignore[arg-type]
    )


def phones(n: int, start: int = 0) -> list[str]:
    return [f"+7912{3_000_000 + start + i:07d}" for i in range(n)]


def result(outcome: Outcome, at: datetime = NOW, **kw: object) -> AttemptResult:
    return AttemptResult(
        outcome=outcome,
        started_at=at,
        ended_at=at + timedelta(seconds=40),
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url, known_scenarios={"order_ready", "documents_sent"})
    s.upgrade()
    yield s
    s.close()


# ---- schema ----------------------------------------------------------------------------------


def test_upgrade_creates_tables_and_is_idempotent(store: Store) -> None:
    names = set(inspect(store.engine).get_table_names())
    assert {"notifications", "attempts", "outbox", "blocked_numbers", "alembic_version"} <= names
    found = inspect(store.engine).get_indexes("notifications")
    indexes = {ix["name"]: ix["column_names"] for ix in found}
    assert indexes["ix_notifications_due"] == ["status", "next_attempt_at"]
    assert store.upgrade() == head_revision()
    store.require_schema()
    if not store.is_postgres:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000


def test_require_schema_names_the_fix_on_an_empty_database(db_url: str) -> None:
    from cuckoo.errors import ConfigError

    s = Store(db_url)
    try:
        with pytest.raises(ConfigError, match="cuckoo db upgrade"):
            s.require_schema()
    finally:
        s.close()


# ---- ingest ----------------------------------------------------------------------------------


def test_ingest_is_idempotent_by_source_and_external_id(store: Store) -> None:
    batch = [item(str(i), p) for i, p in enumerate(phones(5))]
    first = store.ingest(batch, NOW)
    again = store.ingest(batch, NOW + timedelta(minutes=1))
    other_source = store.ingest([item("0", PHONE, source="crm")], NOW)
    assert (first.new, first.duplicates) == (5, 0)
    assert (again.new, again.duplicates) == (0, 5)
    assert other_source.new == 1
    assert store.counts_by_status() == {"pending": 6}


def test_ingest_normalizes_phone_and_resolves_zone(store: Store) -> None:
    store.ingest(
        [
            item("a", "8 (912) 345-67-00"),
            item("b", "+7 495 123-45-67", timezone="Asia/Vladivostok"),
            item("c", "+7 495 123-45-67"),
        ],
        NOW,
    )
    a, b, c = (store.get("erp", x) for x in "abc")
    assert a and b and c
    assert (a.phone, a.phone_raw, a.timezone) == (PHONE, "8 (912) 345-67-00", "Asia/Yekaterinburg")
    assert b.timezone == "Asia/Vladivostok"  # the ERP's field wins
    assert c.timezone == "Europe/Moscow"  # a Moscow landline
    assert a.status == "pending" and a.next_attempt_at == NOW


@pytest.mark.parametrize(
    ("row", "status", "message"),
    [
        (item("x", "12"), Status.INVALID, "phone '12'"),
        (item("x", "not a phone"), Status.INVALID, "phone"),
        (item("x", scenario="nope"), Status.INVALID, "unknown scenario 'nope'"),
        (item("x", timezone="Mars/Olympus"), Status.INVALID, "Mars/Olympus"),
        (item("x", deadline=datetime(2026, 12, 1)), Status.INVALID, "deadline .* no time zone"),
        (item("x", deadline=NOW - timedelta(hours=1)), Status.EXPIRED, "deadline"),
        (item("x", channel="fax"), Status.INVALID, "channel 'fax'"),
        (item("x", variables={"when": object()}), Status.INVALID, "not JSON-serializable"),
    ],
    ids=[
        *("short-phone", "text-phone", "unknown-scenario", "bad-zone", "naive-deadline"),
        *("expired", "bad-channel", "bad-variables"),
    ],
)
def test_a_bad_row_is_stored_reported_and_does_not_stop_the_others(
    store: Store, row: IncomingNotification, status: Status, message: str
) -> None:
    good = [item(str(i), p) for i, p in enumerate(phones(3))]
    report = store.ingest([good[0], row, *good[1:]], NOW)
    assert report.new == 3
    assert report.invalid + report.expired == 1
    assert len(report.errors) == 1 and report.errors[0].startswith("erp/x: ")
    stored = store.get("erp", "x")
    assert stored is not None and stored.status == status.value
    assert stored.next_attempt_at is None
    import re

    assert re.search(message, stored.detail)
    [out] = store.outbox_of(stored.id)
    assert out.payload["status"] == status.value and re.search(message, out.payload["detail"])
    # Nothing invalid is ever dispatched.
    claimed = store.claim_due("w", NOW, 10, 60)
    assert sorted(n.external_id for n in claimed) == ["0", "1", "2"]


def test_a_row_the_database_refuses_does_not_stop_the_others(store: Store) -> None:
    rows = [item("ok1", phones(2)[0]), item("x" * 300, phones(2)[1]), item("ok2", PHONE)]
    report = store.ingest(rows, NOW)
    if store.is_postgres:  # VARCHAR(200) is enforced; SQLite stores any length
        assert (report.new, report.invalid) == (2, 1)
        assert "cannot store" in report.errors[0]
    else:
        assert report.new == 3
    assert store.get("erp", "ok1") is not None and store.get("erp", "ok2") is not None


def test_a_blocked_number_is_stored_blocked(store: Store) -> None:
    store.block("8 912 345 67 00", "asked by phone", NOW)
    report = store.ingest([item("a"), item("b", phones(1)[0])], NOW)
    assert (report.new, report.blocked) == (1, 1)
    a = store.get("erp", "a")
    assert a is not None and a.status == "blocked"
    assert store.outbox_of(a.id)[0].payload["status"] == "blocked"


def test_not_before_and_closed_window_set_the_first_attempt(store: Store) -> None:
    later = NOW + timedelta(hours=2)
    night = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)  # 22:00 Moscow: closed until 09:00
    store.ingest([item("a", not_before=later), item("b", "+74951234567")], NOW)
    store.ingest([item("c", "+74951234567")], night)
    assert store.get("erp", "a").next_attempt_at == later  # type: ignore[union-attr]
    assert store.get("erp", "b").next_attempt_at == NOW  # type: ignore[union-attr]
    # Tuesday 09:00 Moscow = 06:00 UTC.
    assert store.get("erp", "c").next_attempt_at == datetime(  # type: ignore[union-attr]
        2026, 11, 24, 6, 0, tzinfo=UTC
    )


# ---- claim -----------------------------------------------------------------------------------


def test_claim_reads_only_due_rows_and_respects_the_limit(store: Store) -> None:
    store.ingest([item(str(i), p) for i, p in enumerate(phones(5))], NOW)
    store.ingest([item("later", phones(1, 50)[0], not_before=NOW + timedelta(hours=1))], NOW)
    assert store.due_summary(NOW) == (5, NOW + timedelta(hours=1))
    first = store.claim_due("w1", NOW, 3, 60)
    second = store.claim_due("w2", NOW, 10, 60)
    assert len(first) == 3 and len(second) == 2
    assert not {n.id for n in first} & {n.id for n in second}
    assert store.claim_due("w3", NOW, 10, 60) == []
    assert all(n.attempt_no == 1 and n.channel == ChannelKind.CALL for n in first + second)
    # The attempt row exists from the claim on.
    for n in first:
        [att] = store.attempts_of(n.id)
        assert (att.no, att.owner, att.outcome, att.started_at) == (1, "w1", None, NOW)
    assert store.counts_by_status() == {"active": 5, "pending": 1}
    later = store.claim_due("w", NOW + timedelta(hours=1), 5, 60)
    assert [n.external_id for n in later] == ["later"]


def test_claim_filters_channels_and_tenant_slots(store: Store) -> None:
    ps = phones(6)
    store.ingest(
        [
            item("sms", ps[0], channel=ChannelKind.SMS),
            item("a1", ps[1], tenant="acme"),
            item("a2", ps[2], tenant="acme"),
            item("a3", ps[3], tenant="acme"),
            item("b1", ps[4], tenant="beta"),
            item("c1", ps[5], tenant="gamma"),
        ],
        NOW,
    )
    calls = store.claim_due(
        "w", NOW, 10, 60, channels=[ChannelKind.CALL], tenant_slots={"acme": 1, "beta": 0}
    )
    got = sorted(n.external_id for n in calls)
    assert len([g for g in got if g.startswith("a")]) == 1
    assert "b1" not in got and "sms" not in got and "c1" in got
    sms = store.claim_due("w", NOW, 10, 60, channels=[ChannelKind.SMS])
    assert [(n.external_id, n.channel) for n in sms] == [("sms", ChannelKind.SMS)]


def test_claim_pushes_rows_whose_window_closed_to_the_next_opening(store: Store) -> None:
    store.ingest([item("m", "+74951234567")], NOW)
    evening = datetime(2026, 11, 23, 17, 30, tzinfo=UTC)  # 20:30 Moscow: closed since 20:00
    assert store.claim_due("w", evening, 10, 60) == []
    row = store.get("erp", "m")
    assert row is not None and row.status == "pending"
    assert row.next_attempt_at == datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    assert row.attempt_seq == 0 and store.attempts_of(row.id) == []


def test_claim_expires_rows_past_their_deadline_and_blocks_blocked_numbers(store: Store) -> None:
    ps = phones(3)
    store.ingest(
        [
            item("late", ps[0], deadline=NOW + timedelta(minutes=5)),
            item("b", ps[1]),
            item("ok", ps[2]),
        ],
        NOW,
    )
    store.block(ps[1], "opted out elsewhere", NOW)
    claimed = store.claim_due("w", NOW + timedelta(minutes=10), 10, 60)
    assert [n.external_id for n in claimed] == ["ok"]
    late, b = store.get("erp", "late"), store.get("erp", "b")
    assert late is not None and late.status == "expired"
    assert b is not None and b.status == "blocked"
    assert store.outbox_of(late.id)[0].payload["status"] == "expired"
    assert store.outbox_of(b.id)[0].payload["status"] == "blocked"


def test_concurrent_claimers_never_share_a_row(db_url: str) -> None:
    """Four threads, each with its own Store (own connections), race for 200 due rows."""
    setup = Store(db_url)
    setup.upgrade()
    setup.ingest([item(str(i), p) for i, p in enumerate(phones(200))], NOW)
    got = race(db_url, lambda s, name: [n.id for n in s.claim_due(name, NOW, 7, 60)])
    all_ids = [i for ids in got.values() for i in ids]
    assert len(all_ids) == 200 and len(set(all_ids)) == 200
    assert setup.counts_by_status() == {"active": 200}
    setup.close()


def test_a_channel_cap_counts_the_calls_of_every_worker(store: Store) -> None:
    ps = phones(8)
    store.ingest([item(f"c{i}", ps[i]) for i in range(6)], NOW)
    store.ingest([item(f"s{i}", ps[6 + i], channel=ChannelKind.SMS) for i in range(2)], NOW)
    cap = {ChannelKind.CALL: 3}
    calls = [ChannelKind.CALL]
    first = store.claim_due("w1", NOW, 2, 60, channels=calls, channel_caps=cap)
    second = store.claim_due("w2", NOW, 5, 60, channels=calls, channel_caps=cap)
    assert (len(first), len(second)) == (2, 1)  # w2 had room for 5, the trunk for 1 more
    assert store.claim_due("w3", NOW, 5, 60, channels=calls, channel_caps=cap) == []
    # the cap is on calls only: SMS go on
    sms = store.claim_due("w3", NOW, 5, 60, channel_caps=cap)
    assert sorted(n.external_id for n in sms) == ["s0", "s1"]
    # a call that ends frees its slot for any worker
    store.finish_attempt(first[0], "w1", result(Outcome.BUSY), NOW)
    again = store.claim_due("w3", NOW, 5, 60, channels=calls, channel_caps=cap)
    assert len(again) == 1 and again[0].channel == ChannelKind.CALL


def test_concurrent_claimers_never_exceed_the_channel_cap(db_url: str) -> None:
    """Four workers (own Store, own connections) race for 60 due calls under a store-wide cap
    of 5: exactly 5 are claimed, never a sixth (the count and the claim are one step)."""
    setup = Store(db_url)
    setup.upgrade()
    setup.ingest([item(str(i), p) for i, p in enumerate(phones(60))], NOW)
    cap = {ChannelKind.CALL: 5}
    got = race(
        db_url, lambda s, name: [n.id for n in s.claim_due(name, NOW, 2, 60, channel_caps=cap)]
    )
    assert sum(len(ids) for ids in got.values()) == 5
    assert setup.counts_by_status() == {"active": 5, "pending": 55}
    setup.close()


# ---- finishing attempts ----------------------------------------------------------------------


def claim_one(store: Store, ext: str = "a", phone: str = PHONE, **kw: object) -> Notification:
    store.ingest([item(ext, phone, **kw)], NOW)
    [n] = store.claim_due("w", NOW, 1, 60)
    return n


def test_confirmed_is_final_counted_and_reported(store: Store) -> None:
    n = claim_one(store)
    status = store.finish_attempt(
        n, "w", result(Outcome.CONFIRMED, dtmf="1", sip_code=200, said=["Здравствуйте"]), NOW
    )
    assert status == Status.CONFIRMED
    row = store.get("erp", "a")
    assert row is not None
    assert (row.status, row.attempts, row.contacts, row.lease_owner) == ("confirmed", 1, 1, None)
    [att] = store.attempts_of(n.id)
    assert (att.outcome, att.dtmf, att.sip_code, att.said, att.duration_s) == (
        "confirmed",
        "1",
        200,
        ["Здравствуйте"],
        40.0,
    )
    [out] = store.outbox_of(n.id)
    assert out.payload["status"] == "confirmed" and out.payload["dtmf"] == "1"
    assert out.payload["contacts"] == 1


def test_busy_schedules_a_retry_without_a_report(store: Store) -> None:
    n = claim_one(store)
    assert store.finish_attempt(n, "w", result(Outcome.BUSY, sip_code=486), NOW) == Status.PENDING
    row = store.get("erp", "a")
    assert row is not None
    assert (row.status, row.attempts, row.contacts, row.last_outcome) == ("pending", 1, 0, "busy")
    assert row.next_attempt_at == NOW + timedelta(minutes=15)  # from when it was stored
    assert store.outbox_of(n.id) == []
    [again] = store.claim_due("w2", row.next_attempt_at, 5, 60)
    assert again.attempt_no == 2


def test_network_failures_are_counted_apart(store: Store) -> None:
    n = claim_one(store)
    store.finish_attempt(n, "w", result(Outcome.NETWORK, sip_code=503), NOW)
    row = store.get("erp", "a")
    assert row is not None and (row.attempts, row.network_failures, row.attempt_seq) == (0, 1, 1)


def test_opt_out_blocks_the_number_for_other_notifications(store: Store) -> None:
    n = claim_one(store)
    store.ingest([item("other", "8 912 345 67 00")], NOW)
    assert store.finish_attempt(n, "w", result(Outcome.OPTED_OUT), NOW) == Status.OPTED_OUT
    assert store.is_blocked("+7 912 345 67 00")
    assert store.claim_due("w", NOW + timedelta(minutes=1), 5, 60) == []
    other = store.get("erp", "other")
    assert other is not None and other.status == "blocked"
    assert store.unblock(PHONE) and not store.is_blocked(PHONE)
    assert not store.unblock(PHONE)


def test_callback_is_scheduled_and_reported(store: Store) -> None:
    n = claim_one(store)
    asked = NOW + timedelta(days=1)
    status = store.finish_attempt(
        n, "w", result(Outcome.CALLBACK_REQUESTED, callback_at=asked, transcript="завтра"), NOW
    )
    assert status == Status.PENDING
    row = store.get("erp", "a")
    assert row is not None and row.next_attempt_at == asked and row.contacts == 1
    [out] = store.outbox_of(n.id)
    assert out.payload["status"] == "pending"
    assert out.payload["outcome"] == "callback_requested"
    assert datetime.fromisoformat(out.payload["callback_at"]) == asked


def test_call_then_sms_falls_back_to_sms_with_a_fresh_cap(db_url: str) -> None:
    policy = PolicySettings.model_validate({"retry": {"max_attempts": 2, "max_sms_attempts": 1}})
    s = Store(db_url, policy=policy)
    s.upgrade()
    try:
        s.ingest([item("a", channel=ChannelKind.CALL_THEN_SMS)], NOW)
        at = NOW
        for expected in (ChannelKind.CALL, ChannelKind.CALL):
            [n] = s.claim_due("w", at, 1, 60)
            assert n.channel == expected
            s.finish_attempt(n, "w", result(Outcome.NO_ANSWER, at=at), at)
            row = s.get("erp", "a")
            assert row is not None and row.next_attempt_at is not None
            at = row.next_attempt_at
        row = s.get("erp", "a")
        assert row is not None
        assert (row.current_channel, row.channel_attempts, row.attempts) == ("sms", 0, 2)
        [n] = s.claim_due("w", at, 1, 60)
        assert n.channel == ChannelKind.SMS and n.attempt_no == 3
        assert s.finish_attempt(n, "w", result(Outcome.SENT, at=at), at) == Status.DELIVERED
    finally:
        s.close()


def test_a_result_after_the_lease_was_lost_is_kept_but_not_applied(store: Store) -> None:
    # A busy line, late: the reaper's retry stands (cuckoo.policy.late; the customer was
    # not reached). A reached customer's late result: tests/integration/test_store_late.py.
    n = claim_one(store)
    assert store.reap_expired_leases(NOW + timedelta(seconds=61)) == 1
    status = store.finish_attempt(n, "w", result(Outcome.BUSY), NOW + timedelta(seconds=70))
    assert status is None
    row = store.get("erp", "a")
    assert row is not None and row.status == "pending"
    [att] = store.attempts_of(n.id)
    assert att.outcome == "busy" and "lease was lost" in att.detail


# ---- leases ----------------------------------------------------------------------------------


def test_reaper_records_interrupted_and_the_retry_is_a_new_attempt(store: Store) -> None:
    n = claim_one(store)
    assert store.reap_expired_leases(NOW + timedelta(seconds=59)) == 0  # not expired yet
    assert store.reap_expired_leases(NOW + timedelta(seconds=61)) == 1
    assert store.reap_expired_leases(NOW + timedelta(seconds=62)) == 0  # never twice
    [att] = store.attempts_of(n.id)
    assert att.outcome == "interrupted" and "expired" in att.detail
    row = store.get("erp", "a")
    assert row is not None and row.status == "pending" and row.lease_owner is None
    assert row.next_attempt_at == NOW + timedelta(seconds=61, minutes=2)
    [again] = store.claim_due("w2", row.next_attempt_at, 5, 60)
    assert again.id == n.id and again.attempt_no == 2
    assert store.finish_attempt(again, "w2", result(Outcome.CONFIRMED), row.next_attempt_at)
    assert [a.outcome for a in store.attempts_of(n.id)] == ["interrupted", "confirmed"]


def test_renewed_leases_are_not_reaped(store: Store) -> None:
    n = claim_one(store)
    assert store.renew_leases("w", [n.id], NOW + timedelta(seconds=50), 60) == 1
    assert store.renew_leases("someone-else", [n.id], NOW, 60) == 0
    assert store.reap_expired_leases(NOW + timedelta(seconds=100)) == 0
    assert store.reap_expired_leases(NOW + timedelta(seconds=111)) == 1


def test_interrupt_on_shutdown(store: Store) -> None:
    n = claim_one(store)
    assert store.interrupt(n, "w", NOW + timedelta(seconds=5), "shutdown")
    assert not store.interrupt(n, "w", NOW + timedelta(seconds=6), "again")
    [att] = store.attempts_of(n.id)
    assert (att.outcome, att.detail) == ("interrupted", "shutdown")


# ---- outbox, receipts, reports ---------------------------------------------------------------


def test_outbox_claim_ack_and_retry(store: Store) -> None:
    ps = phones(3)
    store.ingest([item("bad1", "1"), item("bad2", "2", source="crm"), item("ok", ps[0])], NOW)
    items = store.claim_outbox(NOW, 10, 30, sources=["erp"])
    assert [i.report.external_id for i in items] == ["bad1"]
    assert store.claim_outbox(NOW, 10, 30, sources=["erp"]) == []  # hidden while being sent
    store.outbox_failed(items[0].id, "ErpUnavailable: down", NOW + timedelta(seconds=90))
    assert store.claim_outbox(NOW + timedelta(seconds=60), 10, 30, ["erp"]) == []
    [retry] = store.claim_outbox(NOW + timedelta(seconds=90), 10, 30, ["erp"])
    assert retry.tries == 1 and retry.report.status == Status.INVALID
    store.outbox_ack(retry.id, NOW + timedelta(seconds=91))
    assert store.claim_outbox(NOW + timedelta(days=1), 10, 30, ["erp"]) == []
    assert store.outbox_pending() == 1  # crm's report is still waiting


def test_sms_receipt_is_stored_on_its_attempt(store: Store) -> None:
    n = claim_one(store, channel=ChannelKind.SMS)
    store.finish_attempt(n, "w", result(Outcome.SENT, gateway_message_id="gw-42"), NOW)
    assert store.update_receipt("gw-42", "DELIVRD")
    assert not store.update_receipt("gw-missing", "DELIVRD")
    [att] = store.attempts_of(n.id)
    assert (att.gateway_message_id, att.receipt_status) == ("gw-42", "DELIVRD")


def test_attempts_report_since(store: Store) -> None:
    ps = phones(2)
    store.ingest([item("a", ps[0]), item("b", ps[1])], NOW)
    n1, n2 = store.claim_due("w", NOW, 2, 60)
    store.finish_attempt(n1, "w", result(Outcome.BUSY), NOW)
    store.finish_attempt(n2, "w", result(Outcome.CONFIRMED, at=NOW + timedelta(hours=1)), NOW)
    lines = store.attempts_report()
    assert [(x.external_id, x.outcome) for x in lines] == [("a", "busy"), ("b", "confirmed")]
    recent = store.attempts_report(since=NOW + timedelta(minutes=30))
    assert [x.external_id for x in recent] == ["b"]
    assert lines[1].status == "confirmed" and lines[1].duration_s == 40.0


# ---- every outcome through finish_attempt ------------------------------------------------------

FINAL_BY_OUTCOME = {
    Outcome.CONFIRMED: Status.CONFIRMED,
    Outcome.DECLINED: Status.DECLINED,
    Outcome.OPTED_OUT: Status.OPTED_OUT,
    Outcome.OPERATOR_REQUESTED: Status.OPERATOR_REQUESTED,
    Outcome.INVALID_NUMBER: Status.INVALID,
    Outcome.WRONG_NUMBER: Status.WRONG_NUMBER,
    Outcome.SENT: Status.DELIVERED,
    Outcome.FAILED: Status.FAILED,
}
CONTACTS = {
    Outcome.CONFIRMED,
    Outcome.DECLINED,
    Outcome.OPTED_OUT,
    Outcome.OPERATOR_REQUESTED,
    Outcome.CALLBACK_REQUESTED,
    Outcome.DELIVERED,
    Outcome.SENT,
}


@pytest.mark.parametrize("outcome", list(Outcome), ids=[o.value for o in Outcome])
def test_every_outcome_updates_status_counters_outbox_and_block_list(
    store: Store, outcome: Outcome
) -> None:
    n = claim_one(store)
    status = store.finish_attempt(n, "w", result(outcome), NOW)
    row = store.get("erp", "a")
    assert row is not None
    expected = FINAL_BY_OUTCOME.get(outcome, Status.PENDING)
    assert status == expected and row.status == expected.value
    assert row.last_outcome == outcome.value and row.lease_owner is None
    assert row.contacts == (1 if outcome in CONTACTS else 0)
    assert row.attempts == (0 if outcome == Outcome.NETWORK else 1)
    assert row.network_failures == (1 if outcome == Outcome.NETWORK else 0)
    assert row.rejections == (1 if outcome == Outcome.REJECTED else 0)
    assert (row.next_attempt_at is None) == expected.is_final
    if not expected.is_final:
        assert row.next_attempt_at is not None and row.next_attempt_at > NOW
    reports = store.outbox_of(n.id)
    reported = expected.is_final or outcome == Outcome.CALLBACK_REQUESTED
    assert len(reports) == (1 if reported else 0)
    if reports:
        assert reports[0].payload["status"] == expected.value
        assert reports[0].payload["outcome"] == outcome.value
    assert store.is_blocked(PHONE) == (outcome == Outcome.OPTED_OUT)


def test_migrations_downgrade_and_upgrade_again(store: Store) -> None:
    from alembic import command

    from cuckoo.store.migrate import alembic_config

    with store.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    assert "notifications" not in inspect(store.engine).get_table_names()
    assert store.upgrade() == head_revision()
    assert {"notifications", "attempts", "outbox", "blocked_numbers", "wrong_numbers"} <= set(
        inspect(store.engine).get_table_names()
    )

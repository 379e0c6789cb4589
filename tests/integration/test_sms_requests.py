"""SMS asked for during a call (a scenario's `sms:` step), sent after it by the scheduler's
flush_sms_requests job: a real store (SQLite and PostgreSQL), the real SMS channel as
`cuckoo run` builds it, and a real SMPP server on loopback (tests/sms_smsc)."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cuckoo.config import Config, parse
from cuckoo.config.scheduler import SchedulerSettings
from cuckoo.domain import AttemptResult, ChannelKind, IncomingNotification, Notification, Outcome
from cuckoo.sms import SmsChannel
from cuckoo.store import Store
from cuckoo.store.models import SmsRequestRow
from cuckoo.worker.scheduler import Scheduler

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sms_smsc"))
from smsc import Smsc, SmscUnavailable

pytestmark = pytest.mark.timeout(90)

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 14:00 in Yekaterinburg: SMS window open
PHONE = "+79123456700"
TEXT = "Заказ 1024: улица Ленина, дом 5, с 09:00 до 21:00."


class ManualClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def smsc() -> Iterator[Smsc]:
    try:
        server = Smsc.start()
    except SmscUnavailable as e:
        pytest.skip(str(e))
    with server:
        yield server


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    s.upgrade()
    yield s
    s.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


def config(smsc: Smsc) -> Config:
    return parse(
        f"""
scenarios_dir = "{REPO / "scenarios"}"
[sms]
sender = "Shop"
[sms.gateways.main]
type = "smpp"
port = {smsc.port}
system_id = "cuckoo"
response_timeout_s = 2.0
reconnect_min_s = 0.1
reconnect_max_s = 0.5
submit_timeout_s = 1.0
"""
    )


@pytest.fixture
def channel(smsc: Smsc, store: Store, clock: ManualClock) -> Iterator[SmsChannel]:
    from cuckoo.worker.channels import sms_channel

    ch = sms_channel(config(smsc), store, clock)
    assert isinstance(ch, SmsChannel)
    assert ch.gateways["main"].wait_bound(10)  # type: ignore[attr-defined]
    yield ch
    ch.close()


def scheduler(
    store: Store, channels: dict[ChannelKind, Any], clock: ManualClock, **settings: Any
) -> Scheduler:
    s = SchedulerSettings.model_validate({"sms_request_retry_s": 60, **settings})
    return Scheduler(store, channels, settings=s, clock=clock, owner="w")


def call_asked_for_sms(store: Store, ext: str = "a", phone: str = PHONE) -> Notification:
    """A call attempt whose dialog reached an `sms:` step, stored as the worker stores it."""
    store.ingest([IncomingNotification("erp", ext, phone, "order_ready")], NOW)
    [n] = store.claim_due("w", NOW, 1, 60)
    r = AttemptResult(Outcome.CONFIRMED, NOW, NOW + timedelta(seconds=30), dtmf="1", sms_text=TEXT)
    store.finish_attempt(n, "w", r, NOW)
    return n


def the_request(store: Store, n: Notification) -> SmsRequestRow:
    [req] = store.sms_requests_of(n.id)
    return req


def test_requested_sms_goes_out_and_its_receipt_lands(
    smsc: Smsc, store: Store, channel: SmsChannel, clock: ManualClock
) -> None:
    n = call_asked_for_sms(store)
    sched = scheduler(store, {ChannelKind.SMS: channel}, clock)
    assert sched.flush_sms_requests() == 1
    message = smsc.wait_for("message")
    assert (message["dest"], message["text"]) == ("79123456700", TEXT)
    req = the_request(store, n)
    assert (req.state, req.tries, req.sent_at) == ("sent", 1, NOW)
    assert req.gateway_message_id == smsc.wait_for("submit")["message_id"]
    assert sched.flush_sms_requests() == 0  # sent once, never again
    deadline = time.monotonic() + 15
    while the_request(store, n).receipt_status is None:
        assert time.monotonic() < deadline, "no delivery receipt stored on the request"
        time.sleep(0.1)
    assert the_request(store, n).receipt_status == "delivered"
    assert len(smsc.of("message")) == 1


def test_a_receipt_that_overtakes_its_row_is_not_lost(
    smsc: Smsc, store: Store, channel: SmsChannel
) -> None:
    """The SMSC's receipt can arrive before the sender has stored the message id."""
    n = call_asked_for_sms(store)
    [item] = store.claim_sms_requests(NOW, 1, 120)
    r = channel.send_text(item.notification, item.text)
    assert r.outcome is Outcome.SENT, r.detail
    smsc.wait_for("receipt_ack")  # received and answered while no row had the id
    assert the_request(store, n).receipt_status is None
    store.sms_request_sent(item.id, r.gateway_message_id, r.detail, NOW)
    channel.row_stored(r.gateway_message_id)
    assert the_request(store, n).receipt_status == "delivered"


def test_gateway_down_is_retried_then_sent_when_back(
    smsc: Smsc, store: Store, channel: SmsChannel, clock: ManualClock
) -> None:
    n = call_asked_for_sms(store)
    sched = scheduler(store, {ChannelKind.SMS: channel}, clock)
    smsc.down()
    assert sched.flush_sms_requests() == 0
    req = the_request(store, n)
    assert (req.state, req.tries) == ("pending", 1)
    assert "unreachable" in req.last_error
    assert req.next_try_at == NOW + timedelta(seconds=60)  # backoff: sms_request_retry_s
    clock.advance(30)
    assert sched.flush_sms_requests() == 0  # not due yet: nothing tried
    assert the_request(store, n).tries == 1
    smsc.up()
    assert channel.gateways["main"].wait_bound(10)  # type: ignore[attr-defined]
    clock.advance(30)
    assert sched.flush_sms_requests() == 1
    assert smsc.wait_for("message")["text"] == TEXT
    req = the_request(store, n)
    assert (req.state, req.tries, req.last_error) == ("sent", 2, "")


def test_gateway_down_past_the_cap_fails_for_good(
    smsc: Smsc,
    store: Store,
    channel: SmsChannel,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    n = call_asked_for_sms(store)
    sched = scheduler(store, {ChannelKind.SMS: channel}, clock, sms_request_max_tries=2)
    smsc.down()
    assert sched.flush_sms_requests() == 0
    clock.advance(60)
    with caplog.at_level(logging.WARNING, logger="cuckoo"):
        assert sched.flush_sms_requests() == 0
    req = the_request(store, n)
    assert (req.state, req.tries, req.done_at) == ("failed", 2, clock.now)
    assert req.detail.startswith("gave up after 2 tries: main:")
    assert "requested SMS to +79123456700 failed: gave up after 2 tries" in caplog.text
    smsc.up()
    clock.advance(3600)
    assert sched.flush_sms_requests() == 0


def test_a_blocked_number_is_not_texted_and_the_reason_is_kept(
    smsc: Smsc,
    store: Store,
    channel: SmsChannel,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    n = call_asked_for_sms(store)
    store.block(PHONE, "asked in another call", NOW)
    sched = scheduler(store, {ChannelKind.SMS: channel}, clock)
    with caplog.at_level(logging.INFO, logger="cuckoo"):
        assert sched.flush_sms_requests() == 0
    req = the_request(store, n)
    assert req.state == "failed" and req.detail.startswith("blocked: +79123456700")
    (line,) = [r for r in caplog.records if "do-not-contact" in r.getMessage()]
    assert line.levelno == logging.INFO  # the customer's choice, not our trouble
    assert smsc.of("submit") == []


def test_without_an_sms_channel_requests_wait_and_the_log_says_why(
    store: Store, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    n = call_asked_for_sms(store)
    sched = scheduler(store, {}, clock)
    assert sched.flush_sms_requests() == 0
    with caplog.at_level(logging.WARNING, logger="cuckoo"):
        assert sched.warn_missing_channels() == 1
    assert "1 SMS requested during calls wait for the SMS channel" in caplog.text
    assert "[sms.gateways]" in caplog.text
    assert the_request(store, n).state == "pending"  # kept for a worker that has one


class AsksForSms:
    """A call channel whose every call reaches the scenario's `sms:` step (the real call is
    tests/integration/test_e2e_sms_request.py); here the point is the scheduler's cycle."""

    kind = ChannelKind.CALL

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock

    def deliver(self, notification: Notification) -> AttemptResult:
        now = self.clock()
        return AttemptResult(Outcome.CONFIRMED, now, now, dtmf="1", sms_text=TEXT)


def test_run_once_sends_what_the_calls_asked_for(
    smsc: Smsc, store: Store, channel: SmsChannel, clock: ManualClock
) -> None:
    store.ingest([IncomingNotification("erp", "a", PHONE, "order_ready")], NOW)
    channels = {ChannelKind.CALL: AsksForSms(clock), ChannelKind.SMS: channel}
    report = scheduler(store, channels, clock).run_once(timeout=30)
    assert (report.dispatched, report.sms_sent) == (1, 1)
    assert smsc.wait_for("message")["text"] == TEXT


def test_stop_sends_what_the_last_calls_asked_for(
    smsc: Smsc, store: Store, channel: SmsChannel, clock: ManualClock
) -> None:
    """A worker shut down right after a call: the customer was told an SMS is coming."""
    n = call_asked_for_sms(store)
    scheduler(store, {ChannelKind.SMS: channel}, clock).stop(grace_s=0)
    assert smsc.wait_for("message")["text"] == TEXT
    assert the_request(store, n).state == "sent"

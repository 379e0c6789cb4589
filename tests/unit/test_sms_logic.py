"""Pure parts of the SMS channel: receipt parsing, id matching, token bucket, HTTP answer
judging, settings, and SmsChannel's mapping of gateway answers to attempt outcomes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from cuckoo.config import parse
from cuckoo.config.sms import HttpGatewaySettings, SmsSettings
from cuckoo.domain import Channel, ChannelKind, Notification, Outcome
from cuckoo.policy.ratelimit import Throttle
from cuckoo.sms import SmsChannel
from cuckoo.sms.gateway import (
    ReceiptHandler,
    ReceiptStatus,
    SubmitResult,
    SubmitState,
    id_key,
    parse_receipt,
)
from cuckoo.sms.http import HttpGateway, json_path

D, U, E = ReceiptStatus.DELIVERED, ReceiptStatus.UNDELIVERABLE, ReceiptStatus.EXPIRED

RECEIPT_TEXT = (
    "id:{id} sub:001 dlvrd:001 submit date:2611220930 done date:2611220931 stat:{stat} err:000 "
    "text:Привет"
)


@pytest.mark.parametrize(
    ("stat", "status"),
    [
        ("DELIVRD", D),
        ("delivrd", D),
        ("EXPIRED", E),
        ("UNDELIV", U),
        ("REJECTD", U),
        ("DELETED", U),
        ("ENROUTE", None),
        ("ACCEPTD", None),
        ("UNKNOWN", None),
    ],
)
def test_receipt_text_stat(stat: str, status: ReceiptStatus | None) -> None:
    r = parse_receipt(RECEIPT_TEXT.format(id="3e8", stat=stat).encode())
    assert r is not None
    assert r.message_id == "3e8"
    assert r.status is status
    assert r.err == "000"


@pytest.mark.parametrize(
    ("state", "status"), [(2, D), (3, E), (4, U), (5, U), (8, U), (1, None), (6, None), (7, None)]
)
def test_receipt_message_state_tlv_wins(state: int, status: ReceiptStatus | None) -> None:
    # text says delivered; the TLV is authoritative when it names a final state
    r = parse_receipt(b"id:1 stat:DELIVRD", b"abc\x00", state)
    assert r is not None
    assert r.message_id == "abc"
    assert r.status is (status if status is not None else D)


def test_receipt_tlv_only_and_no_id() -> None:
    r = parse_receipt(b"", b"77", 2)
    assert r is not None and (r.message_id, r.status) == ("77", D)
    assert parse_receipt(b"hello, no receipt here") is None
    assert parse_receipt(None) is None


@pytest.mark.parametrize(
    ("a", "b"), [("3E8", "3e8"), ("0003e8", "3e8"), (" 42 ", "42"), ("000", "0")]
)
def test_id_key(a: str, b: str) -> None:
    assert id_key(a) == id_key(b)


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.t += s


def test_token_bucket_holds_the_rate() -> None:
    clock = FakeClock()
    bucket = Throttle(10, clock=clock, sleep=clock.sleep)
    start = clock.t
    for _ in range(110):
        bucket.acquire()
    # a burst of 10, then 100 more at 10/s
    assert clock.t - start == pytest.approx(10.0)


def test_token_bucket_unlimited_and_pause() -> None:
    clock = FakeClock()
    bucket = Throttle(0, clock=clock, sleep=clock.sleep)
    for _ in range(1000):
        bucket.acquire()
    assert clock.t == 100.0
    bucket.pause(2.5)
    assert bucket.reserve() == pytest.approx(2.5)
    limited = Throttle(5, clock=clock, sleep=clock.sleep)
    limited.pause(3)
    assert limited.reserve() == pytest.approx(3)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("status", "OK"),
        ("sms.79123456789.sms_id", "000000-1"),
        ("items.0.id", 5),
        ("items.-1.id", 6),
        ("items.2.id", None),
        ("missing.x", None),
        ("status.x", None),
    ],
)
def test_json_path(path: str, value: Any) -> None:
    data = {
        "status": "OK",
        "sms": {"79123456789": {"sms_id": "000000-1"}},
        "items": [{"id": 5}, {"id": 6}],
    }
    assert json_path(data, path) == value


SMSRU_LIKE = HttpGatewaySettings(
    url="http://127.0.0.1:1/send",
    ok_json_path="sms.{{ to_digits }}.status",
    ok_json_value="OK",
    id_json_path="sms.{{ to_digits }}.sms_id",
    error_json_path="sms.{{ to_digits }}.status_text",
)
CTX = {"to": "+79123456789", "to_digits": "79123456789", "text": "t", "sender": "s"}


@pytest.mark.parametrize(
    ("code", "body", "state", "mid", "error"),
    [
        (
            200,
            '{"status":"OK","sms":{"79123456789":{"status":"OK","sms_id":"000-1"}}}',
            SubmitState.ACCEPTED,
            "000-1",
            "",
        ),
        (
            200,
            '{"status":"OK","sms":{"79123456789":{"status":"ERROR","status_code":207,'
            '"status_text":"нельзя отправлять"}}}',
            SubmitState.REFUSED,
            None,
            "нельзя отправлять",
        ),
        (401, "denied", SubmitState.REFUSED, None, "HTTP 401: denied"),
        (200, "not json", SubmitState.REFUSED, None, "HTTP 200: not json"),
    ],
)
def test_http_judge(code: int, body: str, state: SubmitState, mid: str | None, error: str) -> None:
    gw = HttpGateway("smsru", SMSRU_LIKE)
    try:
        r = gw.judge(code, body, CTX)
    finally:
        gw.close()
    assert r.state is state
    assert r.message_id == mid
    assert error in r.error


def test_http_judge_regex() -> None:
    s = HttpGatewaySettings(
        url="http://x/", ok_regex=r"^OK", id_regex=r"id=(\w+)", error_regex=r"ERR (.*)"
    )
    gw = HttpGateway("re", s)
    try:
        assert gw.judge(200, "OK id=ab12", CTX) == SubmitResult(SubmitState.ACCEPTED, "ab12")
        r = gw.judge(200, "ERR no money", CTX)
        assert r.state is SubmitState.REFUSED and r.error == "re refused: no money"
    finally:
        gw.close()


def test_settings_from_toml_and_errors() -> None:
    cfg = parse(
        """
[sms]
sender = "Shop"
[sms.senders]
acme = "ACME"
[sms.gateways.main]
type = "smpp"
host = "10.0.0.1"
max_per_second = 50
[sms.gateways.api]
type = "http"
url = "https://example.invalid/send"
"""
    )
    sms = cfg.sms
    assert sms.gateways["main"].type == "smpp"
    assert sms.gateways["api"].type == "http"
    assert sms.sender_for("acme") == "ACME"
    assert sms.sender_for("other") == "Shop"
    with pytest.raises(KeyError, match="exactly one"):
        sms.gateway_name_for("x")
    with pytest.raises(Exception, match=r"cuckoo.toml:\d+: \[sms.gateways.main.smpp.port\]"):
        parse('[sms.gateways.main]\ntype = "smpp"\nport = 0\n')
    with pytest.raises(ValidationError):
        SmsSettings(gateways={"x": {"type": "carrier-pigeon"}})  # type: ignore[dict-item]
    one = SmsSettings(gateways={"only": {"type": "smpp"}})  # type: ignore[dict-item]
    assert one.gateway_name_for("t") == "only"
    missing = SmsSettings(gateway="nope")
    with pytest.raises(KeyError, match=r"\[sms.gateways.nope\]"):
        missing.gateway_name_for("t")


# --- SmsChannel: outcome mapping (the gateways themselves are tested against real servers)


class ScriptedGateway:
    """Stands in for a gateway to test the channel's own decisions only."""

    name = "scripted"

    def __init__(self, result: SubmitResult) -> None:
        self.result = result
        self.sent: list[tuple[str, str, str]] = []
        self.handler: ReceiptHandler | None = None

    def send(self, to: str, text: str, sender: str) -> SubmitResult:
        self.sent.append((to, text, sender))
        return self.result

    def set_receipt_handler(self, handler: ReceiptHandler) -> None:
        self.handler = handler

    def close(self) -> None:
        pass


def _notification(**kw: Any) -> Notification:
    base: dict[str, Any] = dict(
        id=1,
        source="erp",
        external_id="A-1",
        tenant="acme",
        phone="+79123456789",
        phone_raw="8 912 345-67-89",
        channel=ChannelKind.SMS,
        scenario="order_ready",
        variables={"order": "123"},
        timezone="Europe/Moscow",
        attempt_no=1,
        contacts=0,
    )
    base.update(kw)
    return Notification(**base)


T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def _channel(
    gw: ScriptedGateway,
    *,
    blocked: bool = False,
    text: str = "Заказ {order} готов",
    receipts: list[tuple[str, str]] | None = None,
    **settings: Any,
) -> SmsChannel:
    s = SmsSettings(sender="Shop", senders={"acme": "ACME"}, gateway="g", **settings)
    sink = receipts if receipts is not None else []
    return SmsChannel(
        s,
        {"g": gw},
        text_for=lambda n: text.format(**n.variables),
        is_blocked=lambda phone: blocked,
        on_receipt=lambda mid, st: sink.append((mid, st)),
        clock=lambda: T0,
    )


def test_channel_sent() -> None:
    gw = ScriptedGateway(SubmitResult(SubmitState.ACCEPTED, "m-1"))
    channel = _channel(gw)
    assert isinstance(channel, Channel) and channel.kind is ChannelKind.SMS
    r = channel.deliver(_notification())
    assert r.outcome is Outcome.SENT
    assert r.gateway_message_id == "m-1"
    assert r.said == ["Заказ 123 готов"]
    assert gw.sent == [("+79123456789", "Заказ 123 готов", "ACME")]  # tenant's sender
    assert "1 ucs2 part" in r.detail
    assert r.started_at == T0 and r.ended_at == T0


@pytest.mark.parametrize(
    ("state", "outcome"),
    [(SubmitState.REFUSED, Outcome.UNDELIVERABLE), (SubmitState.UNREACHABLE, Outcome.NETWORK)],
)
def test_channel_refused_and_unreachable(state: SubmitState, outcome: Outcome) -> None:
    gw = ScriptedGateway(SubmitResult(state, error="SMSC refused: 0x0000000b bad address"))
    r = _channel(gw).deliver(_notification())
    assert r.outcome is outcome
    assert "0x0000000b" in r.detail
    assert r.gateway_message_id is None


def test_channel_never_sends_to_a_blocked_number() -> None:
    gw = ScriptedGateway(SubmitResult(SubmitState.ACCEPTED, "m-1"))
    r = _channel(gw, blocked=True).deliver(_notification())
    assert r.outcome is Outcome.UNDELIVERABLE
    assert r.detail.startswith("blocked:")
    assert gw.sent == []


@pytest.mark.parametrize(
    ("text", "needle"),
    [("   ", "is empty"), ("{missing}", "failed"), ("Я" * 67 * 3, "needs 3 ucs2 parts")],
)
def test_channel_bad_text_is_not_sent(text: str, needle: str) -> None:
    gw = ScriptedGateway(SubmitResult(SubmitState.ACCEPTED, "m-1"))
    r = _channel(gw, text=text, max_segments=2).deliver(_notification())
    assert r.outcome is Outcome.UNDELIVERABLE
    assert needle in r.detail
    assert gw.sent == []


def test_channel_passes_receipts_on() -> None:
    gw = ScriptedGateway(SubmitResult(SubmitState.ACCEPTED, "m-1"))
    got: list[tuple[str, str]] = []
    _channel(gw, receipts=got)
    assert gw.handler is not None
    gw.handler("m-1", "delivered")
    assert got == [("m-1", "delivered")]


# ---- send_text: a text rendered elsewhere (a call's `sms:` step) ---------------------------


def test_send_text_sends_the_given_text_not_the_scenarios() -> None:
    gw = ScriptedGateway(SubmitResult(SubmitState.ACCEPTED, "m-2"))
    channel = _channel(gw, text="{missing}")  # the scenario's template is not consulted
    r = channel.send_text(_notification(attempt_no=2), "  Заказ 123: улица Ленина, 5.  ")
    assert r.outcome is Outcome.SENT and r.gateway_message_id == "m-2"
    assert gw.sent == [("+79123456789", "Заказ 123: улица Ленина, 5.", "ACME")]
    assert r.said == ["Заказ 123: улица Ленина, 5."]


@pytest.mark.parametrize(
    ("kw", "text", "outcome", "needle"),
    [
        ({"blocked": True}, "Заказ готов", Outcome.UNDELIVERABLE, "blocked:"),
        ({}, "  ", Outcome.UNDELIVERABLE, "is empty"),
        ({"max_segments": 1}, "Я" * 71, Outcome.UNDELIVERABLE, "needs 2 ucs2 parts"),
        ({"gateway": "nope"}, "Заказ готов", Outcome.NETWORK, "no SMS gateway 'nope'"),
    ],
)
def test_send_text_checks_like_deliver(
    kw: dict[str, Any], text: str, outcome: Outcome, needle: str
) -> None:
    gw = ScriptedGateway(SubmitResult(SubmitState.ACCEPTED, "m-1"))
    blocked = bool(kw.pop("blocked", False))
    s = SmsSettings(sender="Shop", **{"gateway": "g", **kw})
    channel = SmsChannel(
        s,
        {"g": gw},
        text_for=lambda n: "unused",
        is_blocked=lambda phone: blocked,
        on_receipt=lambda mid, st: None,
        clock=lambda: T0,
    )
    r = channel.send_text(_notification(), text)
    assert r.outcome is outcome
    assert needle in r.detail
    assert gw.sent == []


def test_a_receipt_before_its_row_is_held_until_the_row_is_stored(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gw = ScriptedGateway(SubmitResult(SubmitState.ACCEPTED, "m-1"))
    rows: dict[str, str | None] = {}

    def on_receipt(mid: str, status: str) -> bool:
        if mid not in rows:
            return False  # the sender has not committed this id yet
        rows[mid] = status
        return True

    channel = SmsChannel(
        SmsSettings(gateway="g"),
        {"g": gw},
        text_for=lambda n: "x",
        is_blocked=lambda phone: False,
        on_receipt=on_receipt,
    )
    assert gw.handler is not None
    gw.handler("m-1", "delivered")  # the SMSC was quicker than the store
    assert rows == {}
    rows["m-1"] = None  # the sender commits the row with the id ...
    channel.row_stored("m-1")  # ... and says so
    assert rows == {"m-1": "delivered"}
    channel.row_stored("m-1")  # nothing held any more
    channel.row_stored(None)
    gw.handler("m-1", "undeliverable")  # later receipts go straight to the row
    assert rows == {"m-1": "undeliverable"}
    assert "unknown message" not in caplog.text

"""The SMPP gateway and SmsChannel against a real SMPP server process on loopback
(tests/sms_smsc/smsc.js, the npm `smpp` package's server), not a mock of the client.

First run installs the server's npm package if missing:
    npm ci --prefix tests/sms_smsc --no-audit --no-fund
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cuckoo.config.sms import SmppGatewaySettings, SmsSettings
from cuckoo.domain import ChannelKind, Notification, Outcome
from cuckoo.sms import SmsChannel
from cuckoo.sms.gateway import SubmitState
from cuckoo.sms.smpp import SmppGateway

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sms_smsc"))
from smsc import Smsc, SmscUnavailable

pytestmark = pytest.mark.timeout(60)

FAST = dict(
    response_timeout_s=2.0,
    reconnect_min_s=0.1,
    reconnect_max_s=0.5,
    submit_timeout_s=10.0,
    throttle_backoff_s=0.1,
)


class Receipts:
    def __init__(self) -> None:
        self.got: list[tuple[str, str]] = []
        self._cond = threading.Condition()

    def __call__(self, message_id: str, status: str) -> None:
        with self._cond:
            self.got.append((message_id, status))
            self._cond.notify_all()

    def wait(self, count: int, timeout: float = 15) -> list[tuple[str, str]]:
        with self._cond:
            ok = self._cond.wait_for(lambda: len(self.got) >= count, timeout)
            assert ok, f"waited {timeout} s for {count} receipts, got {self.got}"
            return list(self.got)


@pytest.fixture
def smsc() -> Iterator[Smsc]:
    try:
        server = Smsc.start()
    except SmscUnavailable as e:
        pytest.skip(str(e))
    with server:
        yield server


def make_gateway(smsc: Smsc, **kw: Any) -> SmppGateway:
    settings = SmppGatewaySettings(
        port=smsc.port, system_id="cuckoo", password="secret", **{**FAST, **kw}
    )
    gw = SmppGateway("test", settings)
    assert gw.wait_bound(10), gw.last_error
    return gw


@pytest.fixture
def gateway(smsc: Smsc) -> Iterator[SmppGateway]:
    gw = make_gateway(smsc)
    yield gw
    gw.close()


def notification(phone: str = "+79123456789", **variables: Any) -> Notification:
    return Notification(
        id=1,
        source="erp",
        external_id="A-1",
        tenant="default",
        phone=phone,
        phone_raw=phone,
        channel=ChannelKind.SMS,
        scenario="order_ready",
        variables={"text": "Ваш заказ готов", **variables},
        timezone="Europe/Moscow",
        attempt_no=1,
        contacts=0,
    )


def make_channel(
    gw: SmppGateway, receipts: Receipts, blocked: set[str] | None = None
) -> SmsChannel:
    return SmsChannel(
        SmsSettings(sender="Shop", gateway="test", max_segments=10),
        {"test": gw},
        text_for=lambda n: str(n.variables["text"]),
        is_blocked=lambda phone: phone in (blocked or set()),
        on_receipt=receipts,
        clock=lambda: datetime.now(UTC),
    )


def test_cyrillic_goes_as_ucs2_and_its_receipt_is_matched(smsc: Smsc, gateway: SmppGateway) -> None:
    receipts = Receipts()
    channel = make_channel(gateway, receipts)
    text = "Здравствуйте! Ваш заказ №123 готов к выдаче."
    r = channel.deliver(notification(text=text))
    assert r.outcome is Outcome.SENT, r.detail
    assert r.said == [text]
    submit = smsc.wait_for("submit")
    assert submit["data_coding"] == 0x08
    assert submit["text"] == text
    assert submit["dest"] == "79123456789"
    assert (submit["src"], submit["src_ton"]) == ("Shop", 5)
    assert submit["registered_delivery"] == 1
    assert submit["message_id"] == r.gateway_message_id
    assert receipts.wait(1) == [(r.gateway_message_id, "delivered")]
    assert smsc.wait_for("receipt_ack")["status"] == 0  # we answered deliver_sm_resp


def test_latin_goes_as_gsm7_with_extension_chars(smsc: Smsc, gateway: SmppGateway) -> None:
    text = "Order {42} ready: 100€ [paid] ~ok|^"
    r = gateway.send("+79123456789", text, "79001112233")
    assert r.state is SubmitState.ACCEPTED
    submit = smsc.wait_for("submit")
    assert submit["data_coding"] == 0x00
    assert submit["text"] == text
    assert (submit["src"], submit["src_ton"]) == ("79001112233", 1)


def test_long_message_is_concatenated_and_reassembled(smsc: Smsc, gateway: SmppGateway) -> None:
    receipts = Receipts()
    channel = make_channel(gateway, receipts)
    text = "Уважаемый клиент! " * 9 + "Ждём вас с 9:00 до 21:00."  # 187 chars -> 3 parts
    r = channel.deliver(notification(text=text))
    assert r.outcome is Outcome.SENT, r.detail
    message = smsc.wait_for("message")
    assert message["parts"] == 3
    assert message["text"] == text  # the server reassembled the UDH parts
    submits = smsc.of("submit")
    assert [s["esm_class"] & 0x40 for s in submits] == [0x40] * 3
    # information element 00 (concatenation, 8-bit ref): 00 03 ref total seq
    udhs = [bytes.fromhex(s["udh"][0]) for s in submits]
    assert [u[:2] for u in udhs] == [b"\x00\x03"] * 3
    assert {u[2] for u in udhs} == {udhs[0][2]}  # one reference number
    assert [(u[3], u[4]) for u in udhs] == [(3, 1), (3, 2), (3, 3)]
    # three part receipts make one receipt, for the id the attempt recorded
    assert receipts.wait(1) == [(r.gateway_message_id, "delivered")]
    smsc.wait_count("receipt_sent", 3)
    assert receipts.got == [(r.gateway_message_id, "delivered")]


@pytest.mark.parametrize("mode", ["text", "tlv"])
@pytest.mark.parametrize(
    ("stat", "status"),
    [("UNDELIV", "undeliverable"), ("EXPIRED", "expired"), ("REJECTD", "undeliverable")],
)
def test_failed_receipts(
    smsc: Smsc, gateway: SmppGateway, mode: str, stat: str, status: str
) -> None:
    receipts = Receipts()
    gateway.set_receipt_handler(receipts)
    smsc.set(receipt_mode=mode, receipt_stat=stat)
    r = gateway.send("+79123456789", "Привет", "Shop")
    assert receipts.wait(1) == [(r.message_id, status)]


def test_late_receipts_are_matched_even_across_a_reconnect(
    smsc: Smsc, gateway: SmppGateway
) -> None:
    receipts = Receipts()
    gateway.set_receipt_handler(receipts)
    smsc.set(receipt_delay_ms=1500, receipt_stat_for={"79000000002": "UNDELIV"})
    ids = {}
    for i in range(1, 4):
        r = gateway.send(f"+7900000000{i}", f"Сообщение {i}", "Shop")
        assert r.state is SubmitState.ACCEPTED
        ids[r.message_id] = i
    assert receipts.got == []  # nothing yet: the SMSC holds them for 1.5 s
    smsc.command("drop")  # the link goes down before the receipts are sent
    got = dict(receipts.wait(3, timeout=20))
    assert got == {mid: ("undeliverable" if i == 2 else "delivered") for mid, i in ids.items()}
    assert gateway.connects >= 2


def test_refused_message_is_undeliverable_with_the_smsc_error(
    smsc: Smsc, gateway: SmppGateway
) -> None:
    smsc.set(refuse_count=1, refuse_status=0x0B)
    channel = make_channel(gateway, Receipts())
    r = channel.deliver(notification())
    assert r.outcome is Outcome.UNDELIVERABLE
    assert "0x0000000b" in r.detail and "Invalid Destination" in r.detail
    assert channel.deliver(notification()).outcome is Outcome.SENT  # the next one goes


def test_blocked_number_never_reaches_the_smsc(smsc: Smsc, gateway: SmppGateway) -> None:
    channel = make_channel(gateway, Receipts(), blocked={"+79123456789"})
    r = channel.deliver(notification())
    assert r.outcome is Outcome.UNDELIVERABLE and "blocked" in r.detail
    assert channel.deliver(notification(phone="+79120000000")).outcome is Outcome.SENT
    smsc.wait_for("message")
    assert [s["dest"] for s in smsc.of("submit")] == ["79120000000"]


def test_dropped_connection_loses_nothing(smsc: Smsc, gateway: SmppGateway) -> None:
    # The server takes 3 messages, then cuts the link on the 4th without answering it.
    smsc.set(drop_after=3)
    texts = [f"Заказ {i} готов" for i in range(8)]
    results = [gateway.send(f"+7912000000{i}", t, "Shop") for i, t in enumerate(texts)]
    assert all(r.state is SubmitState.ACCEPTED for r in results), results
    assert smsc.wait_for("dropping")
    for i, t in enumerate(texts):  # each one reached the SMSC (a resent one may come twice)
        smsc.wait_for(
            "message", lambda m, i=i, t=t: (m["dest"], m["text"]) == (f"7912000000{i}", t)
        )
    assert gateway.connects == 2


def test_concurrent_senders_share_one_link(smsc: Smsc, gateway: SmppGateway) -> None:
    smsc.set(drop_after=10)  # and the link drops in the middle of it
    results: list[Any] = []
    lock = threading.Lock()

    def worker(w: int) -> None:
        for i in range(6):
            r = gateway.send(f"+7913{w:03d}{i:04d}", f"Поток {w}, сообщение {i}", "Shop")
            with lock:
                results.append(r)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 24
    assert all(r.state is SubmitState.ACCEPTED for r in results), results
    for w in range(4):
        for i in range(6):
            text = f"Поток {w}, сообщение {i}"
            smsc.wait_for("message", lambda m, text=text: m["text"] == text)


def test_throttled_submits_are_retried(smsc: Smsc, gateway: SmppGateway) -> None:
    smsc.set(throttle_count=3)
    r = gateway.send("+79123456789", "Привет", "Shop")
    assert r.state is SubmitState.ACCEPTED
    stats = smsc.stats()
    assert (stats["throttled"], stats["accepted"]) == (3, 1)


def test_throttled_past_the_deadline_is_network(smsc: Smsc) -> None:
    gw = make_gateway(smsc, submit_timeout_s=1.0, throttle_backoff_s=0.4)
    try:
        smsc.set(throttle_count=1000)
        channel = make_channel(gw, Receipts())
        r = channel.deliver(notification())
        assert r.outcome is Outcome.NETWORK, r.detail
        # (on a loaded machine the last words may be a response timeout instead of 0x58)
        assert (
            "throttled" in r.detail or "0x00000058" in r.detail or "no submit_sm_resp" in r.detail
        )
        stats = smsc.stats()
        assert stats["accepted"] == 0 and stats["throttled"] >= 1
    finally:
        gw.close()


def test_gateway_rate_limit_with_a_strict_smsc(smsc: Smsc) -> None:
    # The SMSC throttles above 5/s; with max_per_second = 5 everything still gets through.
    smsc.set(max_tps=5)
    gw = make_gateway(smsc, max_per_second=5)
    try:
        results = [gw.send(f"+7914000000{i}", f"msg {i}", "Shop") for i in range(12)]
    finally:
        gw.close()
    assert all(r.state is SubmitState.ACCEPTED for r in results)
    assert smsc.stats()["accepted"] == 12


def test_outage_gives_network_then_success_when_back(smsc: Smsc) -> None:
    gw = make_gateway(smsc, submit_timeout_s=1.0)
    try:
        channel = make_channel(gw, Receipts())
        smsc.down()
        r = channel.deliver(notification())
        assert r.outcome is Outcome.NETWORK
        assert "unreachable" in r.detail
        smsc.up()
        assert gw.wait_bound(10)  # reconnected by itself (backoff)
        r = channel.deliver(notification(text="Снова на связи"))
        assert r.outcome is Outcome.SENT, r.detail
        assert smsc.wait_for("message")["text"] == "Снова на связи"
    finally:
        gw.close()


def test_send_waits_through_a_short_outage(smsc: Smsc, gateway: SmppGateway) -> None:
    smsc.down()
    result: list[Any] = []
    t = threading.Thread(target=lambda: result.append(gateway.send("+79123456789", "Жду", "Shop")))
    t.start()
    smsc.wait_for("down")
    smsc.up()
    t.join(15)
    assert result and result[0].state is SubmitState.ACCEPTED
    assert smsc.wait_for("message")["text"] == "Жду"


def test_enquire_link_keepalive(smsc: Smsc) -> None:
    gw = make_gateway(smsc, enquire_link_s=0.3)
    try:
        smsc.wait_count("enquire_link", 2, timeout=10)
    finally:
        gw.close()
    assert smsc.wait_for("unbind")  # close() unbinds politely


def test_smsc_unbind_makes_us_rebind(smsc: Smsc, gateway: SmppGateway) -> None:
    smsc.command("unbind")
    smsc.wait_count("bind", 2, timeout=10)
    assert gateway.send("+79123456789", "После перепривязки", "Shop").accepted


def test_receipt_handler_failure_makes_the_smsc_resend(smsc: Smsc, gateway: SmppGateway) -> None:
    calls: list[tuple[str, str]] = []

    def flaky(mid: str, status: str) -> None:
        calls.append((mid, status))
        if len(calls) == 1:
            raise RuntimeError("store is down")

    gateway.set_receipt_handler(flaky)
    r = gateway.send("+79123456789", "Привет", "Shop")
    acks = smsc.wait_count("receipt_ack", 2)
    assert [a["status"] for a in acks[:2]] == [0x64, 0]
    assert calls == [(r.message_id, "delivered")] * 2


def test_cli_sms_send_waits_for_the_receipt(smsc: Smsc, tmp_path: Path) -> None:
    config = tmp_path / "cuckoo.toml"
    config.write_text(
        f"""
[sms]
sender = "Cuckoo"
[sms.gateways.local]
type = "smpp"
port = {smsc.port}
system_id = "admin"
""",
        encoding="utf-8",
    )
    smsc.set(receipt_delay_ms=300)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "cuckoo.cli.main",
            "-c",
            str(config),
            "sms",
            "send",
            "8 (912) 345-67-89",
            "Проверка шлюза",
            "--wait-receipt",
            "20",
        ],
        capture_output=True,
        text=True,
        timeout=40,
    )
    assert proc.returncode == 0, proc.stderr
    assert "+79123456789: 1 ucs2 part(s) from 'Cuckoo' via local" in proc.stdout
    assert "receipt: delivered" in proc.stdout
    submit = smsc.wait_for("submit")
    assert (submit["dest"], submit["text"]) == ("79123456789", "Проверка шлюза")
    assert smsc.wait_for("bind")["system_id"] == "admin"


def test_cli_sms_send_reports_a_refusal(smsc: Smsc, tmp_path: Path) -> None:
    config = tmp_path / "cuckoo.toml"
    config.write_text(f'[sms.gateways.local]\ntype = "smpp"\nport = {smsc.port}\n')
    smsc.set(refuse_count=1, refuse_status=0x45)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "cuckoo.cli.main",
            "-c",
            str(config),
            "sms",
            "send",
            "+79123456789",
            "text",
        ],
        capture_output=True,
        text=True,
        timeout=40,
    )
    assert proc.returncode == 1
    assert "refused: SMSC refused: 0x00000045" in proc.stdout


def test_hung_smsc_link_is_reset_and_the_message_still_goes(smsc: Smsc) -> None:
    gw = make_gateway(smsc, response_timeout_s=0.5, submit_timeout_s=20)
    try:
        smsc.set(silent=True)  # takes submits and never answers them
        result: list[Any] = []
        t = threading.Thread(target=lambda: result.append(gw.send("+79123456789", "Эй", "Shop")))
        t.start()
        smsc.wait_count("submit_ignored", 2)  # sent, no answer, reconnected, sent again
        smsc.set(silent=False)
        t.join(20)
        assert result and result[0].state is SubmitState.ACCEPTED
        assert smsc.wait_for("message")["text"] == "Эй"
        assert gw.connects >= 2
    finally:
        gw.close()


def test_unanswered_enquire_link_resets_the_link(smsc: Smsc) -> None:
    gw = make_gateway(smsc, enquire_link_s=0.2, response_timeout_s=0.5)
    try:
        smsc.set(silent=True)
        smsc.wait_for("enquire_link_ignored")
        smsc.set(silent=False)
        smsc.wait_count("bind", 2)  # we gave up on the dead link and bound again
        assert gw.send("+79123456789", "ok", "Shop").accepted
    finally:
        gw.close()


def test_bind_refused_is_network_until_the_credentials_work(
    smsc: Smsc, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="cuckoo.sms.smpp")
    smsc.set(password="right")
    settings = SmppGatewaySettings(
        port=smsc.port, system_id="cuckoo", password="wrong", **{**FAST, "submit_timeout_s": 1.0}
    )
    gw = SmppGateway("test", settings)
    try:
        channel = make_channel(gw, Receipts())
        r = channel.deliver(notification())
        assert r.outcome is Outcome.NETWORK
        assert "bind failed" in r.detail and "Bind Failed (0x0000000d)" in r.detail
        assert smsc.of("bind_refused")
        # exponential reconnect backoff: 0.1, 0.2, 0.4, then capped at reconnect_max_s 0.5
        delays: list[float] = []
        deadline = time.monotonic() + 10
        while len(delays) < 4 and time.monotonic() < deadline:
            time.sleep(0.1)
            delays = [float(m) for m in re.findall(r"retrying in ([\d.]+) s", caplog.text)]
        assert delays[:4] == [0.1, 0.2, 0.4, 0.5]
        smsc.set(password=None)  # the admin fixes the account on the SMSC side
        assert gw.wait_bound(10)
        assert channel.deliver(notification()).outcome is Outcome.SENT
    finally:
        gw.close()


def test_receipt_after_a_restart_reaches_the_store(smsc: Smsc) -> None:
    """cuckoo stops after sending; the receipt comes to the next process, which hands it to
    the store by id (the store knows the attempt by gateway_message_id)."""
    smsc.set(receipt_delay_ms=800)
    first = make_gateway(smsc)
    r = first.send("+79123456789", "До перезапуска", "Shop")
    assert r.accepted
    first.close()
    receipts = Receipts()
    second = make_gateway(smsc)
    second.set_receipt_handler(receipts)
    try:
        assert receipts.wait(1) == [(r.message_id, "delivered")]
    finally:
        second.close()


LONG = "Уважаемый клиент! " * 9 + "Ждём вас."  # 3 UCS-2 parts


def test_long_message_with_a_failed_part_is_undeliverable(smsc: Smsc, gateway: SmppGateway) -> None:
    receipts = Receipts()
    gateway.set_receipt_handler(receipts)
    smsc.set(receipt_fail_part=2)
    r = gateway.send("+79123456789", LONG, "Shop")
    assert r.accepted and r.parts == 3
    assert receipts.wait(1) == [(r.message_id, "undeliverable")]
    smsc.wait_count("receipt_ack", 3)
    assert receipts.got == [(r.message_id, "undeliverable")]  # one outcome per message


def test_multipart_receipt_first_for_smscs_with_one_receipt_per_message(smsc: Smsc) -> None:
    smsc.set(receipt_first_part_only=True)
    gw = make_gateway(smsc, multipart_receipt="first")
    receipts = Receipts()
    gw.set_receipt_handler(receipts)
    try:
        r = gw.send("+79123456789", LONG, "Shop")
        assert receipts.wait(1) == [(r.message_id, "delivered")]
        assert len(smsc.of("receipt_sent")) == 1
    finally:
        gw.close()


def test_receipt_handler_failure_on_a_long_message(smsc: Smsc, gateway: SmppGateway) -> None:
    calls: list[tuple[str, str]] = []

    def flaky(mid: str, status: str) -> None:
        calls.append((mid, status))
        if len(calls) == 1:
            raise RuntimeError("store is down")

    gateway.set_receipt_handler(flaky)
    r = gateway.send("+79123456789", LONG, "Shop")
    acks = smsc.wait_count("receipt_ack", 4)  # 3 parts + the one resent after 0x64
    assert sorted(a["status"] for a in acks) == [0, 0, 0, 0x64]
    assert calls == [(r.message_id, "delivered")] * 2  # failed once, then stored once


def test_build_channel_from_config_routes_tenants(smsc: Smsc) -> None:
    from cuckoo.config import parse
    from cuckoo.sms import build_channel

    config = parse(
        f"""
[sms]
gateway = "main"
sender = "Cuckoo"
[sms.senders]
acme = "ACME"
[sms.tenant_gateways]
acme = "backup"
[sms.gateways.main]
type = "smpp"
port = {smsc.port}
system_id = "main"
[sms.gateways.backup]
type = "smpp"
port = {smsc.port}
system_id = "backup"
[sms.webhook]
port = 0
"""
    )
    receipts = Receipts()
    channel = build_channel(
        config.sms,
        text_for=lambda n: f"Для {n.tenant}",
        is_blocked=lambda phone: False,
        on_receipt=receipts,
    )
    try:
        assert channel.webhook is None  # no HTTP gateway wants one
        plain = channel.deliver(notification())
        acme = channel.deliver(
            Notification(**{**notification().__dict__, "tenant": "acme", "phone": "+79120000001"})
        )
        assert plain.outcome is Outcome.SENT and acme.outcome is Outcome.SENT
        got = dict(receipts.wait(2))
        assert got == {plain.gateway_message_id: "delivered", acme.gateway_message_id: "delivered"}
    finally:
        channel.close()
    submits = {s["text"]: (s["src"], s["system_id"]) for s in smsc.of("submit")}
    assert submits == {"Для default": ("Cuckoo", "main"), "Для acme": ("ACME", "backup")}
    assert len(smsc.wait_count("unbind", 2)) == 2  # close() unbound both


def test_password_and_text_never_logged(
    smsc: Smsc, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every logger at DEBUG (smpplib's wire dump included): a bind, a send, its receipt, and
    neither the password nor the text appears in any record, not even as hex."""
    password, text = "pw-6e1a", "Ваш заказ 4711 готов, Пётр"
    monkeypatch.setenv("CUCKOO_TEST_SMPP_PASSWORD", password)
    caplog.set_level(logging.DEBUG)
    for name in ("cuckoo", "smpp"):
        caplog.set_level(logging.DEBUG, logger=name)
    # (cuckoo.sms.smpp.wire, smpplib's PDU hex dumps, stays at INFO: the module holds it there)
    settings = SmppGatewaySettings(
        port=smsc.port, system_id="cuckoo", password_env="CUCKOO_TEST_SMPP_PASSWORD", **FAST
    )
    assert settings.password == password
    gw = SmppGateway("test", settings)
    try:
        assert gw.wait_bound(10), gw.last_error
        receipts = Receipts()
        r = make_channel(gw, receipts).deliver(notification(text=text))
        assert r.outcome is Outcome.SENT, r.detail
        assert smsc.wait_for("submit")["text"] == text
        receipts.wait(1)
    finally:
        gw.close()
    needles = [password, text, text.split(",")[0]]
    needles += [password.encode().hex(), text.encode("utf-16-be").hex()[:40]]
    lines = [f"{r.name}: {r.getMessage()} {r.exc_text or ''}" for r in caplog.records]
    assert any("bound" in line for line in lines)  # the gateway did log
    assert [line for line in lines if any(n in line for n in needles)] == []

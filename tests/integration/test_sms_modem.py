"""The GSM modem gateway against a modem emulator on a pseudo-terminal (tests/modem_emulator.py:
the gateway opens its path as it would /dev/ttyUSB0), through the SMS channel, the scheduler and
`cuckoo sms send` as a real process. The emulator decodes every PDU with its own decoder, so
Cyrillic, the GSM alphabet and concatenation are checked against a second reading of the spec."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from modem_emulator import ModemEmulator
from sms_helpers import Receipts, sms_notification
from sms_helpers import channel_for as shared_channel_for

from cuckoo.config import parse
from cuckoo.config.sms import ModemGatewaySettings
from cuckoo.domain import ChannelKind, Notification, Outcome
from cuckoo.errors import ConfigError
from cuckoo.sms import SmsChannel, build_gateway
from cuckoo.sms.gateway import SubmitState
from cuckoo.sms.modem import ModemError, ModemGateway

pytestmark = pytest.mark.timeout(60)

PHONE = "+79161234567"
CYRILLIC = (
    "Здравствуйте! Ваш заказ №1024 собран и ждёт вас в пункте выдачи на улице Ленина, 5. "
    "Срок хранения — 5 дней."
)


@pytest.fixture
def modem() -> Iterator[ModemEmulator]:
    with ModemEmulator() as m:
        yield m


def gateway(modem: ModemEmulator | str, **kw: Any) -> ModemGateway:
    port = modem if isinstance(modem, str) else modem.path
    settings = ModemGatewaySettings(port=port, **{"command_timeout_s": 2.0, **kw})
    return ModemGateway("gsm", settings)


def send(modem: ModemEmulator | str, text: str = "Test", **kw: Any) -> Any:
    gw = gateway(modem, **kw)
    try:
        return gw.send(PHONE, text, "Shop")
    finally:
        gw.close()


def notification(phone: str = PHONE) -> Notification:
    return sms_notification(phone, 7)


def channel_for(gw: ModemGateway, receipts: Receipts, text: str = CYRILLIC) -> SmsChannel:
    return shared_channel_for(gw, receipts, text)


# ---- messages out, reports back --------------------------------------------------------------


def test_cyrillic_goes_as_concatenated_ucs2_and_its_report_comes_back(
    modem: ModemEmulator,
) -> None:
    receipts = Receipts()
    gw = gateway(modem)
    try:
        r = channel_for(gw, receipts).deliver(notification())
        assert r.outcome is Outcome.SENT, r.detail
        [message] = modem.wait_messages(1)
        assert message.to == "79161234567"
        assert message.text == CYRILLIC  # decoded by the emulator, not by cuckoo
        assert len(message.parts) == 2  # 104 characters: 67 + 37 UCS2 units
        assert {p.dcs for p in message.parts} == {0x08}
        assert {p.toa for p in message.parts} == {0x91}
        assert [p.concat[1:] for p in message.parts if p.concat] == [(2, 1), (2, 2)]
        assert all(p.status_report for p in message.parts)
        assert r.gateway_message_id == f"0+1@{r.gateway_message_id.split('@')[1]}"
        # one report per part; the message is delivered once both say so
        assert receipts.wait(1) == [(r.gateway_message_id, "delivered")]
        time.sleep(0.2)
        assert len(receipts.got) == 1
    finally:
        gw.close()
    assert modem.commands[:2] == ["AT", "ATE0"]  # echo was on: the gateway read past it
    assert "AT+CMGF=0" in modem.commands and "AT+CNMI=2,1,0,1,0" in modem.commands
    assert [c for c in modem.commands if c.startswith("AT+CMGS=")] == [
        f"AT+CMGS={len(p.tpdu)}" for p in message.parts
    ]


def test_gsm_text_with_extension_characters_goes_as_7_bit(modem: ModemEmulator) -> None:
    text = "Order {A-17}: 3 items, 10 € [paid] ~ see you! " * 4  # 184 chars, 200 septets
    r = send(modem, text, status_report=False)
    assert r.state is SubmitState.ACCEPTED, r.error
    assert r.parts == 2
    [message] = modem.wait_messages(1)
    assert message.text == text.strip()
    assert {p.dcs for p in message.parts} == {0x00}
    assert not any(p.status_report for p in message.parts)
    assert "AT+CNMI=2,1,0,1,0" not in modem.commands  # no reports wanted


def test_validity_period_is_sent_when_set(modem: ModemEmulator) -> None:
    assert send(modem, "hello", validity_minutes=24 * 60).accepted
    assert modem.wait_messages(1)[0].parts[0].validity == 167


@pytest.mark.parametrize(
    ("st", "status"), [(0x41, "undeliverable"), (0x46, "expired"), (0x00, "delivered")]
)
def test_failed_reports(st: int, status: str) -> None:
    with ModemEmulator(report_status=st) as modem:
        receipts = Receipts()
        gw = gateway(modem)
        gw.set_receipt_handler(receipts)
        try:
            r = gw.send(PHONE, "short", "Shop")
            assert receipts.wait(1) == [(r.message_id, status)]
        finally:
            gw.close()


def test_an_interim_report_is_not_an_outcome() -> None:
    with ModemEmulator(report_status=None) as modem:
        receipts = Receipts()
        gw = gateway(modem)
        gw.set_receipt_handler(receipts)
        try:
            r = gw.send(PHONE, "short", "Shop")
            mr = modem.submitted[0].mr
            modem.send_report(mr, "+79990000000", 0x00)  # someone else's number: not ours
            modem.send_report(mr, PHONE, 0x21)  # SME busy, still trying
            time.sleep(0.3)
            assert receipts.got == []
            modem.send_report(mr, PHONE, 0x00)
            assert receipts.wait(1) == [(r.message_id, "delivered")]
        finally:
            gw.close()


# ---- the SIM ---------------------------------------------------------------------------------


def test_pin_is_entered_once_and_never_again_after_a_refusal() -> None:
    with ModemEmulator(pin="4321") as modem:
        assert send(modem, pin="4321").accepted
        assert modem.commands.count('AT+CPIN="4321"') == 1
    with ModemEmulator(pin="4321") as modem:
        no_pin = send(modem)
        assert no_pin.state is SubmitState.UNREACHABLE
        assert f"modem gsm ({modem.path}): SIM PIN required: set [sms.gateways.gsm] pin" in (
            no_pin.error
        )
        gw = gateway(modem, pin="0000")
        try:
            first = gw.send(PHONE, "x", "Shop")
            second = gw.send(PHONE, "x", "Shop")
        finally:
            gw.close()
        assert first.state is SubmitState.UNREACHABLE
        assert "refused the PIN of [sms.gateways.gsm] pin" in first.error
        assert "not entering it again" in second.error
        assert modem.wrong_pins == ["0000"]  # three would block the SIM
        assert modem.submitted == []


def test_sim_busy_after_power_up_is_waited_out() -> None:
    with ModemEmulator() as modem:
        modem.sim_busy = 2
        r = send(modem, sim_busy_wait_s=10)
        assert r.accepted, r.error
        assert modem.commands.count("AT+CPIN?") == 3
    with ModemEmulator() as modem:
        modem.sim_busy = 100
        started = time.monotonic()
        r = send(modem, sim_busy_wait_s=1.0)
        assert time.monotonic() - started < 4
        assert r.state is SubmitState.UNREACHABLE
        assert "+CME ERROR 14: SIM busy" in r.error and modem.path in r.error


def test_no_sim(modem: ModemEmulator) -> None:
    modem.sim_missing = True
    r = send(modem)
    assert r.state is SubmitState.UNREACHABLE
    assert r.error == f"modem gsm ({modem.path}): +CME ERROR 10: SIM not inserted"


# ---- the network -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stat", "words"),
    [(0, "not registered, not searching"), (2, "searching"), (3, "registration denied")],
)
def test_no_network_is_retried_later_naming_the_port(stat: int, words: str) -> None:
    with ModemEmulator(registration=stat) as modem:
        gw = gateway(modem)
        try:
            r = channel_for(gw, Receipts()).deliver(notification())
            assert r.outcome is Outcome.NETWORK
            assert f"gsm: modem gsm ({modem.path}): no network: " in r.detail
            assert words in r.detail and f"AT+CREG? stat {stat}" in r.detail
            assert modem.submitted == []
            modem.registration = 5  # roaming will do
            assert channel_for(gw, Receipts()).deliver(notification()).outcome is Outcome.SENT
        finally:
            gw.close()


def test_lte_only_registration_counts() -> None:
    with ModemEmulator(registration=0, lte_registration=1) as modem:
        assert send(modem).accepted


@pytest.mark.parametrize(
    ("code", "outcome", "words"),
    [
        (38, Outcome.NETWORK, "+CMS ERROR 38: network out of order"),
        (330, Outcome.NETWORK, "+CMS ERROR 330: SMSC address unknown"),
        (500, Outcome.NETWORK, "+CMS ERROR 500: unknown error"),
        (304, Outcome.UNDELIVERABLE, "+CMS ERROR 304: invalid PDU mode parameter"),
        (305, Outcome.UNDELIVERABLE, "+CMS ERROR 305: invalid text mode parameter"),
    ],
)
def test_cms_errors(modem: ModemEmulator, code: int, outcome: Outcome, words: str) -> None:
    modem.cms_errors = [code]
    gw = gateway(modem)
    try:
        r = channel_for(gw, Receipts(), "text").deliver(notification())
        assert r.outcome is outcome
        assert r.detail.startswith(f"gsm: modem gsm ({modem.path}): AT+CMGS: {words}")
        # the port is fine after an error: the next message goes
        assert channel_for(gw, Receipts(), "text").deliver(notification()).outcome is Outcome.SENT
    finally:
        gw.close()


def test_a_failure_mid_message_says_how_far_it_got(modem: ModemEmulator) -> None:
    gw = gateway(modem)
    try:
        modem.cms_errors = []
        first = gw.send(PHONE, "Ж" * 100, "Shop")  # warm up: the port is open
        assert first.accepted
        modem.cms_errors = [38]
        r = gw.send(PHONE, "Ж" * 100, "Shop")
        assert r.state is SubmitState.UNREACHABLE
        assert r.error.endswith("network out of order")
    finally:
        gw.close()


def test_a_silent_modem_gives_up_within_the_timeout(modem: ModemEmulator) -> None:
    modem.silent = True
    started = time.monotonic()
    r = send(modem, command_timeout_s=0.5)
    assert time.monotonic() - started < 4
    assert r.state is SubmitState.UNREACHABLE
    assert r.error.startswith(f"modem gsm ({modem.path}): no answer in 0.5 s")


def test_no_answer_after_the_pdu(modem: ModemEmulator) -> None:
    modem.silent_after_pdu = True
    gw = gateway(modem, send_timeout_s=0.5)
    try:
        r = gw.send(PHONE, "text", "Shop")
        assert r.state is SubmitState.UNREACHABLE
        assert "no answer to AT+CMGS in 0.5 s (the message may have gone)" in r.error
        modem.silent_after_pdu = False  # the gateway starts afresh: AT, ATE0, … again
        assert gw.send(PHONE, "text", "Shop").accepted
        assert modem.commands.count("ATE0") == 2
    finally:
        gw.close()


def test_a_missing_port_names_the_key(tmp_path: Path) -> None:
    r = send(str(tmp_path / "ttyUSB9"))
    assert r.state is SubmitState.UNREACHABLE
    assert r.error.startswith(f"modem gsm ({tmp_path / 'ttyUSB9'}): cannot open the port")
    assert "[sms.gateways.gsm] port" in r.error


def test_concurrent_sends_take_turns_on_the_port(modem: ModemEmulator) -> None:
    gw = gateway(modem)
    phones = [f"+7916000000{i}" for i in range(6)]
    results: dict[str, Any] = {}
    threads = [
        threading.Thread(target=lambda p=p: results.update({p: gw.send(p, f"для {p}", "S")}))
        for p in phones
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    gw.close()
    assert all(r.accepted for r in results.values()), results
    assert {(m.to, m.text) for m in modem.messages()} == {(p[1:], f"для {p}") for p in phones}


# ---- `cuckoo check` and the config -----------------------------------------------------------


def test_check_reports_sim_registration_and_signal(modem: ModemEmulator, tmp_path: Path) -> None:
    from cuckoo.cli.check_cmd import check_all

    config = tmp_path / "cuckoo.toml"
    config.write_text(
        f"""
[sms.gateways.gsm]
type = "modem"
port = "{modem.path}"

[sms.gateways.gone]
type = "modem"
port = "{tmp_path / "ttyUSB9"}"
""",
        encoding="utf-8",
    )
    report = check_all(str(config))
    note = "sms gateway gsm (modem): ok, SIM ready, registered (home network), signal -73 dBm"
    assert note in report.notes
    [problem] = [p for p in report.problems if "sms.gateways" in p]
    assert problem.startswith(f"{config}:6: [sms.gateways.gone] modem gone ({tmp_path}")
    assert "cannot open the port ([sms.gateways.gone] port)" in problem
    assert modem.submitted == []
    modem.registration = 3
    gw = gateway(modem)
    try:
        with pytest.raises(ModemError, match=r"no network: registration denied"):
            gw.check()
    finally:
        gw.close()


def test_modem_gateway_from_cuckoo_toml(tmp_path: Path) -> None:
    (tmp_path / "sim.pin").write_text("1234\n", encoding="utf-8")
    config = parse(
        """
[sms.gateways.gsm]
type = "modem"
port = "/dev/ttyUSB0"
pin_file = "sim.pin"
""",
        base_dir=tmp_path,
    )
    settings = config.sms.gateways["gsm"]
    assert isinstance(settings, ModemGatewaySettings)
    assert (settings.pin, settings.baudrate) == ("1234", 115200)
    assert "1234" not in repr(settings)
    gw = build_gateway("gsm", config.sms)
    assert isinstance(gw, ModemGateway)
    gw.close()


@pytest.mark.parametrize(
    ("table", "key", "words"),
    [
        ("", "[sms.gateways.gsm.modem.port]", "Field required"),
        ('port = " "', "[sms.gateways.gsm.modem.port]", "empty"),
        ('port = "/dev/x"\npin = "12a4"', "[sms.gateways.gsm.modem.pin]", "4 to 8 digits"),
        ('port = "/dev/x"\nvalidity_minutes = 3', "[sms.gateways.gsm.modem.validity_minutes]", "5"),
        (
            'port = "/dev/x"\npin_env = "CUCKOO_TEST_NO_SUCH_PIN"',
            "[sms.gateways.gsm.modem.pin_env]",
            "not set",
        ),
    ],
)
def test_bad_config_names_the_key_and_line(table: str, key: str, words: str) -> None:
    text = f'[sms]\nsender = "x"\n\n[sms.gateways.gsm]\ntype = "modem"\n{table}\n'
    with pytest.raises(ConfigError) as e:
        parse(text)
    [line] = [ln for ln in str(e.value).splitlines() if key in ln]
    assert line.startswith("cuckoo.toml:"), line
    assert int(line.split(":")[1]) >= 4
    assert words in line


# ---- `cuckoo sms send`, a real process -------------------------------------------------------


def run_cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cuckoo.cli.main", "-c", str(config), "sms", "send", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_sms_send_through_the_modem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with ModemEmulator(pin="2580", report_delay_s=0.3) as modem:
        config = tmp_path / "cuckoo.toml"
        config.write_text(
            f"""
[sms]
sender = "Cuckoo"
[sms.gateways.gsm]
type = "modem"
port = "{modem.path}"
pin_env = "CUCKOO_TEST_SIM_PIN"
""",
            encoding="utf-8",
        )
        monkeypatch.setenv("CUCKOO_TEST_SIM_PIN", "2580")
        proc = run_cli(config, "8 (916) 123-45-67", "Проверка модема", "--wait-receipt", "10")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "+79161234567: 1 ucs2 part(s) from 'Cuckoo' via gsm" in proc.stdout
        assert "accepted: message id 0@" in proc.stdout
        assert "receipt: delivered" in proc.stdout
        [message] = modem.wait_messages(1)
        assert (message.to, message.text) == ("79161234567", "Проверка модема")

        modem.registration = 2
        down = run_cli(config, "+79161234567", "text")
        assert down.returncode == 1
        assert f"unreachable: modem gsm ({modem.path}): no network: " in down.stdout


# ---- the scheduler's path: requested SMS sent by flush_sms_requests --------------------------

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 14:00 in Yekaterinburg: SMS window open
REPO = Path(__file__).resolve().parents[2]


class ManualClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def test_requested_sms_goes_out_by_modem_and_is_retried_without_network(
    modem: ModemEmulator, sqlite_url: str
) -> None:
    from cuckoo.config.scheduler import SchedulerSettings
    from cuckoo.domain import AttemptResult, IncomingNotification
    from cuckoo.store import Store
    from cuckoo.worker.channels import sms_channel
    from cuckoo.worker.scheduler import Scheduler

    text = "Заказ 1024: улица Ленина, дом 5, с 09:00 до 21:00."
    config = parse(
        f"""
scenarios_dir = "{REPO / "scenarios"}"
[sms]
sender = "Shop"
[sms.gateways.main]
type = "modem"
port = "{modem.path}"
command_timeout_s = 2.0
"""
    )
    store = Store(sqlite_url)
    store.upgrade()
    clock = ManualClock(NOW)
    channel = sms_channel(config, store, clock)
    try:
        sched = Scheduler(
            store,
            {ChannelKind.SMS: channel},
            settings=SchedulerSettings.model_validate({"sms_request_retry_s": 60}),
            clock=clock,
            owner="w",
        )
        notes = []
        for ext, phone in (("a", "+79123456700"), ("b", "+79123456701")):
            store.ingest([IncomingNotification("erp", ext, phone, "order_ready")], NOW)
            [n] = store.claim_due("w", NOW, 1, 60)
            r = AttemptResult(Outcome.CONFIRMED, NOW, NOW, dtmf="1", sms_text=text)
            store.finish_attempt(n, "w", r, NOW)
            notes.append(n)
            if ext == "a":
                assert sched.flush_sms_requests() == 1
                [message] = modem.wait_messages(1)
                assert (message.to, message.text) == ("79123456700", text)
                [req] = store.sms_requests_of(n.id)
                assert (req.state, req.tries) == ("sent", 1)
                assert req.gateway_message_id is not None
                assert req.gateway_message_id.startswith("0@")
                modem.registration = 2  # the network goes for the next one
        assert sched.flush_sms_requests() == 0
        [req] = store.sms_requests_of(notes[1].id)
        assert (req.state, req.tries) == ("pending", 1)
        assert "no network: not registered, searching" in req.last_error
        modem.registration = 1
        clock.advance(60)
        assert sched.flush_sms_requests() == 1
        assert modem.wait_messages(2)[1].to == "79123456701"
        [req] = store.sms_requests_of(notes[1].id)
        assert (req.state, req.tries, req.last_error) == ("sent", 2, "")
    finally:
        channel.close()
        store.close()

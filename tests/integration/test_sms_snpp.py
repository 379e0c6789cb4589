"""The SNPP gateway (RFC 1861 levels 1-2) against a real SNPP server on 127.0.0.1
(tests/snpp_server.py, on its own thread and port), through the SMS channel, the scheduler and
`cuckoo sms send` as a real process; no mocks of the socket or the protocol."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from snpp_server import SnppServer

from cuckoo.config import parse
from cuckoo.config.sms import SmsSettings, SnppGatewaySettings
from cuckoo.domain import ChannelKind, Notification, Outcome
from cuckoo.errors import ConfigError
from cuckoo.sms import SmsChannel, build_gateway
from cuckoo.sms.gateway import SubmitState
from cuckoo.sms.snpp import SnppError, SnppGateway

pytestmark = pytest.mark.timeout(60)

PHONE = "+79123456789"
CYRILLIC = "Заказ №123 готов к выдаче. Ждём вас!"


@pytest.fixture
def server() -> Iterator[SnppServer]:
    with SnppServer() as s:
        yield s


def gateway(server: SnppServer | int, **kw: Any) -> SnppGateway:
    port = server if isinstance(server, int) else server.port
    settings = SnppGatewaySettings(host="127.0.0.1", port=port, **{"timeout_s": 5.0, **kw})
    return SnppGateway("pager", settings)


def send(server: SnppServer | int, text: str = CYRILLIC, to: str = PHONE, **kw: Any) -> Any:
    gw = gateway(server, **kw)
    try:
        return gw.send(to, text, "Shop")
    finally:
        gw.close()


def notification(phone: str = PHONE) -> Notification:
    return Notification(
        id=3,
        source="erp",
        external_id="C-3",
        tenant="default",
        phone=phone,
        phone_raw=phone,
        channel=ChannelKind.SMS,
        scenario="order_ready",
        variables={},
        timezone="Europe/Moscow",
        attempt_no=1,
        contacts=0,
    )


def channel_for(gw: SnppGateway, text: str = CYRILLIC) -> SmsChannel:
    return SmsChannel(
        SmsSettings(sender="Shop"),
        {gw.name: gw},
        text_for=lambda n: text,
        is_blocked=lambda p: False,
        on_receipt=lambda mid, st: None,
        clock=lambda: datetime.now(UTC),
    )


def free_port() -> int:
    with socket.socket() as s:  # a port nobody listens on once this closes
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---- a message goes out --------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "cp1251", "koi8-r"])
def test_cyrillic_goes_by_mess_in_the_configured_encoding(
    server: SnppServer, encoding: str
) -> None:
    gw = gateway(server, encoding=encoding)
    try:
        r = channel_for(gw).deliver(notification())
    finally:
        gw.close()
    assert r.outcome is Outcome.SENT, r.detail
    assert r.gateway_message_id is None  # SNPP has no message ids (and no receipts)
    page = server.wait_page()
    assert page.pagers == ["79123456789"]
    assert page.via == "MESS"
    # the bytes themselves; koi8-r has no "№": it goes as "N"
    sent = CYRILLIC.replace("№", "N") if encoding == "koi8-r" else CYRILLIC
    assert page.message == sent.encode(encoding)
    [session] = server.wait_closed()
    assert session.verbs() == ["PAGE", "MESS", "SEND", "QUIT"]
    assert session.lines[0] == b"PAGE 79123456789"
    assert session.closed_by_client is False  # it waited for 221 and the server closed


def test_line_breaks_go_by_data_dot_stuffed(server: SnppServer) -> None:
    text = "Заказ готов.\n.Точка в начале строки\r\nДо встречи"
    r = send(server, text, encoding="cp1251")
    assert r.state is SubmitState.ACCEPTED, r.error
    page = server.wait_page()
    assert page.via == "DATA"
    assert page.text("cp1251") == "Заказ готов.\n.Точка в начале строки\nДо встречи"
    [session] = server.wait_closed()
    assert session.verbs() == ["PAGE", "DATA", "SEND", "QUIT"]
    assert ".Точка".encode("cp1251") not in [line[:7] for line in session.lines]
    assert "..Точка в начале строки".encode("cp1251") in session.lines  # stuffed on the wire


def test_a_long_single_line_goes_by_data(server: SnppServer) -> None:
    text = "Уважаемый клиент! " * 20  # 360 characters: too long for one MESS line
    assert send(server, text).state is SubmitState.ACCEPTED
    page = server.wait_page()
    assert (page.via, page.text("utf-8")) == ("DATA", text.strip())


def test_level_1_gateway_gets_one_mess_line() -> None:
    with SnppServer(level=1) as server:
        # configured as level 1: no DATA at all, line breaks become spaces
        assert send(server, "Строка один\nСтрока два", level=1).state is SubmitState.ACCEPTED
        assert (server.wait_page().via, server.wait_page().text("utf-8")) == (
            "MESS",
            "Строка один Строка два",
        )
        # left at level 2: DATA answered 500, so the same text goes by MESS after all
        assert send(server, "Строка один\nСтрока два").state is SubmitState.ACCEPTED
        assert server.wait_page(2).text("utf-8") == "Строка один Строка два"
        assert server.wait_closed(2)[1].verbs() == ["PAGE", "DATA", "MESS", "SEND", "QUIT"]


def test_level_3_queued_and_delivered_answers_to_send_are_accepted(server: SnppServer) -> None:
    for reply in ("960 OK, Message QUEUED for Delivery", "860 Delivered, Awaiting Read Ack"):
        server.send_reply = reply
        assert send(server, "text").state is SubmitState.ACCEPTED
    assert len(server.pages) == 2


def test_login_when_configured(server: SnppServer, monkeypatch: pytest.MonkeyPatch) -> None:
    server.logins = {"shop": "pw-71f"}
    server.require_login = True
    monkeypatch.setenv("CUCKOO_TEST_SNPP_PW", "pw-71f")
    r = send(server, login="shop", password_env="CUCKOO_TEST_SNPP_PW")
    assert r.state is SubmitState.ACCEPTED, r.error
    assert server.wait_page().login == "shop"
    [session] = server.wait_closed()
    assert session.lines[0] == b"LOGI shop pw-71f"
    assert session.verbs() == ["LOGI", "PAGE", "MESS", "SEND", "QUIT"]


def test_login_refused_is_retried_later_as_a_set_up_problem(server: SnppServer) -> None:
    server.logins = {"shop": "right"}
    r = send(server, login="shop", password="wrong")
    assert r.state is SubmitState.UNREACHABLE
    assert "LOGIn: 550 Error, Invalid Login" in r.error and "wrong" not in r.error
    assert server.pages == []


# ---- refusals: final ------------------------------------------------------------------------


def test_unknown_pager_is_a_final_refusal(server: SnppServer) -> None:
    server.unknown_pagers = {"79120000000"}
    gw = gateway(server)
    try:
        r = channel_for(gw).deliver(notification("+79120000000"))
    finally:
        gw.close()
    assert r.outcome is Outcome.UNDELIVERABLE
    assert r.detail == "pager: SNPP gateway refused: PAGEr: 550 Error, Invalid Pager ID"
    [session] = server.wait_closed()
    assert session.verbs() == ["PAGE", "QUIT"]  # the session was fine: it said goodbye
    assert server.pages == []


def test_message_too_long_for_the_gateway_is_a_final_refusal(server: SnppServer) -> None:
    server.max_message_bytes = 20
    r = send(server, "Этот текст длиннее двадцати байт")
    assert r.state is SubmitState.REFUSED
    assert r.error == "SNPP gateway refused: MESSage: 550 Error, Message Too Long"


def test_max_message_chars_refuses_before_connecting(server: SnppServer) -> None:
    r = send(server, "x" * 41, max_message_chars=40)
    assert r.state is SubmitState.REFUSED
    assert "41 characters" in r.error and "max_message_chars = 40" in r.error
    assert server.sessions == []


def test_a_character_the_encoding_lacks_is_refused_not_mangled(server: SnppServer) -> None:
    r = send(server, "Скидка 10 € «к празднику» 😀", encoding="koi8-r")
    assert r.state is SubmitState.REFUSED
    assert "koi8-r" in r.error and "😀" in r.error  # "€" and "«»" have stand-ins, this not
    assert server.sessions == []
    assert send(server, "Скидка 10 € «к празднику»", encoding="koi8-r").accepted
    assert server.wait_page().text("koi8-r") == 'Скидка 10 EUR "к празднику"'
    assert send(server, "Скидка 10 € «к празднику»", encoding="cp1251").accepted
    assert server.wait_page(2).text("cp1251") == "Скидка 10 € «к празднику»"  # cp1251 has them


# ---- trouble: retried later, within the timeout ---------------------------------------------


@pytest.mark.parametrize(
    ("trigger", "expected"),
    [
        ({"greeting": "421 Gateway Service Unavailable"}, "greeting: 421 Gateway Service"),
        ({"gone_on": "SEND"}, "SEND: 421 Gateway Service Unavailable"),
        ({"gone_on": "MESS"}, "MESSage: 421 Gateway Service Unavailable"),
        ({"failing_pagers": {"79123456789"}}, "PAGEr: 554 Error, failed (technical reason)"),
    ],
)
def test_gateway_trouble_is_retried_later(trigger: dict[str, Any], expected: str) -> None:
    with SnppServer(**trigger) as server:
        gw = gateway(server)
        try:
            r = channel_for(gw).deliver(notification())
        finally:
            gw.close()
        assert r.outcome is Outcome.NETWORK
        assert expected in r.detail
        assert server.pages == []


def test_connection_refused_is_retried_later() -> None:
    r = send(free_port())
    assert r.state is SubmitState.UNREACHABLE
    assert "unreachable" in r.error and "refused" in r.error.lower()


@pytest.mark.parametrize("stall_on", ["greeting", "PAGE", "SEND"])
def test_a_silent_gateway_gives_up_within_the_timeout(stall_on: str) -> None:
    with SnppServer(stall_on=stall_on) as server:
        started = time.monotonic()
        r = send(server, timeout_s=0.8)
        took = time.monotonic() - started
        assert r.state is SubmitState.UNREACHABLE
        assert "no answer in 0.8 s" in r.error
        assert 0.7 <= took < 2.0
        assert server.pages == []


def test_a_gateway_that_hangs_up_is_retried_later(server: SnppServer) -> None:
    # a listener that accepts and closes at once: reset / EOF before any greeting
    with socket.socket() as lsock:
        lsock.bind(("127.0.0.1", 0))
        lsock.listen()
        port = lsock.getsockname()[1]

        def hang_up() -> None:
            conn, _ = lsock.accept()
            conn.close()

        t = threading.Thread(target=hang_up, daemon=True)
        t.start()
        r = send(port)
        t.join(5)
    assert r.state is SubmitState.UNREACHABLE
    assert "closed the connection" in r.error


def test_close_cuts_a_send_that_is_waiting() -> None:
    with SnppServer(stall_on="SEND") as server:
        gw = gateway(server, timeout_s=30)
        results: list[Any] = []
        t = threading.Thread(target=lambda: results.append(gw.send(PHONE, "x", "Shop")))
        t.start()
        deadline = time.monotonic() + 5
        while not (server.sessions and b"SEND" in server.sessions[0].lines):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        started = time.monotonic()
        gw.close()
        t.join(5)
        assert time.monotonic() - started < 2
        assert results[0].state is SubmitState.UNREACHABLE
        assert gw.send(PHONE, "x", "Shop").state is SubmitState.UNREACHABLE  # closed for good


def test_concurrent_sends_each_get_their_own_session(server: SnppServer) -> None:
    gw = gateway(server)
    phones = [f"+7912000000{i}" for i in range(8)]
    results: dict[str, Any] = {}
    threads = [
        threading.Thread(target=lambda p=p: results.update({p: gw.send(p, f"для {p}", "S")}))
        for p in phones
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    gw.close()
    assert all(r.accepted for r in results.values()), results
    got = {(p.pagers[0], p.text("utf-8")) for p in server.pages}
    assert got == {(p.lstrip("+"), f"для {p}") for p in phones}


def test_check_reads_the_greeting_and_quits(server: SnppServer) -> None:
    gw = gateway(server)
    assert gw.check() == "220 SNPP (V3) Gateway Ready"
    assert server.wait_closed()[0].verbs() == ["QUIT"]
    with (
        SnppServer(stall_on="greeting") as silent,
        pytest.raises(SnppError, match=r"no greeting in 0\.5 s"),
    ):
        gateway(silent, timeout_s=0.5).check()
    with pytest.raises(SnppError, match="unreachable"):
        gateway(free_port()).check()


def test_cuckoo_check_probes_snpp_gateways(server: SnppServer, tmp_path: Path) -> None:
    from cuckoo.cli.check_cmd import check_all

    config = tmp_path / "cuckoo.toml"
    config.write_text(
        f"""
[sms.gateways.up]
type = "snpp"
host = "127.0.0.1"
port = {server.port}

[sms.gateways.down]
type = "snpp"
host = "127.0.0.1"
port = {free_port()}
timeout_s = 2
""",
        encoding="utf-8",
    )
    report = check_all(str(config))
    assert "sms gateway up (snpp): ok, reached: 220 SNPP (V3) Gateway Ready" in report.notes
    [problem] = [p for p in report.problems if "sms.gateways" in p]
    assert problem.startswith(f"{config}:7: [sms.gateways.down] SNPP down (127.0.0.1:"), problem
    assert "unreachable" in problem
    assert server.wait_closed()[0].verbs() == ["QUIT"]  # nothing was paged
    assert server.pages == []


# ---- configuration ----------------------------------------------------------------------------


def test_snpp_gateway_from_cuckoo_toml(tmp_path: Path, server: SnppServer) -> None:
    (tmp_path / "snpp.pw").write_text("from-file\n", encoding="utf-8")
    config = parse(
        f"""
[sms]
gateway = "pager"
[sms.gateways.pager]
type = "snpp"
host = "127.0.0.1"
port = {server.port}
encoding = "cp1251"
login = "shop"
password_file = "snpp.pw"
""",
        base_dir=tmp_path,
    )
    settings = config.sms.gateways["pager"]
    assert isinstance(settings, SnppGatewaySettings)
    assert (settings.password, settings.timeout_s, settings.level) == ("from-file", 10.0, 2)
    assert "from-file" not in repr(settings)
    assert SnppGatewaySettings(host="h").port == 444  # SNPP's registered port
    gw = build_gateway("pager", config.sms)
    assert isinstance(gw, SnppGateway)
    gw.close()


@pytest.mark.parametrize(
    ("table", "key", "words"),
    [
        ("", "[sms.gateways.pager.snpp.host]", "Field required"),
        ('host = "  "', "[sms.gateways.pager.snpp.host]", "empty"),
        ('host = "h"\nencoding = "klingon"', "[sms.gateways.pager.snpp.encoding]", "unknown"),
        ('host = "h"\nencoding = "utf-16"', "[sms.gateways.pager.snpp.encoding]", "ASCII"),
        ('host = "h"\nport = 0', "[sms.gateways.pager.snpp.port]", "greater than"),
        ('host = "h"\nlevel = 1\nlogin = "x"', "[sms.gateways.pager.snpp]", "level = 2"),
        ('host = "h"\npassword = "p"', "[sms.gateways.pager.snpp]", "login is not"),
        (
            'host = "h"\nlogin = "x"\npassword_env = "CUCKOO_TEST_NO_SUCH_VAR"',
            "[sms.gateways.pager.snpp.password_env]",
            "not set",
        ),
    ],
)
def test_bad_config_names_the_key_and_line(table: str, key: str, words: str) -> None:
    text = f'[sms]\nsender = "x"\n\n[sms.gateways.pager]\ntype = "snpp"\n{table}\n'
    with pytest.raises(ConfigError) as e:
        parse(text)
    [line] = [ln for ln in str(e.value).splitlines() if key in ln]
    assert line.startswith("cuckoo.toml:"), line
    assert int(line.split(":")[1]) >= 4  # the gateway's table or the key's own line
    assert words in line


# ---- `cuckoo sms send`, a real process --------------------------------------------------------


def run_cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cuckoo.cli.main", "-c", str(config), "sms", "send", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_sms_send_through_snpp(server: SnppServer, tmp_path: Path) -> None:
    server.logins = {"shop": "s3cret"}
    (tmp_path / "snpp.pw").write_text("s3cret\n", encoding="utf-8")
    config = tmp_path / "cuckoo.toml"
    config.write_text(
        f"""
[sms]
sender = "Cuckoo"
[sms.gateways.pager]
type = "snpp"
host = "127.0.0.1"
port = {server.port}
encoding = "cp1251"
login = "shop"
password_file = "snpp.pw"
""",
        encoding="utf-8",
    )
    proc = run_cli(config, "8 (912) 345-67-89", "Проверка шлюза")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "+79123456789: 1 ucs2 part(s) from 'Cuckoo' via pager" in proc.stdout
    assert "accepted" in proc.stdout
    page = server.wait_page()
    assert (page.pagers, page.text("cp1251"), page.login) == (
        ["79123456789"],
        "Проверка шлюза",
        "shop",
    )

    server.unknown_pagers = {"79120000000"}
    refused = run_cli(config, "+79120000000", "text")
    assert refused.returncode == 1
    assert "refused: SNPP gateway refused: PAGEr: 550 Error, Invalid Pager ID" in refused.stdout

    server.close()
    down = run_cli(config, "+79123456789", "text")
    assert down.returncode == 1
    assert "unreachable: SNPP pager (127.0.0.1:" in down.stdout


# ---- the scheduler's path: requested SMS sent by flush_sms_requests ---------------------------

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 14:00 in Yekaterinburg: SMS window open
REPO = Path(__file__).resolve().parents[2]


class ManualClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def test_requested_sms_goes_out_by_snpp_and_is_retried_when_down(
    server: SnppServer, sqlite_url: str
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
type = "snpp"
host = "127.0.0.1"
port = {server.port}
encoding = "koi8-r"
timeout_s = 2.0
"""
    )
    store = Store(sqlite_url)
    store.upgrade()
    clock = ManualClock(NOW)
    channel = sms_channel(config, store, clock)
    assert isinstance(channel, SmsChannel)
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
                page = server.wait_page()
                assert (page.pagers, page.text("koi8-r")) == (["79123456700"], text)
                [req] = store.sms_requests_of(n.id)
                assert (req.state, req.tries, req.gateway_message_id) == ("sent", 1, None)
                server.gone_on = "SEND"  # the gateway goes away for the next one
        assert sched.flush_sms_requests() == 0
        [req] = store.sms_requests_of(notes[1].id)
        assert (req.state, req.tries) == ("pending", 1)
        assert "421" in req.last_error
        server.gone_on = ""
        clock.advance(60)
        assert sched.flush_sms_requests() == 1
        assert server.wait_page(2).pagers == ["79123456701"]
        [req] = store.sms_requests_of(notes[1].id)
        assert (req.state, req.tries, req.last_error) == ("sent", 2, "")
    finally:
        channel.close()
        store.close()


# ---- no password and no text in any log line ---------------------------------------------------


def test_password_and_text_never_logged(
    server: SnppServer, caplog: pytest.LogCaptureFixture
) -> None:
    password, text = "pw-9d3e", "Ваш заказ 4711 готов, Пётр"
    server.logins = {"shop": password}
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="cuckoo")
    gw = gateway(server, login="shop", password=password, encoding="cp1251")
    try:
        assert channel_for(gw, text).deliver(notification()).outcome is Outcome.SENT
        server.unknown_pagers = {"79123456789"}
        assert channel_for(gw, text).deliver(notification()).outcome is Outcome.UNDELIVERABLE
    finally:
        gw.close()
    assert server.wait_page().text("cp1251") == text
    lines = [f"{r.name}: {r.getMessage()} {r.exc_text or ''}" for r in caplog.records]
    assert any("pager" in line for line in lines)  # the gateway did log
    needles = [password, text, text.split(",")[0]]
    assert [line for line in lines if any(n in line for n in needles)] == []

"""The HTTP gateway against a real local HTTP server (an SMS.ru-shaped provider on 127.0.0.1,
port 0), and the receipt webhook listener called over real HTTP."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from cuckoo.cli.logs import QUIET_LOGGERS, quiet_libraries
from cuckoo.config import load as load_config
from cuckoo.config.sms import HttpGatewaySettings, SmsSettings, WebhookSettings
from cuckoo.domain import ChannelKind, Notification, Outcome
from cuckoo.sms import SmsChannel
from cuckoo.sms.gateway import SubmitState
from cuckoo.sms.http import HttpGateway, ReceiptWebhook

pytestmark = pytest.mark.timeout(60)


class Provider:
    """A tiny SMS API: GET /sms/send?to=&msg=&from= and GET /sms/status?sms_id=, JSON answers
    shaped like SMS.ru's; POST /json/send takes a JSON body. Behaviour is scriptable."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.fail_next = 0  # answer 503 to this many requests
        self.refuse: dict[str, str] = {}  # number -> status_text
        self.status: dict[str, list[int]] = {}  # sms_id -> status codes to answer, in turn
        self.lock = threading.Lock()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, code: int, body: Any) -> None:
                data = (body if isinstance(body, str) else json.dumps(body)).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                q = dict(urllib.parse.parse_qsl(url.query))
                with provider.lock:
                    if provider.fail_next > 0:
                        provider.fail_next -= 1
                        self._answer(503, "busy")
                        return
                    if url.path == "/sms/send":
                        self._answer(200, provider.on_send(q))
                    elif url.path == "/sms/status":
                        self._answer(200, provider.on_status(q["sms_id"]))
                    elif url.path == "/sys/status.php":  # SMSC-shaped
                        self._answer(200, {"status": 1, "last_date": "01.12.2026 10:00:00"})
                    else:
                        self._answer(404, {"status": "ERROR"})

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.path == "/sys/send.php":  # SMSC-shaped: a form, an id back
                    form = dict(urllib.parse.parse_qsl(body.decode()))
                    with provider.lock:
                        provider.sent.append(form)
                        self._answer(200, {"id": len(provider.sent), "cnt": 1})
                    return
                with provider.lock:
                    payload = json.loads(body)
                    provider.sent.append({**payload, "content_type": self.headers["Content-Type"]})
                    self._answer(202, {"result": {"message_id": f"J{len(provider.sent)}"}})

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def on_send(self, q: dict[str, str]) -> dict[str, Any]:
        to = q["to"]
        self.sent.append(q)
        if to in self.refuse:
            entry = {"status": "ERROR", "status_code": 207, "status_text": self.refuse[to]}
        else:
            sms_id = f"000000-{len(self.sent):07d}"
            self.status.setdefault(sms_id, [102, 103])
            entry = {"status": "OK", "status_code": 100, "sms_id": sms_id}
        return {"status": "OK", "status_code": 100, "sms": {to: entry}, "balance": 10.5}

    def on_status(self, sms_id: str) -> dict[str, Any]:
        codes = self.status.get(sms_id, [-1])
        code = codes.pop(0) if len(codes) > 1 else codes[0]
        return {"status": "OK", "sms": {sms_id: {"status": "OK", "status_code": code}}}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def provider() -> Iterator[Provider]:
    p = Provider()
    yield p
    p.close()


def smsru_like(url: str, **kw: Any) -> HttpGatewaySettings:
    base: dict[str, Any] = dict(
        url=url + "/sms/send",
        method="GET",
        params={
            "api_id": "KEY",
            "to": "{{ to_digits }}",
            "msg": "{{ text }}",
            "from": "{{ sender }}",
        },
        ok_json_path="sms.{{ to_digits }}.status",
        ok_json_value="OK",
        id_json_path="sms.{{ to_digits }}.sms_id",
        error_json_path="sms.{{ to_digits }}.status_text",
        retries=2,
        retry_delay_s=0.05,
        timeout_s=5,
        receipts="poll",
        status_url=url + "/sms/status",
        status_params={"api_id": "KEY", "sms_id": "{{ id }}"},
        status_json_path="sms.{{ id }}.status_code",
        status_map={"103": "delivered", "104": "undeliverable"},
        poll_interval_s=3600,  # the test calls poll_once itself
    )
    base.update(kw)
    return HttpGatewaySettings(**base)


def notification(phone: str = "+79123456789") -> Notification:
    return Notification(
        id=7,
        source="erp",
        external_id="B-7",
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


def test_send_and_poll_receipt(provider: Provider) -> None:
    gw = HttpGateway("smsru", smsru_like(provider.url))
    receipts: list[tuple[str, str]] = []
    channel = SmsChannel(
        SmsSettings(sender="Shop"),
        {"smsru": gw},
        text_for=lambda n: "Заказ готов & ждёт вас",
        is_blocked=lambda p: False,
        on_receipt=lambda mid, st: receipts.append((mid, st)),
        clock=lambda: datetime.now(UTC),
    )
    try:
        r = channel.deliver(notification())
        assert r.outcome is Outcome.SENT, r.detail
        assert r.gateway_message_id == "000000-0000001"
        assert provider.sent == [
            {"api_id": "KEY", "to": "79123456789", "msg": "Заказ готов & ждёт вас", "from": "Shop"}
        ]
        assert gw.poll_once() == 0  # 102: interim
        assert receipts == []
        assert gw.poll_once() == 1  # 103: delivered
        assert receipts == [("000000-0000001", "delivered")]
        assert gw.poll_once() == 0  # nothing open any more
    finally:
        gw.close()


def test_refusal_carries_the_providers_words(provider: Provider) -> None:
    provider.refuse["79123456789"] = "На этот номер нельзя отправлять сообщения"
    gw = HttpGateway("smsru", smsru_like(provider.url))
    try:
        r = gw.send("+79123456789", "текст", "Shop")
    finally:
        gw.close()
    assert r.state is SubmitState.REFUSED
    assert "нельзя отправлять" in r.error


def test_5xx_is_retried_then_accepted(provider: Provider) -> None:
    provider.fail_next = 2
    gw = HttpGateway("smsru", smsru_like(provider.url))
    try:
        r = gw.send("+79123456789", "текст", "Shop")
    finally:
        gw.close()
    assert r.state is SubmitState.ACCEPTED
    assert len(provider.sent) == 1


def test_persistent_5xx_is_unreachable(provider: Provider) -> None:
    provider.fail_next = 3
    gw = HttpGateway("smsru", smsru_like(provider.url))
    try:
        r = gw.send("+79123456789", "текст", "Shop")
    finally:
        gw.close()
    assert r.state is SubmitState.UNREACHABLE
    assert "HTTP 503" in r.error
    assert provider.sent == []


def test_provider_down_is_network() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    gw = HttpGateway("smsru", smsru_like(f"http://127.0.0.1:{port}", retries=1))
    channel = SmsChannel(
        SmsSettings(),
        {"smsru": gw},
        text_for=lambda n: "текст",
        is_blocked=lambda p: False,
        on_receipt=lambda mid, st: None,
    )
    try:
        r = channel.deliver(notification())
    finally:
        gw.close()
    assert r.outcome is Outcome.NETWORK
    assert "ConnectError" in r.detail


def test_json_body_template(provider: Provider) -> None:
    settings = HttpGatewaySettings(
        url=provider.url + "/json/send",
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": "Bearer T"},
        body='{"phone": "{{ to }}", "text": {{ text | tojson }}, "sender": "{{ sender }}"}',
        ok_status=[202],
        id_json_path="result.message_id",
    )
    gw = HttpGateway("json", settings)
    try:
        r = gw.send("+79123456789", 'Кавычки "и" переводы\nстрок', "Shop")
    finally:
        gw.close()
    assert r.state is SubmitState.ACCEPTED and r.message_id == "J1"
    assert provider.sent == [
        {
            "phone": "+79123456789",
            "text": 'Кавычки "и" переводы\nстрок',
            "sender": "Shop",
            "content_type": "application/json",
        }
    ]


def test_receipt_webhook_fields_and_regex(provider: Provider) -> None:
    webhook = ReceiptWebhook(WebhookSettings(port=0))
    got: list[tuple[str, str]] = []
    by_fields = HttpGateway(
        "a",
        smsru_like(
            provider.url,
            receipts="webhook",
            webhook_path="/dlr/a",
            webhook_id_field="msg.id",
            webhook_status_field="msg.state",
            status_map={"DELIVRD": "delivered", "EXPIRED": "expired"},
        ),
        webhook=webhook,
    )
    by_regex = HttpGateway(
        "b",
        smsru_like(
            provider.url,
            receipts="webhook",
            webhook_path="/dlr/b",
            webhook_regex=r"sms_status\n(?P<id>[\w-]+)\n(?P<status>\d+)",
            webhook_reply="100",
        ),
        webhook=webhook,
    )
    by_fields.set_receipt_handler(lambda m, s: got.append((m, s)))
    by_regex.set_receipt_handler(lambda m, s: got.append((m, s)))
    base = f"http://127.0.0.1:{webhook.port}"
    try:
        r1 = httpx.post(base + "/dlr/a", json={"msg": {"id": "x-1", "state": "EXPIRED"}})
        assert (r1.status_code, r1.text) == (200, "OK")
        r2 = httpx.post(
            base + "/dlr/b",
            data={
                "data[0]": "sms_status\n000-1\n103\n1700000000",
                "data[1]": "sms_status\n000-2\n104\n1700000001",
                "data[2]": "sms_status\n000-3\n102\n1700000002",  # interim: ignored
            },
        )
        assert (r2.status_code, r2.text) == (200, "100")
        r3 = httpx.get(base + "/dlr/a", params={"msg": "not json"})  # no id: ignored
        assert r3.status_code == 200
        assert httpx.get(base + "/nowhere").status_code == 404
    finally:
        by_fields.close()
        by_regex.close()
        webhook.close()
    assert got == [("x-1", "expired"), ("000-1", "delivered"), ("000-2", "undeliverable")]


def test_two_gateways_cannot_share_a_webhook_path(provider: Provider) -> None:
    webhook = ReceiptWebhook(WebhookSettings(port=0))
    s = smsru_like(provider.url, receipts="webhook", webhook_path="/dlr")
    a = HttpGateway("a", s, webhook=webhook)
    try:
        with pytest.raises(ValueError, match="/dlr"):
            HttpGateway("b", s, webhook=webhook)
    finally:
        a.close()
        webhook.close()


def test_poll_thread_reports_receipts_by_itself(provider: Provider) -> None:
    gw = HttpGateway("smsru", smsru_like(provider.url, poll_interval_s=0.1))
    got: list[tuple[str, str]] = []
    done = threading.Event()

    def on_receipt(mid: str, status: str) -> None:
        got.append((mid, status))
        done.set()

    gw.set_receipt_handler(on_receipt)
    try:
        r = gw.send("+79123456789", "текст", "Shop")
        assert r.accepted
        assert done.wait(15)
    finally:
        gw.close()
    assert got == [(r.message_id, "delivered")]


def test_cli_sms_send_through_http(provider: Provider, tmp_path: Path) -> None:
    config = tmp_path / "cuckoo.toml"
    config.write_text(
        f"""
[sms]
gateway = "smsru"
sender = "Shop"
[sms.gateways.smsru]
type = "http"
method = "GET"
url = "{provider.url}/sms/send"
ok_json_path = "sms.{{{{ to_digits }}}}.status"
ok_json_value = "OK"
id_json_path = "sms.{{{{ to_digits }}}}.sms_id"
receipts = "poll"
status_url = "{provider.url}/sms/status"
status_json_path = "sms.{{{{ id }}}}.status_code"
poll_interval_s = 0.2
[sms.gateways.smsru.params]
api_id = "KEY"
to = "{{{{ to_digits }}}}"
msg = "{{{{ text }}}}"
from = "{{{{ sender }}}}"
[sms.gateways.smsru.status_params]
sms_id = "{{{{ id }}}}"
[sms.gateways.smsru.status_map]
"103" = "delivered"
""",
        encoding="utf-8",
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "cuckoo.cli.main",
            "-c",
            str(config),
            "sms",
            "send",
            "+7 912 345-67-89",
            "Заказ готов",
            "--wait-receipt",
            "20",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "accepted: message id 000000-0000001" in proc.stdout
    assert "receipt: delivered" in proc.stdout
    assert provider.sent[0]["msg"] == "Заказ готов"


# ---- no secret and no message text in any log line -----------------------------------------

SECRET = "s3cr3t-API-key-9f2c"
TEXT = "Заказ 4711 готов, Пётр Иванович"


def leaked(records: list[logging.LogRecord]) -> list[str]:
    """Log lines that show the secret or the message text, in any spelling a URL or a form
    gives them (as is, percent-encoded, plus-encoded)."""
    needles = {SECRET, TEXT, urllib.parse.quote(TEXT), urllib.parse.quote_plus(TEXT)}
    needles |= {TEXT.split(",")[0], urllib.parse.quote(TEXT.split(",")[0])}
    out = []
    for r in records:
        line = f"{r.name}: {r.getMessage()} {r.exc_text or ''}"
        if any(n in line for n in needles):
            out.append(line)
    return out


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every logger at DEBUG but the libraries cuckoo's logging setup holds at WARNING."""
    saved = {n: logging.getLogger(n).level for n in QUIET_LOGGERS}
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="cuckoo")
    quiet_libraries()
    yield caplog
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


def send_and_poll(gw: HttpGateway) -> None:
    """Through the SMS channel, as the worker does: a send, then status polls to the receipt."""
    receipts: list[tuple[str, str]] = []
    channel = SmsChannel(
        SmsSettings(sender="Shop"),
        {gw.name: gw},
        text_for=lambda n: TEXT,
        is_blocked=lambda p: False,
        on_receipt=lambda mid, st: receipts.append((mid, st)),
        clock=lambda: datetime.now(UTC),
    )
    try:
        result = channel.deliver(notification())
        assert result.outcome is Outcome.SENT, result.detail
        while not receipts:
            assert gw.poll_once() in (0, 1)
    finally:
        gw.close()


def test_smsru_shaped_secret_and_text_never_logged(
    provider: Provider, debug_logs: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUCKOO_TEST_SMS_SECRET", SECRET)
    settings = smsru_like(
        provider.url,
        secret_env="CUCKOO_TEST_SMS_SECRET",
        params={"api_id": "{{ secret }}", "to": "{{ to_digits }}", "msg": "{{ text }}"},
        status_params={"api_id": "{{ secret }}", "sms_id": "{{ id }}"},
    )
    # the check can see a leak: httpx, left at INFO, writes the whole request URL
    logging.getLogger("httpx").setLevel(logging.INFO)
    send_and_poll(HttpGateway("smsru", settings))
    assert leaked(debug_logs.records), "httpx at INFO logs the URL (what this test catches)"
    debug_logs.clear()
    quiet_libraries()
    send_and_poll(HttpGateway("smsru", settings))
    assert provider.sent[-1]["api_id"] == SECRET and provider.sent[-1]["msg"] == TEXT
    assert debug_logs.records  # cuckoo did log (at DEBUG and up) ...
    assert leaked(debug_logs.records) == []  # ... but never the secret or the text


def test_smsc_shaped_password_and_text_never_logged(
    provider: Provider, debug_logs: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    (tmp_path / "smsc.psw").write_text(SECRET + "\n", encoding="utf-8")
    toml = tmp_path / "cuckoo.toml"
    toml.write_text(
        f"""
[sms.gateways.smsc]
type = "http"
method = "POST"
url = "{provider.url}/sys/send.php"
secret_file = "smsc.psw"
form = {{login = "shop", psw = "{{{{ secret }}}}", phones = "{{{{ to }}}}", \
mes = "{{{{ text }}}}", fmt = "3"}}
ok_regex = '"id"\\s*:'
id_json_path = "id"
receipts = "poll"
status_url = "{provider.url}/sys/status.php"
status_params = {{login = "shop", psw = "{{{{ secret }}}}", phone = "{{{{ to }}}}", \
id = "{{{{ id }}}}", fmt = "3"}}
status_json_path = "status"
status_map = {{"1" = "delivered"}}
poll_interval_s = 3600
""",
        encoding="utf-8",
    )
    settings = load_config(toml).sms.gateways["smsc"]
    assert isinstance(settings, HttpGatewaySettings)
    assert settings.secret == SECRET  # read from the file, its newline dropped
    send_and_poll(HttpGateway("smsc", settings))
    assert provider.sent[-1]["psw"] == SECRET and provider.sent[-1]["mes"] == TEXT
    assert debug_logs.records
    assert leaked(debug_logs.records) == []


def test_refusals_and_outages_do_not_log_the_secret(
    provider: Provider, debug_logs: pytest.LogCaptureFixture
) -> None:
    settings = smsru_like(
        provider.url,
        secret=SECRET,
        params={"api_id": "{{ secret }}", "to": "{{ to_digits }}", "msg": "{{ text }}"},
        status_params={"api_id": "{{ secret }}", "sms_id": "{{ id }}"},
    )
    provider.fail_next = 10  # 503s: retried, then unreachable
    gw = HttpGateway("smsru", settings)
    try:
        assert gw.send("+79123456789", TEXT, "Shop").state is SubmitState.UNREACHABLE
    finally:
        gw.close()
    assert leaked(debug_logs.records) == []
    assert SECRET not in repr(settings)  # nor in a printed config

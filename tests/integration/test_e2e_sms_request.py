"""An `sms:` step end to end: a real SIP call (pjsua2 worker → simulated phone) runs
scenarios/order_ready.yaml, the customer presses 1 for the address by SMS, hears «Отправили адрес
в SMS», and that SMS — the step's text rendered with the ERP row's variables — reaches a real
SMPP server (tests/sms_smsc), also when the gateway was down at the time of the call."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cuckoo.demo.cast import Customer, Expected, documents, phones_script
from cuckoo.demo.rig import Rig, RigOptions
from cuckoo.domain import Outcome, Status

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sms_smsc"))
from smsc import Smsc, SmscUnavailable

pytestmark = [pytest.mark.sip, pytest.mark.slow, pytest.mark.timeout(180)]

ORDER = {
    "pickup": {"address": "улица Ленина, дом 5", "opens": "09:00", "closes": "21:00"},
    "keep_until": "2026-11-27",
}
# send_address's `sms:` in order_ready.yaml, with order_no = the ERP document's number
ADDRESS_SMS = "Заказ ЗК-000201: улица Ленина, дом 5, с 09:00 до 21:00."


@pytest.fixture
def smsc() -> Iterator[Smsc]:
    try:
        server = Smsc.start()
    except SmscUnavailable as e:
        pytest.skip(str(e))
    with server:
        yield server


def customer() -> Customer:
    return Customer(
        "Иванова",
        "Мария",
        "Петровна",
        "8 912 100-00-21",
        "Asia/Yekaterinburg",
        "Екатеринбург",
        "order_ready",
        "ЗК-000201",
        "answers, presses 1 for the address by SMS",
        # 1 during the message (barge-in): the menu takes it as its answer
        [
            {
                "action": "answer",
                "answer_after_s": 0.5,
                "dtmf": [{"at_s": 1.5, "keys": "1", "method": "rfc2833"}],
            }
        ],
        Expected(Status.CONFIRMED, Outcome.CONFIRMED, 1, 1, dtmf="1", calls=1),
        ORDER,
    )


def rig_for(tmp_path: Path, smsc: Smsc) -> Rig:
    gateway = {
        "type": "smpp",
        "host": "127.0.0.1",
        "port": smsc.port,
        "system_id": "cuckoo",
        "password": "secret",
        "response_timeout_s": 2.0,
        "reconnect_min_s": 0.1,
        "reconnect_max_s": 0.5,
        "submit_timeout_s": 1.0,
    }
    c = customer()
    return Rig(
        tmp_path,
        phones_script([c]),
        RigOptions(speed=60.0, max_attempts=2, ring_timeout_s=5.0, sms_gateway=gateway),
    )


def wait(what: str, ok: Callable[[], Any], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while not (got := ok()):
        assert time.monotonic() < deadline, f"waited {timeout:.0f} s for {what}"
        time.sleep(0.2)
    return got


def requests_of(rig: Rig, ext: str) -> list[Any]:
    row = rig.row(ext)
    return [] if row is None else list(rig.store.sms_requests_of(row.id))


def test_key_1_in_order_ready_texts_the_address(tmp_path: Path, smsc: Smsc) -> None:
    rig = rig_for(tmp_path, smsc)
    rig.start()
    try:
        rig.flag(documents([customer()]))
        ext = str(rig.document_ids()["ЗК-000201"])
        message = smsc.wait_for("message", lambda m: m["dest"] == "79121000021", timeout=90)
        wait("the notification to be final", lambda: rig.row(ext).status != "active", 30)
        [req] = wait("the request to be sent", lambda: [
            r for r in requests_of(rig, ext) if r.state == "sent"
        ], 30)  # fmt: skip
        wait("the receipt", lambda: requests_of(rig, ext)[0].receipt_status, 15)
        [req] = requests_of(rig, ext)
        row = rig.row(ext)
        atts = rig.attempts(ext)
    finally:
        rig.stop()
    assert message["text"] == ADDRESS_SMS
    assert (row.status, row.last_outcome) == ("confirmed", "confirmed")
    [att] = atts
    assert (att.channel, att.outcome, att.dtmf) == ("call", "confirmed", "1")
    assert att.said[-1] == "Отправили адрес в SMS. Всего доброго!"  # what the customer heard
    assert att.path[0] == "message" and "send_address" in att.path  # the dialog's way, stored
    assert (req.attempt_no, req.text, req.tries) == (1, ADDRESS_SMS, 1)
    assert req.receipt_status == "delivered"
    [submit] = smsc.of("submit")
    assert req.gateway_message_id == submit["message_id"]  # how its receipt found it
    # One SMS: the address. The notification's own SMS (the scenario's top `sms:`) is for the
    # SMS channel, which this call-only notification never used.
    assert [m["text"] for m in smsc.of("message")] == [ADDRESS_SMS]


def test_gateway_down_during_the_call_the_sms_goes_when_it_is_back(
    tmp_path: Path, smsc: Smsc
) -> None:
    rig = rig_for(tmp_path, smsc)
    rig.start()
    try:
        smsc.down()
        rig.flag(documents([customer()]))
        ext = str(rig.document_ids()["ЗК-000201"])
        [req] = wait("a failed try", lambda: [
            r for r in requests_of(rig, ext) if r.tries >= 1 and r.state == "pending"
        ], 90)  # fmt: skip
        assert "unreachable" in req.last_error, req.last_error
        assert smsc.of("message") == []
        smsc.up()
        message = smsc.wait_for("message", lambda m: m["dest"] == "79121000021", timeout=60)
        [req] = wait("the request to be sent", lambda: [
            r for r in requests_of(rig, ext) if r.state == "sent"
        ], 30)  # fmt: skip
    finally:
        rig.stop()
    assert message["text"] == ADDRESS_SMS
    assert req.tries >= 2 and req.last_error == ""
    assert [m["text"] for m in smsc.of("message")] == [ADDRESS_SMS]

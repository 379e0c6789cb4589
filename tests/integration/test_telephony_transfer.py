"""Blind transfer (SIP REFER) on a live call: the robot (in-process pjsua2 engine) hands the
customer (a sim-phone user) over to an operator (another user of the same sim-phone, which
accepts the REFER and places the new call itself)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from telephony_helpers import SimPhoneProc, scenario_request

from cuckoo.config.telephony import TelephonySettings
from cuckoo.dialog.converse import ScenarioConversation
from cuckoo.speech.tts import espeak_synthesizer
from cuckoo.telephony.calls import run_call
from cuckoo.telephony.engine import Engine, EngineConfig
from cuckoo.telephony.session import SipLine, dial

pytestmark = [pytest.mark.sip, pytest.mark.slow]

SETTINGS = TelephonySettings(
    bind_host="127.0.0.1", ring_timeout_s=3.0, setup_timeout_s=2.0, rtp_timeout_s=3.0, max_call_s=60
)


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    e = Engine(EngineConfig(bind_host="127.0.0.1", rtp_timeout_s=3.0)).start()
    yield e
    e.stop()


@pytest.fixture(scope="module")
def phone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimPhoneProc]:
    script = {
        "default": {"action": "answer", "answer_after_s": 0.1},
        "users": {
            "operator": {"action": "answer", "answer_after_s": 0.3, "hangup_after_s": 1.0},
            "busyop": {"action": "busy"},
            # the scenario's menu: key 2 is "the operator, please"
            "dave": {"dtmf": [{"at_s": 1.0, "keys": "2"}]},
            "erin": {"dtmf": [{"at_s": 1.0, "keys": "2"}]},
        },
    }
    p = SimPhoneProc(script, tmp_path_factory.mktemp("transfer"), name="xfer")
    yield p
    assert p.stop() == 0


def answered_line(engine: Engine, phone: SimPhoneProc, user: str) -> SipLine:
    d = dial(engine, phone.uri(user), ring_timeout_s=3.0, setup_timeout_s=2.0)
    assert d.answered, d
    assert d.handle is not None
    return SipLine(d.handle, settings=SETTINGS, transfer_timeout_s=5.0)


def test_transfer_to_operator(engine: Engine, phone: SimPhoneProc) -> None:
    line = answered_line(engine, phone, "alice")
    phone.wait_event("answered", user="alice")
    assert line.transfer(phone.uri("operator")) is True
    assert line.transferred_to == phone.uri("operator")
    assert line.h.disconnected.is_set()  # our leg is gone
    assert line.h.hangup_cause == "transferred"
    assert 200 in line.h.xfer_codes
    phone.wait_event("transfer", user="alice", target=phone.uri("operator"))
    phone.wait_event("incoming", user="operator")
    phone.wait_event("answered", user="operator")
    phone.wait_event("transfer_answered", user="alice")
    line.hangup()  # harmless after the transfer
    # the customer and the operator talk until the operator hangs up (and frees the
    # sim-phone's call slots: it holds 4 calls at most)
    ended = phone.wait_event("transfer_ended", user="alice")
    assert ended["answered"] is True


def test_transfer_refused_by_operator(engine: Engine, phone: SimPhoneProc) -> None:
    line = answered_line(engine, phone, "bob")
    phone.wait_event("answered", user="bob")
    assert line.transfer(phone.uri("busyop")) is False
    assert line.h.xfer_codes[-1] == 486
    assert line.transferred_to is None
    phone.wait_event("rejected", user="busyop", code=486)
    assert not line.h.disconnected.is_set()  # the customer is still with the robot
    line.hangup()
    phone.wait_event("ended", user="bob")


def test_transfer_number_without_trunk_is_refused(engine: Engine, phone: SimPhoneProc) -> None:
    line = answered_line(engine, phone, "carol")
    assert line.transfer("+74951234567") is False  # no [telephony.trunk] domain
    assert not line.h.disconnected.is_set()
    line.hangup()


SCENARIO = """\
name: transfer_test
description: Соединение с оператором
goal: delivered
start: menu
states:
  menu:
    ask: Нажмите два.
    answers:
      - dtmf: 2
        go: operator
    on_fail: bye
  operator:
    transfer: operator
    say: Соединяю.
    if_failed: Оператор занят.
  bye:
    hangup: true
    say: Всего доброго.
"""


@pytest.mark.parametrize(
    ("user", "operator", "transferred"), [("dave", "operator", True), ("erin", "busyop", False)]
)
def test_scenario_transfer_state(
    engine: Engine,
    phone: SimPhoneProc,
    tmp_path: Path,
    user: str,
    operator: str,
    transferred: bool,
) -> None:
    (tmp_path / "transfer_test.yaml").write_text(SCENARIO, encoding="utf-8")
    converse = ScenarioConversation(tmp_path, operator=phone.uri(operator), speech_available=False)
    r = run_call(
        engine,
        scenario_request(phone.uri(user), "transfer_test", {}),
        settings=SETTINGS,
        converse=converse,
        synthesizer=espeak_synthesizer(),
    )
    assert r.outcome == "operator_requested", r
    assert r.dtmf == "2"
    transfer = phone.wait_event("transfer", user=user)
    assert transfer["target"] == phone.uri(operator)
    if transferred:
        called = [
            e
            for e in phone.events()
            if e["event"] == "incoming" and e["user"] == operator and e["t"] > transfer["t"]
        ]
        assert called, phone.events()
        assert f"transferred to {phone.uri(operator)}" in r.detail
        assert r.said[-1] == "Соединяю."
        phone.wait_event("transfer_ended", user=user, answered=True, timeout=10)
    else:
        assert "transferred" not in r.detail
        assert r.said[-1] == "Оператор занят."

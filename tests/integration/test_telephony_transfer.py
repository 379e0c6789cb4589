"""Blind transfer (SIP REFER) on a live call: the robot (in-process pjsua2 engine) hands the
customer (a sim-phone user) over to an operator (another user of the same sim-phone, which
accepts the REFER and places the new call itself).

A transfer that hangs: the operator is a `silent` sim-phone user (takes the INVITE, sends
nothing back), so the customer's phone accepts the REFER (202, NOTIFY «100 Trying») and then
sends no final NOTIFY; the robot gives up after `transfer_timeout_s`, the customer hears the
fallback (`if_failed`) instead of silence, and the final NOTIFY that comes later (480, when the
silent operator gives up) is ignored.
"""

from __future__ import annotations

import logging
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from telephony_helpers import SimPhoneProc, matched_fraction, pcm_of, scenario_request

from cuckoo.config.telephony import TelephonySettings
from cuckoo.dialog.converse import ScenarioConversation
from cuckoo.dialog.schema import TransferState
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


LIMBO_S = 4.0  # the silent operator gives up (480) this long after the transferee's INVITE
FALLBACK = TransferState.model_fields["if_failed"].default  # what the customer hears instead
assert isinstance(FALLBACK, str)


@pytest.fixture(scope="module")
def phone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimPhoneProc]:
    workdir = tmp_path_factory.mktemp("transfer")
    record = str(workdir / "{user}-{n}.wav")
    script = {
        "default": {"action": "answer", "answer_after_s": 0.1},
        "users": {
            "operator": {"action": "answer", "answer_after_s": 0.3, "hangup_after_s": 1.0},
            "busyop": {"action": "busy"},
            "limbo": {"action": "silent", "hangup_after_s": LIMBO_S},
            # the scenario's menu: key 2 is "the operator, please"
            "dave": {"dtmf": [{"at_s": 1.0, "keys": "2"}]},
            "erin": {"dtmf": [{"at_s": 1.0, "keys": "2"}]},
            "gina": {"record": record},
            "hank": {"dtmf": [{"at_s": 1.0, "keys": "2"}], "record": record},
        },
    }
    p = SimPhoneProc(script, workdir, name="xfer")
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
        assert "transfer failed: 486" in r.detail, r.detail
        assert r.said[-1] == "Оператор занят."


def heard(ended: dict[str, object]) -> np.ndarray:
    """What a sim-phone user heard (its `record` WAV)."""
    with wave.open(str(ended["recording"]), "rb") as w:
        return pcm_of(w.readframes(w.getnframes()))


def fallback_heard(ended: dict[str, object]) -> float:
    """The share of the fallback text (espeak-ng, as the robot says it) in what was heard."""
    sent = espeak_synthesizer().synthesize(str(FALLBACK), rate=8000).samples()
    return matched_fraction(sent.astype(np.float64), heard(ended), min_corr=0.8)


def test_transfer_without_final_notify_times_out(
    engine: Engine, phone: SimPhoneProc, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="cuckoo.telephony.engine")
    line = answered_line(engine, phone, "gina")
    line.synthesizer = espeak_synthesizer()
    line.transfer_timeout_s = 1.5
    phone.wait_event("answered", user="gina")
    t0 = time.monotonic()
    assert line.transfer(phone.uri("limbo")) is False
    assert 1.4 < time.monotonic() - t0 < 3.5
    assert line.transfer_failure == "no final NOTIFY in 1.5 s"
    assert line.h.xfer_codes and all(c < 200 for c in line.h.xfer_codes)  # 202, «100 Trying»
    phone.wait_event("transfer", user="gina", target=phone.uri("limbo"))
    phone.wait_event("silent", user="limbo")
    assert not line.h.disconnected.is_set()  # the customer is still with the robot
    line.say(str(FALLBACK), barge_in=False)  # what the transfer state says on failure
    # the silent operator gives up: the customer's phone sends its final NOTIFY (480), late
    codes = list(line.h.xfer_codes)
    phone.wait_event("transfer_ended", user="gina", sip_code=480, timeout=LIMBO_S + 5)
    deadline = time.monotonic() + 5
    while "after the transfer was given up" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "NOTIFY 480" in caplog.text and "after the transfer was given up" in caplog.text
    assert line.h.xfer_codes == codes and not line.h.xfer_final.is_set()  # it changed nothing
    assert not line.h.disconnected.is_set()
    # no second REFER on a call whose first one was abandoned
    assert line.transfer(phone.uri("operator")) is False
    assert "abandoned" in line.transfer_failure
    line.hangup()
    ended = phone.wait_event("ended", user="gina")
    assert ended["remote_hangup"] is True  # the robot ended the call, as usual
    share = fallback_heard(ended)
    assert share >= 0.8, f"the customer heard {share:.0%} of the fallback"


SCENARIO_LIMBO = """\
name: transfer_limbo
description: Оператор не отвечает
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
  bye:
    hangup: true
    say: Всего доброго.
"""


def test_scenario_transfer_without_final_notify(
    engine: Engine, phone: SimPhoneProc, tmp_path: Path
) -> None:
    (tmp_path / "transfer_limbo.yaml").write_text(SCENARIO_LIMBO, encoding="utf-8")
    converse = ScenarioConversation(tmp_path, operator=phone.uri("limbo"), speech_available=False)
    settings = SETTINGS.model_copy(update={"transfer_timeout_s": 1.5})  # [telephony]
    t0 = time.monotonic()
    r = run_call(
        engine,
        scenario_request(phone.uri("hank"), "transfer_limbo", {}),
        settings=settings,
        converse=converse,
        synthesizer=espeak_synthesizer(),
    )
    assert time.monotonic() - t0 < 15
    assert r.outcome == "operator_requested", r  # as when the PBX refuses
    assert "transfer failed: no final NOTIFY in 1.5 s" in r.detail, r.detail
    assert "transferred" not in r.detail
    assert r.dtmf == "2"
    assert r.said[-1] == FALLBACK
    assert r.remote_hangup is False  # the robot hung up after the fallback
    phone.wait_event("transfer", user="hank", target=phone.uri("limbo"))
    ended = phone.wait_event("ended", user="hank")
    assert ended["remote_hangup"] is True
    share = fallback_heard(ended)
    assert share >= 0.8, f"the customer heard {share:.0%} of the fallback"
    # the silent operator's call ends by itself (frees the sim phone's call slots)
    phone.wait_event("transfer_ended", user="hank", sip_code=480, timeout=LIMBO_S + 5)

"""The shipped scenarios over a real SIP call on loopback: the robot (in-process pjsua2 engine,
espeak voice) runs `cuckoo.dialog.converse.converse` on SipLine; the simulated phone (its own
process) presses keys over RFC 2833 or hangs up. Keys pressed while the robot speaks answer
the question (barge-in)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from telephony_helpers import SimPhoneProc, scenario_request

from cuckoo.config.telephony import TelephonySettings
from cuckoo.dialog import load_named
from cuckoo.dialog.converse import ScenarioConversation
from cuckoo.line.leg import CallReport
from cuckoo.speech.tts import espeak_synthesizer
from cuckoo.telephony.calls import run_call
from cuckoo.telephony.engine import Engine, EngineConfig

pytestmark = [pytest.mark.sip, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "scenarios"
SETTINGS = TelephonySettings(
    bind_host="127.0.0.1", ring_timeout_s=3.0, setup_timeout_s=2.0, rtp_timeout_s=3.0, max_call_s=60
)


def keys(*presses: tuple[float, str]) -> dict[str, Any]:
    return {"dtmf": [{"at_s": at, "keys": k, "method": "rfc2833"} for at, k in presses]}


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
            "presses1": keys((1.0, "1")),
            "presses2": keys((1.0, "2")),
            "presses9": keys((1.0, "9")),
            "callback": keys((1.0, "2"), (1.5, "3")),
            "hangsup": {"hangup_after_s": 1.0},
        },
    }
    p = SimPhoneProc(script, tmp_path_factory.mktemp("dialog-sip"), name="dialog")
    yield p
    assert p.stop() == 0


def call(engine: Engine, phone: SimPhoneProc, user: str, scenario: str) -> CallReport:
    variables = load_named(SHIPPED, scenario).variables
    return run_call(
        engine,
        scenario_request(phone.uri(user), scenario, variables),  # Thursday, 10:00 in Moscow
        settings=SETTINGS,
        converse=ScenarioConversation(SHIPPED, speech_available=False),
        synthesizer=espeak_synthesizer(),
    )


@pytest.mark.parametrize(
    ("user", "scenario", "outcome", "dtmf"),
    [
        ("presses1", "documents_sent", "confirmed", "1"),
        ("presses2", "documents_sent", "declined", "2"),
        ("presses9", "payment_reminder", "opted_out", "9"),
        ("hangsup", "documents_sent", "no_answer", ""),  # hung up during the message
    ],
)
def test_scenario_over_sip(
    engine: Engine, phone: SimPhoneProc, user: str, scenario: str, outcome: str, dtmf: str
) -> None:
    r = call(engine, phone, user, scenario)
    assert r.outcome == outcome, r
    assert r.dtmf == dtmf
    assert r.said[0].startswith(("Пётр Николаевич, здравствуйте!", "Иван Петрович"))
    assert r.answered_at is not None
    assert r.path[0] == "message"  # the states the dialog went through, from the start


def test_callback_menu_over_sip(engine: Engine, phone: SimPhoneProc) -> None:
    r = call(engine, phone, "callback", "callback_offer")
    assert r.outcome == "callback_requested", r
    assert r.dtmf == "23"
    assert r.callback_at == datetime(2026, 11, 21, 7, 0, tzinfo=UTC)  # Saturday 10:00 in Moscow
    assert r.said[-1] == (
        "Хорошо, перезвоним послезавтра, в субботу, двадцать первого ноября, в десять часов. "
        "До свидания."
    )

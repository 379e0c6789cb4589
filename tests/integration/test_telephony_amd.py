"""Answering-machine detection over real SIP on loopback: the robot (in-process pjsua2, espeak
voice) runs the shipped documents_sent scenario; the simulated phone answers as a voicemail
service (a long Russian greeting from espeak-ng or Festival, then a beep) or as a person who
says «Алло?» and presses 1."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from amd_samples import VOICEMAIL_TEXTS, at_level, festival, have_festival, trim, write_wav
from early_samples import ASSISTANTS
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
SETTINGS = TelephonySettings(
    bind_host="127.0.0.1", ring_timeout_s=3.0, setup_timeout_s=2.0, rtp_timeout_s=3.0, max_call_s=40
)


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    e = Engine(EngineConfig(bind_host="127.0.0.1", rtp_timeout_s=3.0)).start()
    yield e
    e.stop()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("amd-sip")


@pytest.fixture(scope="module")
def scenarios(workdir: Path) -> Path:
    """The shipped scenarios, and documents_sent with `voicemail: leave_message` as
    documents_vm."""
    d = workdir / "scenarios"
    shutil.copytree(ROOT / "scenarios", d)
    text = (d / "documents_sent.yaml").read_text(encoding="utf-8")
    text = text.replace("name: documents_sent ", "name: documents_vm ", 1)
    text = text.replace("\nvoicemail: hangup", "\nvoicemail: leave_message", 1)
    (d / "documents_vm.yaml").write_text(text, encoding="utf-8")
    assert load_named(d, "documents_vm").voicemail == "leave_message"
    return d


@pytest.fixture(scope="module")
def phone(workdir: Path) -> Iterator[SimPhoneProc]:
    users: dict[str, Any] = {
        "voicemail": {"action": "voicemail", "answer_after_s": 0.2},
        "voicemail2": {"action": "voicemail", "answer_after_s": 0.2, "beep_hz": 1400},
        "human": {
            "action": "human",
            "say": "Алло?",
            "play_at_s": 0.3,
            "dtmf": [{"at_s": 4.0, "keys": "1", "method": "rfc2833"}],
        },
        # a carrier's voice assistant answering for the subscriber: a long fluent greeting,
        # no beep, then it waits
        "assistant": {
            "action": "voicemail",
            "answer_after_s": 0.2,
            "greeting": ASSISTANTS["pomoshnik"],
            "beep_s": 0,
        },
        # a person who talks at length, like a machine, but presses 1 while talking
        "talker": {
            "action": "human",
            "say": ASSISTANTS["pomoshnik"],
            "play_at_s": 0.3,
            "dtmf": [{"at_s": 2.0, "keys": "1", "method": "rfc2833"}],
        },
    }
    if have_festival():
        wav = write_wav(
            workdir / "festival-greeting.wav",
            at_level(trim(festival(VOICEMAIL_TEXTS["autoanswer"])), -20),
        )
        users["festival_vm"] = {"action": "voicemail", "play": str(wav), "beep_hz": 1000}
    p = SimPhoneProc({"default": {"action": "answer"}, "users": users}, workdir, name="amd")
    yield p
    assert p.stop() == 0


def call(engine: Engine, phone: SimPhoneProc, user: str, scenario: str, sdir: Path) -> CallReport:
    variables = load_named(sdir, scenario).variables
    return run_call(
        engine,
        scenario_request(phone.uri(user), scenario, variables),
        settings=SETTINGS,
        converse=ScenarioConversation(sdir, speech_available=False),
        synthesizer=espeak_synthesizer(),
    )


@pytest.mark.parametrize("user", ["voicemail", "voicemail2", "festival_vm"])
def test_voicemail_hangs_up_with_outcome_voicemail(
    engine: Engine, phone: SimPhoneProc, scenarios: Path, user: str
) -> None:
    if user == "festival_vm" and not have_festival():
        pytest.skip("festival is not installed")
    r = call(engine, phone, user, "documents_sent", scenarios)
    assert r.outcome == "voicemail", r
    assert r.amd.startswith("machine: ") and "answering machine" in r.detail
    assert r.dtmf == ""
    assert r.duration_s < 13  # hung up on the verdict, not after the whole dialog
    assert len(r.said) <= 3  # cut short: the message (and maybe the question) only


def test_voicemail_leave_message_speaks_after_the_beep(
    engine: Engine, phone: SimPhoneProc, scenarios: Path
) -> None:
    r = call(engine, phone, "voicemail", "documents_vm", scenarios)
    assert r.outcome == "voicemail", r
    assert r.detail.endswith("message left"), r.detail
    message = r.said[-1]
    assert message.startswith("Пётр Николаевич, здравствуйте!")
    n = max(e["n"] for e in phone.events() if e["event"] == "incoming")
    e = phone.wait_event("ended", timeout=10, user="voicemail", n=n)
    # the robot's voice came after the beep, promptly (it waits for the beep, then speaks)
    assert e["loud_after_beep_s"] is not None and e["loud_after_beep_s"] < 1.5, (e, r.detail)


def test_a_person_who_says_allo_and_presses_1_is_confirmed(
    engine: Engine, phone: SimPhoneProc, scenarios: Path
) -> None:
    r = call(engine, phone, "human", "documents_sent", scenarios)
    assert r.outcome == "confirmed", r
    assert r.dtmf == "1"
    assert not r.amd.startswith("machine"), r.amd


def test_a_carrier_voice_assistant_is_a_machine(
    engine: Engine, phone: SimPhoneProc, scenarios: Path
) -> None:
    r = call(engine, phone, "assistant", "documents_sent", scenarios)
    assert r.outcome == "voicemail", r
    assert r.amd.startswith("machine: "), r.amd


def test_a_key_pressed_during_a_long_greeting_means_a_person(
    engine: Engine, phone: SimPhoneProc, scenarios: Path
) -> None:
    r = call(engine, phone, "talker", "documents_sent", scenarios)
    assert r.outcome == "confirmed", r
    assert r.amd == "human: a key was pressed", r.amd

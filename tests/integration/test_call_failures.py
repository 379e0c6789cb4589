"""Our side fails, and no customer hears silence (issue 13, item 2). A real engine calls the
simulated phone over SIP on loopback with the real dialog (ScenarioConversation):

- the scenario is broken on disk after the notification was admitted: the call is not dialled,
  the attempt ends FAILED with the loader's words;
- the variables do not fit the scenario's texts: not dialled, INVALID_NUMBER (bad input);
- the voice fails after the answer (injected: espeak-ng refuses the phrase after the key, as
  Festival did on a 10 000-character name): the customer hears the apology, then a hang-up;
  the attempt ends FAILED with the reason, final for the retry policy.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from telephony_helpers import SimPhoneProc, matched_fraction, scenario_request

from cuckoo.config.telephony import TelephonySettings
from cuckoo.demo.rig import scenarios_dir as shipped_scenarios
from cuckoo.dialog.converse import ScenarioConversation
from cuckoo.domain import Outcome
from cuckoo.errors import TtsError
from cuckoo.line.audio import Audio
from cuckoo.speech.tts import VoiceSynthesizer, espeak_synthesizer
from cuckoo.telephony.calls import run_call
from cuckoo.telephony.engine import Engine, EngineConfig

pytestmark = pytest.mark.sip

SETTINGS = TelephonySettings(
    bind_host="127.0.0.1", ring_timeout_s=3.0, setup_timeout_s=2.0, max_call_s=40
)
VARIABLES = {
    "customer": {"first_name": "Пётр", "patronymic": "Николаевич"},
    "sent_date": "2026-02-07",
    "period": "декабрь",
    "company": "ООО «Ромашка»",
}


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    e = Engine(EngineConfig(bind_host="127.0.0.1", rtp_timeout_s=3.0)).start()
    yield e
    e.stop()


@pytest.fixture(scope="module")
def phone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimPhoneProc]:
    workdir = tmp_path_factory.mktemp("failures")
    script = {
        "default": {
            "action": "answer",
            "answer_after_s": 0.3,
            "record": str(workdir / "heard-{user}-{n}.wav"),
            "dtmf": [{"at_s": 2.0, "keys": "1", "method": "rfc2833"}],
        },
    }
    p = SimPhoneProc(script, workdir)
    yield p
    assert p.stop() == 0


@pytest.fixture
def scenarios(tmp_path: Path) -> Path:
    folder = tmp_path / "scenarios"
    shutil.copytree(shipped_scenarios(), folder)
    return folder


def incoming(phone: SimPhoneProc, user: str) -> int:
    return sum(e["event"] == "incoming" and e.get("user") == user for e in phone.events())


class VoiceFailingOn(VoiceSynthesizer):
    """espeak-ng that fails on phrases containing `word`: the fault injected into the voice."""

    def __init__(self, word: str) -> None:
        base = espeak_synthesizer()
        super().__init__(base.engine, base.profile)
        self.word = word

    def synthesize(self, text: str, *, rate: int = 8000) -> Audio:
        if self.word in text:
            raise TtsError(f"espeak-ng: cannot synthesize {text[:20]!r}…")
        return super().synthesize(text, rate=rate)


def test_a_scenario_broken_on_disk_is_not_dialled(
    engine: Engine, phone: SimPhoneProc, scenarios: Path
) -> None:
    doc = scenarios / "documents_sent.yaml"
    doc.write_text(doc.read_text("utf-8").replace("start: message", "start: nowhere"), "utf-8")
    request = scenario_request(phone.uri("broken"), "documents_sent", VARIABLES)
    report = run_call(
        engine,
        request,
        settings=SETTINGS,
        converse=ScenarioConversation(scenarios),
        synthesizer=espeak_synthesizer(),
    )
    assert report.outcome == Outcome.FAILED
    assert report.detail.startswith("not dialled: ") and "nowhere" in report.detail
    assert report.answered_at is None and report.sip_code is None
    assert incoming(phone, "broken") == 0


def test_variables_that_do_not_fit_are_not_dialled(
    engine: Engine, phone: SimPhoneProc, scenarios: Path
) -> None:
    without = {k: v for k, v in VARIABLES.items() if k != "period"}
    request = scenario_request(phone.uri("gaps"), "documents_sent", without)
    report = run_call(
        engine,
        request,
        settings=SETTINGS,
        converse=ScenarioConversation(scenarios),
        synthesizer=espeak_synthesizer(),
    )
    assert report.outcome == Outcome.INVALID_NUMBER
    assert report.detail.startswith("not dialled: bad input: ") and "period" in report.detail
    assert incoming(phone, "gaps") == 0


def test_a_voice_failing_after_the_answer_apologises_and_hangs_up(
    engine: Engine, phone: SimPhoneProc, scenarios: Path
) -> None:
    voice = VoiceFailingOn("Спасибо")  # the phrase after the customer's key
    request = scenario_request(phone.uri("answers"), "documents_sent", VARIABLES)
    report = run_call(
        engine,
        request,
        settings=SETTINGS,
        converse=ScenarioConversation(scenarios),
        synthesizer=voice,
    )
    assert report.outcome == Outcome.FAILED, report
    assert report.detail.startswith("after the answer: ") and "espeak-ng" in report.detail
    n = max(e["n"] for e in phone.events() if e.get("user") == "answers" and "n" in e)
    ended = phone.wait_event("ended", user="answers", n=n, timeout=15)
    heard = Audio.read_wav(ended["recording"]).samples().astype(np.float64)
    apology = espeak_synthesizer().synthesize(SETTINGS.apology).samples().astype(np.float64)
    share = matched_fraction(apology, heard)
    assert share >= 0.8, f"the customer did not hear the apology ({share:.0%} matched)"
    assert incoming(phone, "answers") == 1

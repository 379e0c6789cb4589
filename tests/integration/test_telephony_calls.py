"""The robot (an in-process pjsua2 engine) calls a real simulated phone (another process) on
loopback: every dial outcome, audio both ways checked by correlation, DTMF by all three
methods, hang-up both ways, the RTP watchdog and the call time limit."""

from __future__ import annotations

import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from telephony_helpers import SimPhoneProc, free_port, matched_fraction, pcm_of

from cuckoo.config.telephony import TelephonySettings
from cuckoo.domain import Outcome
from cuckoo.line import Expect, Line, ReplyKind
from cuckoo.line.audio import Audio
from cuckoo.line.leg import CallReport, CallRequest, Conversation, ConversationResult
from cuckoo.line.speech import Recognition
from cuckoo.speech.tts import VoiceSynthesizer, espeak_synthesizer
from cuckoo.telephony.calls import SayAndWait, run_call
from cuckoo.telephony.engine import Engine, EngineConfig

pytestmark = pytest.mark.sip

GREETING = "Здравствуйте! Ваши документы готовы. Нажмите один, чтобы подтвердить."
SETTINGS = TelephonySettings(
    bind_host="127.0.0.1",
    ring_timeout_s=2.0,
    setup_timeout_s=1.5,
    rtp_timeout_s=1.5,
    max_call_s=30,
)


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    # One Endpoint per process: every test in this module shares it.
    e = Engine(EngineConfig(bind_host="127.0.0.1", rtp_timeout_s=1.5)).start()
    yield e
    e.stop()


@pytest.fixture(scope="module")
def synth() -> VoiceSynthesizer:
    return espeak_synthesizer()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tel")


@pytest.fixture(scope="module")
def customer_wav(workdir: Path, synth: VoiceSynthesizer) -> Path:
    p = workdir / "customer.wav"
    synth.synthesize("Алло, да, я слушаю вас внимательно. Говорите пожалуйста.").write_wav(p)
    return p


@pytest.fixture(scope="module")
def phone(workdir: Path, customer_wav: Path) -> Iterator[SimPhoneProc]:
    rec = str(workdir / "heard-{user}-{n}.wav")
    script = {
        "default": {"action": "answer", "answer_after_s": 0.2},
        "users": {
            "busy": {"action": "busy"},
            "reject": {"action": "reject"},
            "ghost": {"action": "never"},
            "nobody": {"action": "code", "code": 404},
            "q850busy": {"action": "code", "code": 480, "q850": 17},
            "listener": {"answer_after_s": 0.3, "record": rec},
            "talker": {"play": str(customer_wav), "play_at_s": 0.5},
            # after the answering-machine check's greeting window (2.5 s): speech in it is the
            # customer's greeting and does not barge in
            "interrupter": {"play": str(customer_wav), "play_at_s": 3.0},
            "dtmf2833": {"dtmf": [{"at_s": 1.0, "keys": "5", "method": "rfc2833"}]},
            "dtmfinfo": {"dtmf": [{"at_s": 1.0, "keys": "7", "method": "info"}]},
            "dtmfinband": {"dtmf": [{"at_s": 1.0, "keys": "9", "method": "inband"}]},
            "multikey": {"dtmf": [{"at_s": 1.0, "keys": "42#", "method": "rfc2833"}]},
            "barge": {"dtmf": [{"at_s": 1.0, "keys": "1", "method": "rfc2833"}]},
            "hangsup": {"hangup_after_s": 1.0},
            "silent": {},
        },
    }
    p = SimPhoneProc(script, workdir)
    yield p
    assert p.stop() == 0


def _call(
    engine: Engine,
    uri: str,
    converse: Conversation | None = None,
    record_path: str | None = None,
    **kw: Any,
) -> CallReport:
    return run_call(
        engine,
        CallRequest(uri, record_path=record_path),
        settings=SETTINGS,
        converse=converse or SayAndWait(wait_dtmf_s=0),
        **kw,
    )


@pytest.mark.parametrize(
    ("user", "outcome", "code"),
    [
        ("busy", Outcome.BUSY, 486),
        ("reject", Outcome.REJECTED, 603),
        ("nobody", Outcome.INVALID_NUMBER, 404),
        ("q850busy", Outcome.BUSY, 480),  # Q.850 cause 17 (user busy) wins over 480
        ("ghost", Outcome.NO_ANSWER, 487),  # rings forever: our CANCEL after ring_timeout_s
    ],
)
def test_unanswered_outcomes(
    engine: Engine, phone: SimPhoneProc, user: str, outcome: Outcome, code: int
) -> None:
    r = _call(engine, phone.uri(user))
    assert r.outcome == outcome.value, r
    assert r.sip_code == code
    assert r.answered_at is None
    if user == "q850busy":
        assert r.q850 == 17


def test_nobody_listening_udp_is_network(engine: Engine) -> None:
    r = _call(engine, f"sip:x@127.0.0.1:{free_port()}")
    assert r.outcome == Outcome.NETWORK.value, r
    assert "no SIP response" in r.detail


def test_bad_uri_is_invalid_number(engine: Engine) -> None:
    r = _call(engine, "sip:@@not a uri")
    assert r.outcome == Outcome.INVALID_NUMBER.value, r


def test_robot_audio_reaches_the_customer(
    engine: Engine, phone: SimPhoneProc, synth: VoiceSynthesizer
) -> None:
    r = _call(engine, phone.uri("listener"), None, synthesizer=synth)
    assert r.outcome == Outcome.DELIVERED.value
    assert r.said == ()  # no text given: nothing said; now say something for real
    r = _call(engine, phone.uri("listener"), SayAndWait(GREETING, wait_dtmf_s=0), synthesizer=synth)
    assert r.outcome == Outcome.DELIVERED.value, r
    assert r.said == (GREETING,)
    assert r.codec == "PCMA/8000"  # our codec order, not pjsua's default speex/16000
    ended = phone.wait_event("ended", n=_last_n(phone, "listener"))
    heard = Audio.read_wav(ended["recording"])
    sent = synth.synthesize(GREETING).samples().astype(np.float64)
    share = matched_fraction(sent, heard.samples().astype(np.float64))
    assert share >= 0.8, f"customer heard something else ({share:.0%} of the speech matched)"


def test_customer_audio_reaches_the_robot(
    engine: Engine, phone: SimPhoneProc, customer_wav: Path, workdir: Path
) -> None:
    def listen_long(line: Line, request: CallRequest) -> ConversationResult:
        # long enough for the whole customer WAV (~4 s from 0.5 s), even on a busy machine
        line.listen(Expect(speech=False, no_speech_timeout_s=8.0))
        return ConversationResult(Outcome.DELIVERED)

    rec = workdir / "robot-rec.wav"
    r = _call(engine, phone.uri("talker"), listen_long, record_path=str(rec))
    assert r.outcome == Outcome.DELIVERED.value
    with wave.open(str(rec), "rb") as w:
        assert w.getnchannels() == 2
        stereo = pcm_of(w.readframes(w.getnframes())).reshape(-1, 2)
    sent = Audio.read_wav(customer_wav).resample(8000).samples().astype(np.float64)
    share = matched_fraction(sent, stereo[:, 1])
    assert share >= 0.8, f"robot heard something else ({share:.0%} of the speech matched)"
    # The robot's own channel holds no customer audio.
    assert matched_fraction(sent, stereo[:, 0] + 1e-3 * np.arange(len(stereo))) < 0.2


def _dtmf_converse(line: Line, request: CallRequest) -> ConversationResult:
    reply = line.listen(Expect(speech=False, max_digits=3, no_speech_timeout_s=6.0))
    return ConversationResult(Outcome.DELIVERED, dtmf=reply.digits)


@pytest.mark.parametrize(
    ("user", "digits"),
    [("dtmf2833", "5"), ("dtmfinfo", "7"), ("dtmfinband", "9"), ("multikey", "42")],
)
def test_dtmf_methods(engine: Engine, phone: SimPhoneProc, user: str, digits: str) -> None:
    r = _call(engine, phone.uri(user), _dtmf_converse)
    assert r.dtmf == digits, r


def test_dtmf_barges_in_on_a_prompt(
    engine: Engine, phone: SimPhoneProc, synth: VoiceSynthesizer
) -> None:
    seen: dict[str, Any] = {}

    def long_prompt(line: Line, request: CallRequest) -> ConversationResult:
        reply = line.say(GREETING + " " + GREETING)  # ~9 s; the key comes at 1 s
        seen["reply"] = reply
        return ConversationResult(Outcome.CONFIRMED, dtmf=reply.digits if reply else "")

    r = _call(engine, phone.uri("barge"), long_prompt, synthesizer=synth)
    assert seen["reply"] is not None and seen["reply"].kind == ReplyKind.DTMF
    assert r.dtmf == "1"
    assert r.duration_s < 6.0  # the prompt was cut short, not played to the end


def test_speech_barges_in_and_listen_gets_the_whole_utterance(
    engine: Engine, phone: SimPhoneProc, synth: VoiceSynthesizer, customer_wav: Path
) -> None:
    seen: dict[str, Any] = {}

    class Counting:
        """A recognizer stand-in that only measures how much customer audio it was fed."""

        def __init__(self) -> None:
            self.fed = 0

        def accept(self, pcm8k: bytes) -> None:
            self.fed += len(pcm8k)

        def finish(self) -> Recognition:
            return Recognition("", is_final=True)

    rec = Counting()

    def converse(line: Line, request: CallRequest) -> ConversationResult:
        t0 = time.monotonic()
        seen["reply"] = line.say(GREETING + " " + GREETING)  # ~9 s; the customer talks at 3 s
        seen["said_s"] = time.monotonic() - t0
        seen["listen"] = line.listen(Expect(no_speech_timeout_s=3.0, end_silence_s=0.8))
        return ConversationResult(Outcome.DELIVERED)

    r = _call(
        engine,
        phone.uri("interrupter"),
        converse,
        synthesizer=synth,
        recognizer_factory=lambda grammar: rec,
    )
    assert r.outcome == Outcome.DELIVERED.value
    assert seen["reply"] is not None and seen["reply"].kind == ReplyKind.SPEECH
    assert 2.9 < seen["said_s"] < 4.5  # cut at the customer's first word, not at the end
    # listen() got the utterance from its start (pre-roll kept across say → listen) to its end
    customer_s = Audio.read_wav(customer_wav).duration_s
    assert rec.fed / 2 / 8000 > customer_s - 0.5
    assert seen["listen"].kind in (ReplyKind.SILENCE, ReplyKind.SPEECH)


def test_customer_hangs_up_mid_message(
    engine: Engine, phone: SimPhoneProc, synth: VoiceSynthesizer
) -> None:
    r = _call(
        engine, phone.uri("hangsup"), SayAndWait(GREETING + " " + GREETING), synthesizer=synth
    )
    assert r.remote_hangup is True
    assert r.outcome == Outcome.REJECTED.value
    assert "hung up" in r.detail


def test_robot_hangs_up_and_the_phone_sees_it(engine: Engine, phone: SimPhoneProc) -> None:
    r = _call(engine, phone.uri("silent"))
    assert r.outcome == Outcome.DELIVERED.value
    ended = phone.wait_event("ended", n=_last_n(phone, "silent"))
    assert ended["remote_hangup"] is True


def test_silence_reply(engine: Engine, phone: SimPhoneProc) -> None:
    def ask(line: Line, request: CallRequest) -> ConversationResult:
        reply = line.listen(Expect(speech=False, no_speech_timeout_s=1.0))
        return ConversationResult(Outcome.DELIVERED, detail=reply.kind.value)

    r = _call(engine, phone.uri("silent"), ask)
    assert r.detail == "silence"


def test_max_call_duration(engine: Engine, phone: SimPhoneProc) -> None:
    def wait_forever(line: Line, request: CallRequest) -> ConversationResult:
        reply = line.listen(Expect(speech=False, no_speech_timeout_s=20.0))
        return ConversationResult(Outcome.DELIVERED, dtmf="", detail=reply.kind.value)

    short = SETTINGS.model_copy(update={"max_call_s": 1.5})
    r = run_call(engine, CallRequest(phone.uri("silent")), settings=short, converse=wait_forever)
    assert r.detail.startswith("hangup")
    assert "max duration" in r.detail
    assert r.duration_s < 5


def test_rtp_watchdog_catches_a_vanished_phone(engine: Engine, workdir: Path) -> None:
    p = SimPhoneProc({"default": {"answer_after_s": 0.1}}, workdir, name="vanish")

    def wait_long(line: Line, request: CallRequest) -> ConversationResult:
        p.wait_event("answered")
        p.kill()  # no BYE ever comes: only the missing RTP tells
        reply = line.listen(Expect(speech=False, no_speech_timeout_s=20.0))
        return ConversationResult(Outcome.DELIVERED, detail=reply.kind.value)

    r = _call(engine, p.uri("x"), wait_long)
    assert "rtp timeout" in r.detail, r
    assert r.duration_s < 10


def _last_n(phone: SimPhoneProc, user: str) -> int:
    return max(e["n"] for e in phone.events() if e["event"] == "incoming" and e["user"] == user)


def test_preloaded_greeting_starts_with_the_media_and_plays_once(
    engine: Engine, phone: SimPhoneProc, synth: VoiceSynthesizer, workdir: Path
) -> None:
    wav = workdir / "greeting.wav"
    synth.synthesize(GREETING).write_wav(wav)

    def converse(line: Line, request: CallRequest) -> ConversationResult:
        time.sleep(0.5)  # the dialog is slow to start: the greeting must not wait for it
        assert request.greeting_wav is not None
        reply = line.play(Audio.read_wav(request.greeting_wav))  # follows, no restart
        return ConversationResult(Outcome.DELIVERED, detail="" if reply is None else "cut")

    r = run_call(
        engine,
        CallRequest(phone.uri("listener"), greeting_wav=str(wav)),
        settings=SETTINGS,
        converse=converse,
    )
    assert r.outcome == Outcome.DELIVERED.value and r.detail == "", r
    assert 0 <= r.first_audio_s < 0.2  # from the first media frame, not after 0.5 s
    ended = phone.wait_event("ended", n=_last_n(phone, "listener"))
    heard = Audio.read_wav(ended["recording"]).samples().astype(np.float64)
    sent = Audio.read_wav(wav).samples().astype(np.float64)
    assert matched_fraction(sent, heard) >= 0.8
    frames = heard[: len(heard) // 160 * 160].reshape(-1, 160)
    loud_s = float((np.sqrt((frames**2).mean(axis=1)) > 300).sum()) * 0.02
    assert loud_s < 1.2 * Audio.read_wav(wav).duration_s  # heard once, not twice

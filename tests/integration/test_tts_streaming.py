"""Streamed speech over a real call (issue 16): RHVoice's first sentence is on the line while
the rest of a long text is still being synthesized, the customer hears what the whole-phrase
synthesis makes, the phrase is cached once complete, and a key press stops prompt and voice.
The robot is an in-process pjsua2 engine, the customer a `cuckoo sim-phone` process on
loopback; both skip where RHVoice or pjsua2 is missing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from telephony_helpers import SimPhoneProc, matched_fraction

from cuckoo.config import Config
from cuckoo.config.telephony import TelephonySettings
from cuckoo.domain import Outcome
from cuckoo.line import Line, ReplyKind
from cuckoo.line.audio import TELEPHONY_RATE, Audio
from cuckoo.line.leg import CallRequest, ConversationResult
from cuckoo.speech.tts import VoiceSynthesizer, build_synthesizer
from cuckoo.speech.tts.base import apply_volume, split_sentences
from cuckoo.speech.tts.rhvoice import MAX_CHARS, rhvoice_available
from cuckoo.telephony.calls import run_call
from cuckoo.telephony.engine import Engine, EngineConfig
from cuckoo.telephony.session import SipLine, SpeechFeed

pytestmark = [
    pytest.mark.sip,
    pytest.mark.skipif(
        rhvoice_available() is not None, reason=f"RHVoice missing: {rhvoice_available()}"
    ),
]

# Eight sentences, ~25 s of speech: the first is short, so it is ready long before the last.
LONG = (
    "Здравствуйте! Это компания Ромашка. Ваш заказ номер сто двадцать три готов к выдаче. "
    "Пункт выдачи работает с десяти до восемнадцати тридцати, без выходных. "
    "Заказ будет храниться пять дней, после чего вернётся на склад. "
    "Оплатить его можно картой или наличными при получении. "
    "Если вы хотите продлить хранение, нажмите один. "
    "Если вы хотите поговорить с оператором, нажмите ноль."
)
SETTINGS = TelephonySettings(
    bind_host="127.0.0.1", ring_timeout_s=2.0, setup_timeout_s=1.5, rtp_timeout_s=1.5, max_call_s=60
)


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    e = Engine(EngineConfig(bind_host="127.0.0.1", rtp_timeout_s=1.5)).start()
    yield e
    e.stop()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stream")


@pytest.fixture(scope="module")
def phone(workdir: Path) -> Iterator[SimPhoneProc]:
    script = {
        "default": {"action": "answer", "answer_after_s": 0.2},
        "users": {
            "listener": {"record": str(workdir / "heard-{user}-{n}.wav")},
            "barge": {"dtmf": [{"at_s": 1.5, "keys": "1", "method": "rfc2833"}]},
        },
    }
    p = SimPhoneProc(script, workdir)
    yield p
    assert p.stop() == 0


def voice(folder: Path) -> VoiceSynthesizer:
    """RHVoice aleksandr with an empty phrase cache in `folder`: every phrase is cold."""
    cfg = Config.model_validate({"var_dir": folder, "voices_dir": folder / "voices"})
    return build_synthesizer(cfg, "rhvoice-aleksandr")


def whole_phrase(synth: VoiceSynthesizer, text: str) -> Audio:
    """The phrase as it was made before streaming: the engine renders it all, then one
    resampling to the call's rate, then the profile's volume."""
    audio = synth.engine.render(synth.prepare(text), rate=TELEPHONY_RATE)
    return apply_volume(audio.resample(TELEPHONY_RATE), synth.profile.volume)


class Say:
    """Says one text and keeps what the line measured: when each piece was made, when the
    first frame of it went out."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.feed: SpeechFeed | None = None
        self.first_frame_at: float | None = None
        self.reply_kind = ""

    def __call__(self, line: Line, request: CallRequest) -> ConversationResult:
        assert isinstance(line, SipLine)
        reply = line.say(self.text)
        self.feed = line.last_feed
        self.first_frame_at = line.h.player.first_frame_at
        self.reply_kind = reply.kind.value if reply is not None else ""
        return ConversationResult(Outcome.DELIVERED, said=(self.text,))


def _last_n(phone: SimPhoneProc, user: str) -> int:
    return max(e["n"] for e in phone.events() if e["event"] == "incoming" and e["user"] == user)


def test_first_sentence_plays_while_the_rest_is_synthesized(
    engine: Engine, phone: SimPhoneProc, tmp_path: Path
) -> None:
    synth = voice(tmp_path / "var")
    sentences = split_sentences(synth.prepare(LONG), MAX_CHARS, merge=False)
    assert len(sentences) == 8
    say = Say(LONG)
    r = run_call(
        engine, CallRequest(phone.uri("listener")), settings=SETTINGS, converse=say,
        synthesizer=synth,
    )  # fmt: skip
    assert r.outcome == Outcome.DELIVERED.value and say.reply_kind == "", r
    feed = say.feed
    assert feed is not None and feed.finished.is_set() and feed.error is None
    # One piece per sentence (and the resampler's tail), each made as soon as it could be.
    assert len(feed.ready_at) >= len(sentences)
    assert say.first_frame_at is not None
    # The customer heard the first sentence before the voice had made the last one: the
    # first frame went out while the producer was still synthesizing.
    assert feed.started_at < feed.ready_at[0] <= say.first_frame_at < feed.ready_at[-2], (
        f"first frame {say.first_frame_at - feed.started_at:.3f} s after say(), "
        f"last sentence made at {feed.ready_at[-2] - feed.started_at:.3f} s"
    )
    # What was heard is what the whole-phrase synthesis makes.
    reference = whole_phrase(synth, LONG)
    ended = phone.wait_event("ended", n=_last_n(phone, "listener"), timeout=60)
    heard = Audio.read_wav(ended["recording"]).samples().astype(np.float64)
    share = matched_fraction(reference.samples().astype(np.float64), heard)
    assert share >= 0.8, f"the customer heard something else ({share:.0%} matched)"
    # Cached once complete, sample for sample the whole-phrase synthesis.
    assert synth.cache is not None
    cached = synth.cache.get(synth.key(LONG, TELEPHONY_RATE))
    assert cached is not None and len(cached.pcm) == len(reference.pcm)
    assert np.abs(cached.samples().astype(int) - reference.samples().astype(int)).max() <= 1
    # The next time it is one piece, at once, from the cache.
    again = list(synth.stream(LONG, rate=TELEPHONY_RATE))
    assert again == [cached] and synth.hits == 1


def test_a_key_stops_the_streamed_prompt(
    engine: Engine, phone: SimPhoneProc, tmp_path: Path
) -> None:
    synth = voice(tmp_path / "var")
    say = Say(LONG)
    r = run_call(
        engine, CallRequest(phone.uri("barge")), settings=SETTINGS, converse=say,
        synthesizer=synth,
    )  # fmt: skip
    assert say.reply_kind == ReplyKind.DTMF.value, r
    feed = say.feed
    assert feed is not None and feed.finished.is_set()  # the producer is done, not left running
    assert r.duration_s is not None and r.duration_s < 10  # the 25 s text was cut at the key
    # Cached only if the voice had made all of it before the key (RHVoice is fast): then it
    # is the whole phrase, never a part.
    assert synth.cache is not None
    cached = synth.cache.get(synth.key(LONG, TELEPHONY_RATE))
    if cached is not None:
        assert len(cached.pcm) == len(whole_phrase(synth, LONG).pcm)

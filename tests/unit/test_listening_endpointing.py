"""UtteranceListener endpointing on synthetic 8 kHz frames (silence, tone, noise) with a scripted
fake recognizer. Pure logic: time is the audio fed, so every boundary is exact."""

from __future__ import annotations

import numpy as np
import pytest

from cuckoo.line.endpointing import (
    FRAME_BYTES,
    ListenEvent,
    UtteranceListener,
    frame_rms,
)
from cuckoo.line.speech import Recognition

RATE = 8000
FRAME = 160


def silence(seconds: float) -> bytes:
    return np.zeros(round(seconds * RATE), dtype="<i2").tobytes()


def tone(seconds: float, amp: float = 3000.0, hz: float = 300.0) -> bytes:
    t = np.arange(round(seconds * RATE)) / RATE
    return (amp * np.sin(2 * np.pi * hz * t)).astype("<i2").tobytes()


def noise(seconds: float, rms: float = 60.0, seed: int = 1) -> bytes:
    rng = np.random.default_rng(seed)
    return (rng.normal(0, rms, round(seconds * RATE))).astype("<i2").tobytes()


def frames(pcm: bytes) -> list[bytes]:
    return [pcm[i : i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES)]


class ScriptedRecognizer:
    """Returns a scripted Recognition at given frame numbers (1-based) and a fixed final."""

    def __init__(self, script: dict[int, Recognition], final: Recognition) -> None:
        self.script = script
        self.final = final
        self.fed = 0
        self.finished = 0

    def accept(self, pcm8k: bytes) -> Recognition | None:
        self.fed += len(pcm8k) // 2
        return self.script.get(self.fed // FRAME)

    def finish(self) -> Recognition:
        self.finished += 1
        return self.final


def run(listener: UtteranceListener, pcm: bytes) -> list[tuple[float, ListenEvent]]:
    """Feed in 20 ms frames; return (time of the frame that produced it, event)."""
    out: list[tuple[float, ListenEvent]] = []
    for i, f in enumerate(frames(pcm), start=1):
        ev = listener.feed(f)
        if ev is not None:
            out.append((round(i * 0.02, 2), ev))
    while (ev := listener.feed(b"")) is not None:
        out.append((-1.0, ev))
    return out


def make(rec=None, **kw) -> UtteranceListener:
    opts = {"no_speech_timeout_s": 3.0, "end_silence_s": 0.8, "max_utterance_s": 5.0}
    opts.update(kw)
    return UtteranceListener(rec, **opts)


def test_frame_rms_values() -> None:
    assert frame_rms(b"") == 0.0
    assert frame_rms(silence(0.02)) == 0.0
    assert frame_rms(tone(0.02, amp=1000)) == pytest.approx(1000 / np.sqrt(2), rel=0.02)


@pytest.mark.parametrize(
    ("audio", "expected"),
    [
        # plain silence: no_speech exactly at the timeout
        (silence(5.0), [(3.0, "no_speech")]),
        # quiet line hiss is not speech
        (noise(5.0, rms=60), [(3.0, "no_speech")]),
        # a 40 ms click (2 frames) is shorter than min_speech (3 frames)
        (silence(1.0) + tone(0.04) + silence(4.0), [(3.0, "no_speech")]),
        # speech at 1.0 s, start confirmed on the 3rd loud frame; end after 0.8 s of silence
        (silence(1.0) + tone(0.5) + silence(2.0), [(1.06, "speech_start"), (2.3, "final")]),
        # a pause shorter than end_silence does not split the utterance
        (
            silence(0.5) + tone(0.3) + silence(0.6) + tone(0.3) + silence(2.0),
            [(0.56, "speech_start"), (2.5, "final")],
        ),
        # talking without pause is cut at max_utterance (5 s from the start frame)
        (silence(0.2) + tone(8.0), [(0.26, "speech_start"), (5.26, "final")]),
        # speech starting after the no-speech timeout is too late
        (silence(3.5) + tone(1.0), [(3.0, "no_speech")]),
    ],
)
def test_vad_only_timeline(audio: bytes, expected: list[tuple[float, str]]) -> None:
    got = run(make(), audio)
    assert [(t, e.kind) for t, e in got] == expected
    assert all(e.text == "" for _, e in got)


def test_terminal_event_stops_processing() -> None:
    lis = make()
    run(lis, silence(3.0))
    assert lis.done
    assert lis.feed(tone(1.0)) is None
    assert lis.elapsed_s == pytest.approx(3.0)


def test_energy_threshold_is_configurable() -> None:
    quiet_speech = silence(0.5) + tone(1.0, amp=400) + silence(3.0)
    assert [e.kind for _, e in run(make(), quiet_speech)] == ["no_speech"]
    got = run(make(energy_threshold=200.0), quiet_speech)
    assert [e.kind for _, e in got] == ["speech_start", "final"]


def test_partials_start_speech_and_final_text_comes_from_finish() -> None:
    # Quiet audio the VAD cannot hear, but the recognizer hears words.
    rec = ScriptedRecognizer(
        {
            50: Recognition("да", False),
            60: Recognition("да", False),  # unchanged partial: no event
            70: Recognition("да конечно", False),
        },
        final=Recognition("да конечно", True, 0.9),
    )
    got = run(make(rec), silence(4.0))
    assert got == [
        (1.0, ListenEvent("speech_start", "да")),
        (1.4, ListenEvent("partial", "да конечно")),
        # last activity = frame 70 (1.4 s) + 0.8 s of silence
        (2.2, ListenEvent("final", "да конечно", 0.9)),
    ]
    assert rec.finished == 1


def test_recognizer_sees_all_audio_until_the_end() -> None:
    rec = ScriptedRecognizer({}, final=Recognition("", True))
    lis = make(rec)
    run(lis, silence(1.0) + tone(0.5) + silence(2.0))
    # ended at 2.3 s: everything up to the end was fed to the recognizer
    assert rec.fed == round(2.3 * RATE)
    assert rec.finished == 1


def test_recognizer_finals_midway_are_joined() -> None:
    # Vosk's own endpointer can emit a final inside our utterance; nothing is lost.
    rec = ScriptedRecognizer(
        {60: Recognition("завтра", True, 0.8)},
        final=Recognition("в десять", True, 0.95),
    )
    got = run(make(rec), silence(1.0) + tone(0.5) + silence(0.4) + tone(0.5) + silence(2.0))
    assert [e.kind for _, e in got] == ["speech_start", "final"]
    assert got[-1][1] == ListenEvent("final", "завтра в десять", 0.8)


def test_empty_final_after_noise_burst() -> None:
    rec = ScriptedRecognizer({}, final=Recognition("", True, 0.0))
    got = run(make(rec), silence(0.3) + noise(0.3, rms=3000) + silence(2.0))
    assert [(e.kind, e.text) for _, e in got] == [("speech_start", ""), ("final", "")]


def test_no_speech_with_recognizer_does_not_call_finish() -> None:
    rec = ScriptedRecognizer({}, final=Recognition("x", True))
    got = run(make(rec, no_speech_timeout_s=1.0), silence(2.0))
    assert [(t, e.kind) for t, e in got] == [(1.0, "no_speech")]
    assert rec.finished == 0


def test_one_big_chunk_queues_events() -> None:
    lis = make()
    first = lis.feed(silence(1.0) + tone(0.5) + silence(2.0))
    assert first == ListenEvent("speech_start")
    assert lis.feed(b"") == ListenEvent("final")
    assert lis.feed(b"") is None
    assert lis.done


def test_odd_chunk_sizes_give_the_same_timeline() -> None:
    audio = silence(1.0) + tone(0.5) + silence(2.0)
    lis = make()
    kinds: list[str] = []
    for i in range(0, len(audio), 202):  # 101 samples: not a frame multiple, odd sized
        ev = lis.feed(audio[i : i + 202])
        if ev:
            kinds.append(ev.kind)
    assert kinds == ["speech_start", "final"]
    assert lis.elapsed_s == pytest.approx(2.3)


@pytest.mark.parametrize("bad", ["no_speech_timeout_s", "end_silence_s", "max_utterance_s"])
def test_rejects_non_positive_timeouts(bad: str) -> None:
    with pytest.raises(ValueError):
        make(**{bad: 0})

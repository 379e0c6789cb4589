"""Endpointing for one listening turn: pure logic over a StreamingRecognizer.

The telephony side feeds 8 kHz int16 audio as it arrives; the listener answers with events:

- ``speech_start`` — the caller started talking (energy VAD or a non-empty recognizer partial);
  the dialog uses it for barge-in (stop the prompt).
- ``partial`` — the recognizer's partial text changed (after speech started).
- ``final`` — the utterance ended (``end_silence_s`` of silence after speech, or
  ``max_utterance_s`` of speech); ``text`` is the recognizer's final transcript ("" without a
  recognizer, i.e. on DTMF-only lines the event just marks the end of speech).
- ``no_speech`` — nothing was said within ``no_speech_timeout_s``.

``final`` and ``no_speech`` are terminal: later feeds return None. Time is the amount of audio fed,
never the wall clock, so the logic is deterministic and testable with synthetic frames.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal

import numpy as np

from cuckoo.line.speech import Recognition, StreamingRecognizer

RATE = 8000
FRAME_SAMPLES = 160  # 20 ms at 8 kHz: the VAD decision unit
FRAME_BYTES = FRAME_SAMPLES * 2
FRAME_S = FRAME_SAMPLES / RATE

# RMS of int16 samples. Telephone speech sits around 1000-5000, line hiss well under 200.
DEFAULT_ENERGY_THRESHOLD = 500.0

EventKind = Literal["speech_start", "partial", "final", "no_speech"]


@dataclass(frozen=True)
class ListenEvent:
    kind: EventKind
    text: str = ""
    confidence: float = 0.0


def frame_rms(frame: bytes) -> float:
    """Root mean square of int16 LE samples (0.0 for an empty frame)."""
    if len(frame) < 2:
        return 0.0
    x = np.frombuffer(frame[: len(frame) // 2 * 2], dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(x * x)))


class UtteranceListener:
    """Feed 8 kHz int16 mono audio in chunks of any size; get at most one event per feed.

    If one chunk produces several events (e.g. a long chunk holding both the start and the end
    of speech) they are queued and returned by the following feeds; ``feed(b"")`` drains them.
    """

    def __init__(
        self,
        recognizer: StreamingRecognizer | None,
        *,
        no_speech_timeout_s: float,
        end_silence_s: float,
        max_utterance_s: float,
        energy_threshold: float = DEFAULT_ENERGY_THRESHOLD,
        min_speech_s: float = 0.06,
    ) -> None:
        if no_speech_timeout_s <= 0 or end_silence_s <= 0 or max_utterance_s <= 0:
            raise ValueError("listener timeouts must be positive")
        self._rec = recognizer
        self._no_speech_frames = _frames(no_speech_timeout_s)
        self._end_silence_frames = _frames(end_silence_s)
        self._max_utt_frames = _frames(max_utterance_s)
        self._threshold = energy_threshold
        # Consecutive loud frames needed to call it speech: a click or a DTMF blip is shorter.
        self._min_speech_frames = max(1, _frames(min_speech_s))

        self._buf = b""
        self._frames_fed = 0
        self._loud_run = 0
        self._speech_started_at: int | None = None
        self._last_activity = 0
        self._partial = ""
        self._finals: list[Recognition] = []
        self._pending: deque[ListenEvent] = deque()
        self._done = False

    @property
    def done(self) -> bool:
        """A terminal event (final / no_speech) has been produced."""
        return self._done

    @property
    def speech_started(self) -> bool:
        return self._speech_started_at is not None

    @property
    def elapsed_s(self) -> float:
        """Audio fed so far, in seconds (whole 20 ms frames)."""
        return self._frames_fed * FRAME_S

    def feed(self, pcm8k: bytes) -> ListenEvent | None:
        if not self._done:
            self._buf += pcm8k
            while len(self._buf) >= FRAME_BYTES and not self._done:
                frame, self._buf = self._buf[:FRAME_BYTES], self._buf[FRAME_BYTES:]
                self._step(frame)
        return self._pending.popleft() if self._pending else None

    def _step(self, frame: bytes) -> None:
        self._frames_fed += 1
        now = self._frames_fed
        loud = frame_rms(frame) >= self._threshold
        self._loud_run = self._loud_run + 1 if loud else 0

        partial_changed = False
        if self._rec is not None:
            r = self._rec.accept(frame)
            if r is not None:
                if r.is_final:
                    # The recognizer's own endpointer fired; keep the text, we decide the end.
                    if r.text.strip():
                        self._finals.append(r)
                    self._partial = ""
                elif r.text.strip() and r.text != self._partial:
                    self._partial = r.text
                    partial_changed = True

        if self._speech_started_at is None:
            by_vad = self._loud_run >= self._min_speech_frames
            if by_vad or partial_changed or self._finals:
                self._speech_started_at = now
                self._last_activity = now
                self._pending.append(ListenEvent("speech_start", self._partial))
            elif now >= self._no_speech_frames:
                self._finish(ListenEvent("no_speech"))
            return

        if loud or partial_changed:
            self._last_activity = now
        if partial_changed:
            self._pending.append(ListenEvent("partial", self._partial))
        if (
            now - self._last_activity >= self._end_silence_frames
            or now - self._speech_started_at >= self._max_utt_frames
        ):
            self._finish(self._final_event())

    def _final_event(self) -> ListenEvent:
        results = list(self._finals)
        if self._rec is not None:
            last = self._rec.finish()
            if last.text.strip():
                results.append(last)
        if not results:
            return ListenEvent("final")
        text = " ".join(r.text.strip() for r in results)
        confidence = min(r.confidence for r in results)
        return ListenEvent("final", text, confidence)

    def _finish(self, event: ListenEvent) -> None:
        self._pending.append(event)
        self._done = True
        self._buf = b""


def _frames(seconds: float) -> int:
    return max(1, round(seconds / FRAME_S))

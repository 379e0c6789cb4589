"""The speech seams: telephony and dialog depend on these protocols, never on an engine."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from cuckoo.line.audio import Audio


class Synthesizer(Protocol):
    def synthesize(self, text: str, *, rate: int = 8000) -> Audio:
        """Normalized, lexicon-applied, cached speech for `text` at `rate` Hz."""
        ...


@runtime_checkable
class StreamingSynthesizer(Synthesizer, Protocol):
    """A Synthesizer that can hand its speech over while it is still being made, so a call
    plays the first sentence while the next ones are synthesized."""

    def stream(
        self, text: str, *, rate: int = 8000, stop: Callable[[], bool] | None = None
    ) -> Iterator[Audio]:
        """The speech of `synthesize(text, rate=rate)` in consecutive pieces at `rate` Hz, the
        first as early as the voice allows; joined they are that phrase. `stop()` True ends
        the synthesis early (a barge-in): what was made is not cached."""
        ...


def speech_chunks(
    synthesizer: Synthesizer,
    text: str,
    *,
    rate: int = 8000,
    stop: Callable[[], bool] | None = None,
) -> Generator[Audio, None, None]:
    """`synthesizer.stream(...)` when it streams; else the whole phrase at once (a voice that
    cannot stream, a test's stand-in)."""
    if isinstance(synthesizer, StreamingSynthesizer):
        yield from synthesizer.stream(text, rate=rate, stop=stop)
    else:
        yield synthesizer.synthesize(text, rate=rate)


@dataclass(frozen=True)
class Recognition:
    text: str
    is_final: bool
    confidence: float = 0.0


class StreamingRecognizer(Protocol):
    """One per call. Fed 8 kHz int16 frames as they arrive."""

    def accept(self, pcm8k: bytes) -> Recognition | None:
        """Feed audio; returns a partial or final result when there is one."""
        ...

    def finish(self) -> Recognition:
        """Flush: the final result of what was fed since the last final."""
        ...


class RecognizerFactory(Protocol):
    def __call__(self, grammar: list[str] | None) -> StreamingRecognizer: ...


class SpeechSetup(Protocol):
    """Builds a call worker's synthesizer and recognizer factory inside the worker process
    (voice and speech models load there, not in the scheduler's process). Picklable: it is
    sent to the worker once, when it starts."""

    def __call__(self) -> tuple[Synthesizer | None, RecognizerFactory | None]: ...

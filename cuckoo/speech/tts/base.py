"""What every TTS engine provides, and the text clean-up they share."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from typing import Protocol, runtime_checkable

import numpy as np

from cuckoo.errors import TtsError
from cuckoo.line.audio import Audio


class Engine(Protocol):
    """One loaded voice. `render` returns audio at the engine's native rate (or at `rate` when
    the engine can produce it directly); the caller resamples."""

    name: str  # "silero" | "rhvoice" | "festival" | "espeak"
    native_rate: int  # what the voice sounds best at (for files)

    def render(self, text: str, *, rate: int) -> Audio: ...

    def close(self) -> None: ...


@runtime_checkable
class StreamingEngine(Engine, Protocol):
    """An engine that hands its audio over as it synthesizes (RHVoice: sentence by sentence)."""

    def stream(self, text: str, *, stop: Callable[[], bool] | None = None) -> Iterator[Audio]:
        """`render(text)` in consecutive pieces at one rate, first sentence first; `stop()` True
        ends it early (the last piece may then be cut short)."""
        ...


_STRESS = re.compile(r"\+(?=[аеёиоуыэюяАЕЁИОУЫЭЮЯaeiouyAEIOUY])")


def strip_stress(text: str) -> str:
    """Drop "+" stress marks for engines that would read them aloud."""
    return _STRESS.sub("", text)


_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def split_sentences(text: str, max_chars: int, *, merge: bool = True) -> list[str]:
    """Split at sentence ends into pieces of at most `max_chars` (a sentence longer than that is
    split at commas, then at spaces). Engines with an input limit synthesize piece by piece;
    `merge=False` keeps one piece per sentence (a streaming engine plays the first one early)."""
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(text.strip()):
        if not sentence:
            continue
        if len(sentence) <= max_chars:
            pieces.append(sentence)
            continue
        pieces.extend(_split_long(sentence, max_chars))
    if not merge:
        return pieces
    # Merge short neighbours back so the engine gets natural chunks, not one sentence each.
    merged: list[str] = []
    for p in pieces:
        if merged and len(merged[-1]) + 1 + len(p) <= max_chars:
            merged[-1] = merged[-1] + " " + p
        else:
            merged.append(p)
    return merged


def _split_long(sentence: str, max_chars: int) -> list[str]:
    out: list[str] = []
    current = ""
    for token in re.split(r"(?<=,)\s+|\s+", sentence):
        while len(token) > max_chars:  # a single monster word: hard cut
            if current:
                out.append(current)
                current = ""
            out.append(token[:max_chars])
            token = token[max_chars:]
        if not current:
            current = token
        elif len(current) + 1 + len(token) <= max_chars:
            current += " " + token
        else:
            out.append(current)
            current = token
    if current:
        out.append(current)
    return out


def apply_volume(audio: Audio, gain: float) -> Audio:
    if gain == 1.0 or not audio.pcm:
        return audio
    return Audio.from_samples(audio.samples().astype(np.float64) * gain, audio.rate)


def concat(parts: list[Audio], rate: int, gap_s: float = 0.0) -> Audio:
    """Join pieces (all at `rate`) with `gap_s` of silence between them."""
    gap = b"\x00\x00" * round(gap_s * rate)
    return Audio(gap.join(p.pcm for p in parts), rate)


def time_stretch(audio: Audio, tempo: float) -> Audio:
    """Faster (>1) or slower (<1) speech at the same pitch, with sox's `tempo` effect."""
    if tempo == 1.0 or not audio.pcm:
        return audio
    sox = shutil.which("sox")
    if sox is None:
        raise TtsError("tempo other than 1.0 needs sox for this engine (apt-get install sox)")
    raw = ["-t", "raw", "-e", "signed-integer", "-b", "16", "-c", "1", "-r", str(audio.rate)]
    proc = subprocess.run(
        [sox, *raw, "-", *raw, "-", "tempo", "-s", f"{tempo:.3f}"],
        input=audio.pcm,
        capture_output=True,
        timeout=60,
    )
    if proc.returncode != 0:
        raise TtsError(f"sox tempo failed: {proc.stderr.decode('utf-8', 'replace').strip()}")
    return Audio(proc.stdout, audio.rate)

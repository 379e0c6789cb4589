"""Does the robot name the company soon enough? Pure: texts and a speaking rate in, seconds out.

A 2026 bill wants a robot to identify itself within the first 5 s of a call. `cuckoo check`
renders each scenario's opening (what is said before the first question, with the scenario's
sample variables), normalizes it as the voice will read it, and estimates when the company's
name has been said: vowels (≈ syllables) up to the end of the name, over the voice's rate.

Rates measured on this machine at tempo 1.0, pauses included, over three openings of the
shipped scenarios (benchmarks of 2026-12-04): RHVoice aleksandr 3.85 vowels/s, Festival
festvox-ru 3.9, espeak-ng 4.57. Silero was not measurable here (no weights): 4.0 assumed.
A profile's `tempo` scales them.
"""

from __future__ import annotations

import re

__all__ = ["IDENTIFY_WITHIN_S", "VOWELS_PER_S", "seconds_until_named", "spoken_rate"]

IDENTIFY_WITHIN_S = 5.0
VOWELS_PER_S: dict[str, float] = {"rhvoice": 3.85, "festival": 3.9, "espeak": 4.57, "silero": 4.0}
_VOWELS = set("аеёиоуыэюяaeiouy")
_NOT_WORD = re.compile(r"[^\w\s]+")


def spoken_rate(engine: str, tempo: float) -> float:
    """Vowels a second for this engine at this tempo."""
    return VOWELS_PER_S.get(engine, 4.0) * tempo


def _plain(text: str) -> str:
    return " ".join(_NOT_WORD.sub(" ", text.lower().replace("ё", "е").replace("+", "")).split())


def seconds_until_named(spoken: str, name: str, vowels_per_s: float) -> float | None:
    """Seconds of speech until `name` has been said in `spoken` (as the voice reads it), or
    None when it is not said at all."""
    text, wanted = _plain(spoken), _plain(name)
    if not wanted:
        return None
    at = re.search(rf"(?<!\w){re.escape(wanted)}(?!\w)", text)
    if at is None:
        return None
    vowels = sum(ch in _VOWELS for ch in text[: at.end()])
    return vowels / vowels_per_s

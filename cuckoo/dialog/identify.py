"""Does the robot name the company soon enough? Pure: texts and a speaking rate in, seconds out.

A 2026 bill wants a robot to identify itself within the first 5 s of a call. `cuckoo check`
renders each scenario's opening (what is said before the first question, with the scenario's
sample variables), normalizes it as the voice will read it, and estimates when the company's
name has been said: vowels (≈ syllables) up to the end of the name, over the voice's rate.

Rates measured on this machine at tempo 1.0, pauses included, over three openings of the
shipped scenarios (benchmarks of 2026-12-04): RHVoice aleksandr 3.85 vowels/s, Festival
festvox-ru 3.9, espeak-ng 4.57. Silero was not measurable here (no weights): 4.0 assumed.
A profile's `tempo` scales them.

A hybrid `say:` plays recordings between its texts: a recording played before the name delays
it by its own length (`opening_timeline` keeps each recording's seconds in its place; a name
said inside a recording is not heard by this check).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from cuckoo.dialog.converse import opening_timeline

__all__ = [
    "IDENTIFY_WITHIN_S",
    "VOWELS_PER_S",
    "opening_timeline",
    "seconds_until_named",
    "seconds_until_named_in",
    "spoken_rate",
]

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


def seconds_until_named_in(
    timeline: Sequence[str | float], name: str, vowels_per_s: float
) -> float | None:
    """`seconds_until_named` over an opening of texts (as the voice reads them) and recordings
    (their seconds, a float each, in their place): the texts between two recordings are read
    as one, and every recording before the name adds its length. None when no text names it."""
    elapsed = 0.0
    texts: list[str] = []
    for part in [*timeline, 0.0]:  # the trailing 0.0 ends the last run of texts
        if isinstance(part, str):
            texts.append(part)
            continue
        if texts:
            spoken = " ".join(texts)
            at = seconds_until_named(spoken, name, vowels_per_s)
            if at is not None:
                return elapsed + at
            elapsed += sum(ch in _VOWELS for ch in _plain(spoken)) / vowels_per_s
            texts = []
        elapsed += part
    return None

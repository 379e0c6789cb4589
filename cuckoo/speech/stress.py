"""Stress marks where the voice needs them: `+` before the stressed vowel («Ир+ина Серг+еевна»).

RHVoice and Silero read a "+" as the stress; without one they guess, and they guess wrong most
often on names, patronymics, surnames and homographs («зам+ок» / «з+амок», «ст+оит» /
«сто+ит»). silero-stress (PyPI, MIT, its weights inside the wheel, on torch) places stress for
a whole sentence, homographs by their context. A voice profile's `stress` says how much of that
is kept:

- "off": nothing (Festival and espeak-ng read no marks);
- "names": names, patronymics, surnames, other capitalized words inside a sentence (a company,
  a street) and homographs; the voice's own stress elsewhere (RHVoice is right on ordinary
  words, and a wrong guess on an unknown word would override a right one);
- "all": every word of more than one vowel (silero-v5-cis places no stress by itself).

The lexicon still wins: a word that has a mark already (voices/lexicon.toml) is left as it is.
Which words keep their marks is pure (`keep_marks`); `SileroStress` is the model behind it,
loaded once per process on first use (about 6 s and 300 MB beside torch).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Collection
from typing import Any, Literal

from cuckoo.speech.nlu.lemmas import grammemes

__all__ = [
    "SileroStress",
    "StressMode",
    "is_name",
    "keep_marks",
    "stress_available",
]

log = logging.getLogger(__name__)

StressMode = Literal["off", "names", "all"]

_WORD = re.compile(r"[А-Яа-яЁё+]+(?:-[А-Яа-яЁё+]+)*")
_SENTENCE_END = re.compile(r"[.!?…]\s*$")
_NAME_GRAMMEMES = frozenset({"Name", "Surn", "Patr"})
# Capitalized inside a sentence, yet not a name: the polite «Вы» of a letter.
_POLITE = frozenset({"вы", "вас", "вам", "вами", "ваш", "ваша", "ваше", "ваши", "вашего",
                     "вашей", "вашему", "вашим", "вашими", "вашу", "ваших", "вашем"})  # fmt: skip


def _plain(word: str) -> str:
    return word.replace("+", "").lower().replace("ё", "е")


def is_name(word: str, sentence_start: bool) -> bool:
    """A name, patronymic or surname by the morphological dictionary, or a capitalized word
    inside a sentence (a company, a street, a surname the dictionary does not know)."""
    plain = word.replace("+", "")
    if _NAME_GRAMMEMES & grammemes(plain.lower()):
        return True
    return plain[:1].isupper() and not sentence_start and plain.lower() not in _POLITE


def keep_marks(
    original: str, marked: str, mode: StressMode, homographs: Collection[str] = ()
) -> str:
    """`original` with the stress marks of `marked` (the placer's output for it) kept on the
    words `mode` asks for. Words are matched in order, ignoring marks, case and ё; a word the
    placer changed beyond that keeps its original spelling."""
    if mode == "off":
        return original
    placed = iter(_WORD.findall(marked))
    out: list[str] = []
    last = 0
    for m in _WORD.finditer(original):
        word = m.group(0)
        out.append(original[last : m.start()])
        last = m.end()
        start = m.start() == 0 or bool(_SENTENCE_END.search(original[: m.start()]))
        candidate = _next_same(placed, word)
        if candidate is None or "+" in word or "+" not in candidate:
            out.append(word)  # not found, marked by the lexicon, or nothing placed
            continue
        wanted = mode == "all" or _plain(word) in homographs or is_name(word, start)
        out.append(_with_case(word, candidate) if wanted else word)
    out.append(original[last:])
    return "".join(out)


def _next_same(placed: Any, word: str) -> str | None:
    """The next word of the placer's output that is `word` (up to marks, case and ё); the
    placer drops nothing, so a mismatch means the texts went apart: give up on this word."""
    want = _plain(word)
    for candidate in placed:
        if _plain(candidate) == want:
            return str(candidate)
        return None
    return None


def _with_case(original: str, marked: str) -> str:
    """The marked word with the original's letter case (the placer may lower or restore
    ё, which is kept: «Федорович» → «Ф+ёдорович»)."""
    out: list[str] = []
    letters = iter(original.replace("+", ""))
    for ch in marked:
        if ch == "+":
            out.append(ch)
            continue
        src = next(letters, ch)
        out.append(ch.upper() if src.isupper() else ch.lower())
    return "".join(out)


def stress_available() -> str | None:
    """None when silero-stress can run here, else why not (for `cuckoo voices` and `check`)."""
    try:
        # The import loads torch: only when a voice asks for stress marks.
        import silero_stress  # noqa: F401
    except ImportError as e:
        return (
            f"{e.name} is not installed: pip install 'cuckoo[silero]' (torch: the CPU build, "
            "see the README)"
        )
    return None


class SileroStress:
    """silero-stress's accentor behind `keep_marks`; one model per process, loaded on first
    use and shared by the threads of that process (calls are placed one at a time)."""

    _lock = threading.Lock()
    _model: Callable[..., str] | None = None
    _homographs: frozenset[str] = frozenset()

    def __init__(self, mode: StressMode) -> None:
        self.mode = mode

    def __call__(self, text: str) -> str:
        if self.mode == "off" or not _WORD.search(text):
            return text
        model, homographs = self.load()
        with self._lock:  # the model keeps state between its steps
            marked = model(
                text, put_stress=True, put_yo=True, put_stress_homo=True, put_yo_homo=True,
                stress_single_vowel=False,
            )  # fmt: skip
        return keep_marks(text, marked, self.mode, homographs)

    @classmethod
    def load(cls) -> tuple[Callable[..., str], frozenset[str]]:
        with cls._lock:
            if cls._model is None:
                # torch and the model (about 6 s): only when a voice asks for stress marks.
                import torch
                from silero_stress import load_accentor

                threads = torch.get_num_threads()
                model = load_accentor()
                torch.set_num_threads(threads)  # importing it sets one thread for everyone
                cls._homographs = frozenset(w.replace("ё", "е") for w in model.homosolver.homodict)
                cls._model = model
                log.info("stress placer loaded (%d homographs)", len(cls._homographs))
            return cls._model, cls._homographs

"""What the words around a number say about how to read it: the preposition before it (which
case it governs) and the noun after it."""

from __future__ import annotations

import re
from collections.abc import Callable

from cuckoo.speech.normalize.numbers import morph, noun_cases

# A normalization pass: its pattern and what a match becomes.
Pass = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]

# The case a preposition governs, in its common reading in notifications ("с 10:00" = from).
PREP_CASE = {
    "с": "gent", "со": "gent", "до": "gent", "от": "gent", "из": "gent", "у": "gent",
    "для": "gent", "без": "gent", "около": "gent", "после": "gent", "кроме": "gent",
    "более": "gent", "менее": "gent", "свыше": "gent", "вместо": "gent", "начиная": "gent",
    "к": "datv", "ко": "datv", "согласно": "datv",
    "о": "loct", "об": "loct", "при": "loct",
    "в": "accs", "во": "accs", "на": "accs", "за": "accs", "через": "accs", "про": "accs",
    "по": "accs",
    "над": "ablt", "под": "ablt", "перед": "ablt", "между": "ablt",
}  # fmt: skip

# Every case a preposition can govern, likeliest first ("в 1980-х" is locative, "с 2-мя"
# instrumental): used when the words after the number do not settle it.
PREP_CASES: dict[str, tuple[str, ...]] = {
    "в": ("accs", "loct"), "во": ("accs", "loct"), "на": ("accs", "loct"),
    "с": ("gent", "ablt"), "со": ("gent", "ablt"), "за": ("accs", "ablt"),
    "по": ("datv", "accs", "loct"), "о": ("loct", "accs"), "об": ("loct", "accs"),
}  # fmt: skip

MONTHS = (
    "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
)  # fmt: skip
MONTH_RE = "|".join(MONTHS)

CASES = ("nomn", "gent", "datv", "accs", "ablt", "loct")

# Prepositions after which a number is a point in time ("с 8.30", "в 9 утра").
TIME_PREPS = frozenset({"с", "со", "до", "в", "во", "к", "ко", "после", "от", "около", "на"})


def prev_word(m: re.Match[str]) -> str:
    """The word right before the match, lower case, without punctuation."""
    before = m.string[: m.start()]
    found = re.search(r"([\w-]+)\W*$", before)
    return found.group(1).lower() if found else ""


def prep_case(m: re.Match[str]) -> str | None:
    return PREP_CASE.get(prev_word(m))


def count_case(m: re.Match[str]) -> str:
    """The case of a count after the preposition before it; nominative without one."""
    case = prep_case(m)
    return case if case in ("gent", "datv", "loct", "ablt", "accs") else "nomn"


def prep_cases(m: re.Match[str]) -> tuple[str, ...]:
    word = prev_word(m)
    if word in PREP_CASES:
        return PREP_CASES[word]
    return (PREP_CASE[word],) if word in PREP_CASE else ()


def is_noun(word: str) -> bool:
    return bool(noun_cases(word.lower()))


def gender(noun: str) -> str:
    for p in morph().parse(noun.lower()):
        if p.tag.POS == "NOUN" and p.tag.gender:
            return str(p.tag.gender)
    return "masc"


def noun_after(text: str) -> str | None:
    """The noun a number followed by `text` goes with: the next word, or the word after an
    adjective ("3 рабочих дней")."""
    words = re.match(r"\s+([А-Яа-яЁё-]+)(?:\s+([А-Яа-яЁё-]+))?", text)
    if not words:
        return None
    first, second = words.group(1), words.group(2)
    if is_noun(first) and morph().parse(first.lower())[0].tag.POS not in ("ADJF", "PRTF"):
        return first
    if second and morph().parse(first.lower())[0].tag.POS in ("ADJF", "PRTF") and is_noun(second):
        return second
    return None

"""Numbers with a case ending ("3-й", "5-ти", "1980-х") and bare numbers that are ordinals
("на 4 этаже" → "на четвёртом этаже"), agreeing with their noun in case, gender and number.

A written ending is the tail of the spoken word: "3-ей" is "третьей", "5-ти" is "пяти", "2-х" is
"двух" or "вторых". So every ordinal and cardinal form of the number whose tail matches is a
candidate, and the noun after it (or the preposition before it) picks one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from cuckoo.speech.normalize.context import (
    CASES,
    MONTHS,
    PREP_CASE,
    PREP_CASES,
    Pass,
    noun_after,
    prep_cases,
)
from cuckoo.speech.normalize.numbers import cardinal, case_of, morph, ordinal

# Endings that only an ordinal has after a hyphen, and those a cardinal may have too
# ("5-ти" пяти, "2-мя" двумя, "5-ю" пятью, "2-х" двух, "4-м" четырём).
_ORDINAL_ENDINGS = (
    "ого", "его", "го", "ому", "ему", "му", "ом", "ем", "ым", "им", "ой", "ей", "ый", "ий",
    "й", "ая", "яя", "я", "ое", "ее", "е", "ые", "ие", "ую", "юю", "ых", "их",
)  # fmt: skip
_CARDINAL_ENDINGS = ("ти", "ми", "мя", "ью", "ю", "ух", "ёх", "ех", "х", "ём", "м")
_ENDING_RE = "|".join(sorted({*_ORDINAL_ENDINGS, *_CARDINAL_ENDINGS}, key=len, reverse=True))
# "5ти", "2х" are written without the hyphen too ("3х3 м" was read as "3 на 3" before).
_SUFFIXED = re.compile(r"(?<![\d,.])(\d+)(?:-(" + _ENDING_RE + r")|(ти|ми|мя|ью|ух|ёх|х))\b")
_OBLIQUE = ("gent", "datv", "ablt", "loct")


@dataclass(frozen=True)
class _Reading:
    word: str
    cardinal: bool
    case: str
    form: str  # masc / femn / neut, or plur for a plural ordinal
    animate: bool = False


def _is_one(n: int) -> bool:
    return n % 10 == 1 and n % 100 != 11


def _paucal(n: int) -> bool:
    return n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14)


def _ends_with(word: str, ending: str) -> bool:
    return word.replace("ё", "е").endswith(ending.replace("ё", "е"))


@lru_cache(maxsize=2048)
def _readings(n: int, ending: str) -> tuple[_Reading, ...]:
    """Every spoken form of `n` whose tail is the written ending."""
    out: list[_Reading] = []
    for case in CASES:
        for form in ("masc", "neut", "femn", "plur"):
            plural = form == "plur"
            gender = "masc" if plural else form
            word = ordinal(n, case, gender, plural=plural)
            if _ends_with(word, ending):
                out.append(_Reading(word, False, case, form))
            if case == "accs" and form in ("masc", "plur"):
                animate = ordinal(n, case, gender, plural=plural, animate=True)
                if animate != word and _ends_with(animate, ending):
                    out.append(_Reading(animate, False, case, form, animate=True))
        if ending in _CARDINAL_ENDINGS:
            for form in ("masc", "femn"):
                word = cardinal(n, case, form)
                if _ends_with(word, ending):
                    out.append(_Reading(word, True, case, form))
    return tuple(out)


def _agrees(reading: _Reading, noun: str) -> bool:
    for p in morph().parse(noun.lower()):
        if p.tag.POS != "NOUN" or case_of(p) != reading.case:
            continue
        plural = p.tag.number == "plur"
        if reading.cardinal:
            if plural and reading.case in _OBLIQUE:
                return True
            continue
        form_ok = reading.form == "plur" if plural else reading.form == str(p.tag.gender)
        animate_ok = reading.case != "accs" or reading.animate == (p.tag.animacy == "anim")
        if form_ok and animate_ok:
            return True
    return False


# Endings written to mark a cardinal's case: "8-ми" is "восьми", not "восьмыми".
_CARDINAL_MARKS = ("ти", "ми", "мя", "ью")


def _pick(
    n: int, ending: str, readings: list[_Reading], cases: tuple[str, ...], forms: tuple[str, ...]
) -> str:
    both_kinds = {r.cardinal for r in readings} == {True, False}
    cardinal_first = ending in _CARDINAL_MARKS or _paucal(n)

    def rank(r: _Reading) -> tuple[int, int, int]:
        # "в 2-х экземплярах": двух (a count) rather than вторых; "в 1990-х": девяностых.
        kind = 0 if not both_kinds or r.cardinal == cardinal_first else 1
        case = cases.index(r.case) if r.case in cases else len(cases) + CASES.index(r.case)
        form = forms.index(r.form) if r.form in forms else len(forms)
        return kind, case, form

    return min(readings, key=rank).word


def _suffixed(m: re.Match[str]) -> str:
    n, ending = int(m.group(1)), m.group(2) or m.group(3)
    readings = list(_readings(n, ending))
    if not readings:
        return m.group(0)
    rest = m.string[m.end() :]
    noun = noun_after(rest)
    if noun is not None and noun.lower() in MONTHS:
        noun = None  # "на 8-ое марта": the ordinal agrees with "число", not with the month
        forms: tuple[str, ...] = ("neut", "masc", "femn", "plur")
    elif n >= 10 and n % 10 == 0:
        forms = ("plur", "masc", "neut", "femn")  # "в 1980-х", "1990-е": decades
    else:
        forms = ("masc", "neut", "femn", "plur")
    agreeing = [r for r in readings if _agrees(r, noun)] if noun is not None else []
    # Without a noun to agree with, the inanimate accusative ("на 2-й" → "второй").
    readings = agreeing or [r for r in readings if not r.animate] or readings
    return _pick(n, ending, readings, (*prep_cases(m), "nomn", "gent"), forms)


# ---- bare numbers that are ordinals ------------------------------------------------------------


def ordinal_case(n: int, noun: str, prep_word: str) -> tuple[str, str] | None:
    """(case, gender) when "`n` `noun`" after the word `prep_word` is an ordinal, else None (a
    count). No count agrees with a singular noun unless the number ends in 1 or the noun is
    genitive after 2-4: "2 этаж", "на 4 этаже", "до 8 этажа" are ordinals; "2 этажа",
    "в 10 раз", "на 2 страницы" are counts, and so is "у вас 5 документа" (a template that
    forgot the plural). After 21, 31… a place ("в 31 кабинете") is an ordinal; "N числа" is
    always the day of the month."""
    prep = PREP_CASE.get(prep_word)
    governed = PREP_CASES.get(prep_word) or ((prep,) if prep else ())
    if not morph().word_is_known(noun.lower()):
        return None
    parses = [
        (p, c) for p in morph().parse(noun.lower()) if p.tag.POS == "NOUN" and (c := case_of(p))
    ]
    # The reading the preposition can govern first: "в 7 ряду" is locative, not dative.
    singular = sorted(
        ((p, c) for p, c in parses if p.tag.number == "sing"),
        key=lambda pc: governed.index(pc[1]) if pc[1] in governed else len(governed),
    )
    if not singular:
        return None
    if any(p.normal_form == "число" for p, _ in singular):
        case = singular[0][1]
        return ("nomn" if case == "accs" else case), "neut"
    if _is_one(n):
        in_a_place = prep_word in ("в", "во", "на") and n != 1
        if in_a_place and len(singular) == len(parses) and any(c == "loct" for _, c in parses):
            return "loct", str(singular[0][0].tag.gender or "masc")
        return None  # "21 день", "в 1 экземпляре", "о 21 заказе"
    for p, case in parses:
        plural = p.tag.number == "plur"
        if plural and case in _OBLIQUE:
            return None  # "в 10 раз", "о 2 документах"
        if plural and prep in (None, "accs"):
            return None  # "на 2 страницы"; "5 документы" is fixed up as a count
        if case == "gent" and not plural and prep != "gent" and (_paucal(n) or prep is None):
            return None  # "2 этажа", "в 2 часа", "у вас 5 документа"
    for p, case in singular:
        gender = str(p.tag.gender or "masc")
        if case in ("nomn", "accs", "datv", "loct", "ablt") or (case == "gent" and prep == "gent"):
            if case == "accs" and gender != "femn":
                case = "nomn"  # inanimate accusative: "за 3 квартал" → "третий"
            return case, gender
    return None


# ---- "с 1 по 3 этаж": the first number is an ordinal when the second one is --------------------

_ORDINAL_RANGE = re.compile(
    r"(?<![\w.,])([Сс]о?)\s+(\d+)\s+(по|до)\s+(?=(\d+)(?:-([а-яё]+))?\s+([А-Яа-яЁё]+))"
)


def _ordinal_range(m: re.Match[str]) -> str:
    last, ending, noun = int(m.group(4)), m.group(5), m.group(6)
    if ending:
        is_ordinal = ending in _ORDINAL_ENDINGS
        gender = next(
            (str(p.tag.gender) for p in morph().parse(noun.lower()) if p.tag.gender), "masc"
        )
    else:
        reading = ordinal_case(last, noun, m.group(3))
        is_ordinal, gender = reading is not None, reading[1] if reading else "masc"
    if not is_ordinal:
        return m.group(0)
    return f"{m.group(1)} {ordinal(int(m.group(2)), 'gent', gender)} {m.group(3)} "


ORDINAL_PASSES: list[Pass] = [
    (_ORDINAL_RANGE, _ordinal_range),
    (_SUFFIXED, _suffixed),
]

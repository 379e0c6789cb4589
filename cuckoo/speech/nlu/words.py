"""Tokens of a Vosk transcript, with spoken numbers read into values.

Vosk writes numbers as words ("двадцать пятого", "пятнадцать тридцать"); the tables of every
case and gender come from num2words once, at first use, so no form is forgotten by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from num2words import num2words


@dataclass(frozen=True)
class Num:
    """A spoken number: "двадцать пятого" → Num(25, ordinal=True)."""

    value: int
    ordinal: bool
    text: str


Item = str | Num

_GENDERS = ("m", "f", "n")
_CASES = ("n", "g", "d", "a", "i", "p")


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, int], dict[str, int]]:
    cardinals: dict[str, int] = {}
    ordinals: dict[str, int] = {}
    single = [*range(0, 21), 30, 40, 50]
    for n in single:
        for case in _CASES:
            for gender in _GENDERS:
                for plural in (False, True):
                    word = num2words(n, lang="ru", case=case, gender=gender, plural=plural)
                    cardinals.setdefault(word.replace("ё", "е"), n)
                    if n:
                        word = num2words(
                            n, lang="ru", to="ordinal", case=case, gender=gender, plural=plural
                        )
                        ordinals.setdefault(word.replace("ё", "е"), n)
    return cardinals, ordinals


_NOMINATIVE_TENS = {"двадцать", "тридцать", "сорок", "пятьдесят"}
_NOMINATIVE_ONES = {"один", "одна", "одно", "два", "две", "три", "четыре", "пять", "шесть"}
_NOMINATIVE_ONES |= {"семь", "восемь", "девять"}


def _same_case(tens: str, ones: str) -> bool:
    """One number or two: "двадцать пять", "двадцати пяти" vs "без двадцати девять"."""
    return (tens in _NOMINATIVE_TENS) == (ones in _NOMINATIVE_ONES) or tens in _NOMINATIVE_TENS


def tokenize(text: str) -> list[str]:
    """Lower case, "ё" → "е", words only ("где-то" → "где", "то")."""
    return re.findall(r"[а-яa-z0-9]+", text.lower().replace("ё", "е"))


def read_numbers(tokens: list[str]) -> list[Item]:
    """Replace number words by Num; "двадцать" + "пять" → 25, "тридцать" + "первого" → 31st."""
    cardinals, ordinals = _tables()
    items: list[Item] = []
    for token in tokens:
        if token.isdigit():
            num: Num | None = Num(int(token), False, token)
        elif token in cardinals:
            num = Num(cardinals[token], False, token)
        elif token in ordinals:
            num = Num(ordinals[token], True, token)
        else:
            num = None
        if num is None:
            items.append(token)
            continue
        prev = items[-1] if items else None
        if (
            isinstance(prev, Num)
            and not prev.ordinal
            and prev.value in (20, 30, 40, 50)
            and 1 <= num.value <= 9
            and _same_case(prev.text, token)
        ):
            items[-1] = Num(prev.value + num.value, num.ordinal, f"{prev.text} {token}")
        else:
            items.append(num)
    return items


def ordinal_values() -> dict[str, int]:
    """Every form of the ordinals 1–20, 30, 40, 50 → value ("пятого" → 5)."""
    return _tables()[1]

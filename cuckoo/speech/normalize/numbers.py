"""Numbers as Russian words in a given case and gender, and nouns that agree with them.

num2words does the numeral morphology (all six cases, three genders, ordinals); pymorphy3 inflects
the noun that follows a number. This module only glues the two together.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from num2words import num2words

if TYPE_CHECKING:
    from pymorphy3 import MorphAnalyzer
    from pymorphy3.analyzer import Parse

# pymorphy3 case tags → num2words case names.
_N2W_CASE = {
    "nomn": "n",
    "gent": "g",
    "datv": "d",
    "accs": "a",
    "ablt": "i",
    "loct": "p",
}
# pymorphy3 gender tags → num2words genders.
_N2W_GENDER = {"masc": "m", "femn": "f", "neut": "n"}

DIGITS = ("ноль", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять")


@lru_cache(maxsize=1)
def morph() -> MorphAnalyzer:
    """One shared analyzer: loading the dictionaries takes ~0.3 s."""
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


def cardinal(n: int, case: str = "nomn", gender: str = "masc") -> str:
    """`n` in words: cardinal(21, "gent") → "двадцати одного"."""
    words = str(
        num2words(
            n,
            lang="ru",
            case=_N2W_CASE.get(case, "n"),
            gender=_N2W_GENDER.get(gender, "m"),
            animate=False,
        )
    )
    # "одна тысяча двести" is bookish; people say "тысяча двести".
    for one in ("одна тысяча", "одной тысячи", "одной тысяче", "одну тысячу", "одной тысячей"):
        if words.startswith(one + " ") or words == one:
            words = words[len(one.split()[0]) + 1 :]
            break
    return words


def ordinal(
    n: int, case: str = "nomn", gender: str = "masc", *, plural: bool = False, animate: bool = False
) -> str:
    """`n` as an ordinal: ordinal(3, "gent", "neut") → "третьего"; plural=True → "третьих".

    The accusative is the inanimate one ("за второй квартал") unless `animate`."""
    return str(
        num2words(
            n,
            lang="ru",
            to="ordinal",
            case=_N2W_CASE.get(case, "n"),
            gender=_N2W_GENDER.get(gender, "m"),
            plural=plural,
            animate=animate,
        )
    )


# The denominator of a decimal fraction by its number of digits: 0,05 → "пять сотых".
_FRACTION_STEMS = {
    1: "десят", 2: "сот", 3: "тысячн", 4: "десятитысячн", 5: "стотысячн", 6: "миллионн",
}  # fmt: skip
MAX_FRACTION_DIGITS = max(_FRACTION_STEMS)


def decimal(whole: int, frac: str, case: str = "nomn") -> str:
    """3,5 → "три целых пять десятых"; 0,0045 → "ноль целых сорок пять десятитысячных".

    The fraction is read as written (its zeros give the denominator), so "2,50" is "пятьдесят
    сотых". Longer fractions than a millionth are read digit by digit after "запятая"."""
    if len(frac) > MAX_FRACTION_DIGITS:
        digits = " ".join(DIGITS[int(d)] for d in frac)
        return f"{cardinal(whole, case)} запятая {digits}"
    f = int(frac)
    stem = _FRACTION_STEMS[len(frac)]
    w = cardinal(whole, case, "femn") + (" целая" if _is_one(whole) else " целых")
    fr = cardinal(f, case, "femn") + (f" {stem}ая" if _is_one(f) else f" {stem}ых")
    return f"{w} {fr}"


def digits_group(group: str) -> str:
    """One group of a phone or order number: "345" → "триста сорок пять", "05" → "ноль пять"."""
    if len(group) > 1 and group.startswith("0"):
        zeros = len(group) - len(group.lstrip("0"))
        rest = group[zeros:]
        return " ".join([DIGITS[0]] * zeros + ([cardinal(int(rest))] if rest else []))
    return cardinal(int(group))


def split_groups(digits: str) -> list[str]:
    """Digits as people dictate them: 12345 → 123 45, 1234567 → 123 45 67, 1234 → 12 34."""
    n = len(digits)
    if n <= 3:
        return [digits]
    sizes: list[int] = []
    rest = n
    while rest > 4:
        sizes.append(3)
        rest -= 3
    sizes += [rest] if rest in (2, 3) else [2, 2]
    out: list[str] = []
    i = 0
    for size in sizes:
        out.append(digits[i : i + size])
        i += size
    return out


def read_in_groups(digits: str) -> str:
    return ", ".join(digits_group(g) for g in split_groups(digits))


def noun_parse(word: str) -> Parse | None:
    """The most likely noun reading of `word`, or None when it is not a dictionary noun
    (a guessed inflection of an unknown word is worse than the word as written)."""
    if not morph().word_is_known(word):
        return None
    for parse in morph().parse(word):
        if parse.tag.POS == "NOUN":
            return parse
        if parse.score < 0.05:
            break
    return None


# pymorphy3's second genitive, locative and accusative ("в ряду", "чаю") are, for agreement,
# the plain ones: an ordinal before "ряду" is locative ("в седьмом ряду").
_CASE_ALIASES = {"gen1": "gent", "gen2": "gent", "loc1": "loct", "loc2": "loct", "acc2": "accs"}


def case_of(parse: Parse) -> str | None:
    case = parse.tag.case
    return _CASE_ALIASES.get(str(case), str(case)) if case else None


def noun_cases(word: str) -> set[str]:
    """All cases `word` can be in as a noun (ambiguous forms give several)."""
    if not morph().word_is_known(word):
        return set()
    return {c for p in morph().parse(word) if p.tag.POS == "NOUN" and (c := case_of(p))}


def _is_one(n: int) -> bool:
    return n % 10 == 1 and n % 100 != 11


def _match_capital(template: str, word: str) -> str:
    return word[:1].upper() + word[1:] if template[:1].isupper() else word


def count_phrase(n: int, noun: str, case: str = "nomn", *, counting_form: bool = False) -> str:
    """`n` and a noun made to agree: (2, "документ") → "два документа", (1, "место") → "одно место".

    `noun` may be in any form; unknown words are left as they are. `counting_form` prefers the
    genitive plural used after numbers where the language has one ("сто мегабит", not
    "мегабитов").
    """
    parse = noun_parse(noun.lower())
    if parse is None:
        return f"{cardinal(n, case)} {noun}"
    gender = str(parse.tag.gender or "masc")
    if parse.tag.number == "plur" and parse.tag.gender is None:
        gender = "masc"  # pluralia tantum (сутки, ножницы): rare in templates
    number_word = cardinal(n, case, gender)
    if case == "accs" and _is_one(n):
        agreed = parse.inflect({"accs", "sing"}) or parse  # "на одну неделю"
    elif case in ("nomn", "accs"):
        base = parse.inflect({"nomn", "sing"}) or parse
        agreed = base.make_agree_with_number(n) or base
    else:
        number = "sing" if _is_one(n) else "plur"
        written = parse.tag.case == case and parse.tag.number == number
        # Already in the right form: kept as written ("от трёх лет", not the "годов" that
        # inflecting the lemma would give).
        agreed = parse if written else (parse.inflect({case, number}) or parse)
    if counting_form and agreed.tag.case == "gent" and agreed.tag.number == "plur":
        agreed = agreed.inflect({"gent", "plur", "Coun"}) or agreed
    word = agreed.word
    if parse.normal_form == "человек" and word == "людей":
        word = "человек"  # counted people: "пять человек", not "пять людей"
    return f"{number_word} {_match_capital(noun, word)}"


def inflect_word(word: str, case: str, plural: bool = False) -> str:
    """Inflect one noun (e.g. a unit name); unknown words come back unchanged."""
    parse = noun_parse(word)
    if parse is None:
        return word
    grammemes = {case, "plur" if plural else "sing"}
    result = parse.inflect(grammemes)
    return result.word if result else word

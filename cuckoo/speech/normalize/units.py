"""Units after a number, read as nouns that agree with it: "5 км" → "пять километров",
"3 млн л" → "три миллиона литров", "90 км/ч" → "девяносто километров в час", "+25 °C" →
"двадцать пять градусов Цельсия"."""

from __future__ import annotations

import re

from cuckoo.speech.normalize.context import Pass, count_case
from cuckoo.speech.normalize.numbers import count_phrase, decimal, inflect_word, morph

# A whole number, optionally with thousands separated by spaces.
NUM = r"(?:\d{1,3}(?: \d{3})+(?!\d)|\d+)"

# Unit abbreviation (as a regex) → the noun that agrees with the number, and words that follow
# the noun unchanged.
_UNIT_TABLE: list[tuple[str, str, str]] = [
    (r"мм\s*рт\.\s*ст", "миллиметр", " ртутного столба"),
    (r"°\s*[CС]", "градус", " Цельсия"),
    (r"°\s*F", "градус", " по Фаренгейту"),
    (r"°", "градус", ""),
    (r"кВт\s*[·*⋅]?\s*ч", "киловатт-час", ""),
    (r"кг", "килограмм", ""), (r"гр?", "грамм", ""), (r"мг", "миллиграмм", ""),
    (r"т", "тонна", ""), (r"ц", "центнер", ""),
    (r"км", "километр", ""), (r"м", "метр", ""), (r"см", "сантиметр", ""),
    (r"мм", "миллиметр", ""), (r"л", "литр", ""), (r"мл", "миллилитр", ""),
    (r"шт", "штука", ""), (r"уп", "упаковка", ""),
    (r"ч", "час", ""), (r"мин", "минута", ""), (r"сек", "секунда", ""), (r"дн", "день", ""),
    (r"сут", "сутки", ""), (r"нед", "неделя", ""), (r"мес", "месяц", ""),
    (r"чел", "человек", ""), (r"га", "гектар", ""), (r"кВт", "киловатт", ""),
    (r"Вт", "ватт", ""), (r"МВт", "мегаватт", ""),
    (r"[ГG][БбB]", "гигабайт", ""), (r"[МM][БбB]", "мегабайт", ""),
    (r"[ТT][БбB]", "терабайт", ""), (r"[КK][БбB]", "килобайт", ""),
    (r"Мбит", "мегабит", ""), (r"Гбит", "гигабит", ""), (r"Кбит", "килобит", ""),
]  # fmt: skip
# Units of information are counted in the short genitive: "сто мегабит", "пятьсот мегабайт".
_COUNTING_FORM = frozenset(
    {"килобит", "мегабит", "гигабит", "килобайт", "мегабайт", "гигабайт", "терабайт"}
)
_UNIT_COMPILED = [(re.compile(p + r"\Z"), noun, tail) for p, noun, tail in _UNIT_TABLE]
# Longest first, so "мм рт. ст." wins over "мм" and "мм" over "м".
_UNIT_RE = "|".join(sorted((p for p, _, _ in _UNIT_TABLE), key=len, reverse=True))

_MULTIPLIERS = {"тыс": "тысяча", "млн": "миллион", "млрд": "миллиард", "трлн": "триллион"}
_MULT_RE = "|".join(_MULTIPLIERS)

# "-3°C" ends in a letter; "5 м" must not be the start of "5 минут".
_UNIT_END = r"\.?(?![\w²³])"
_UNIT = re.compile(
    r"(?<![\d,.])(" + NUM + r")\s*(?:(" + _MULT_RE + r")\.?\s*)?(" + _UNIT_RE + r")" + _UNIT_END
)
_MULTIPLIER = re.compile(r"(?<![\d,.])(" + NUM + r")\s*(" + _MULT_RE + r")\.?(?!\w)")
_DECIMAL_UNIT = re.compile(
    r"(?<![\d,.])(\d+)[,.](\d{1,6})\s*(?:(" + _MULT_RE + r")\.?\s*)?(" + _UNIT_RE + r"|"
    + _MULT_RE + r")" + _UNIT_END
)  # fmt: skip


def _unit(text: str) -> tuple[str, str]:
    for pattern, noun, tail in _UNIT_COMPILED:
        if pattern.match(text):
            return noun, tail
    raise KeyError(text)


def _int(s: str) -> int:
    return int(re.sub(r"\D", "", s))


def _unit_match(m: re.Match[str]) -> str:
    number, multiplier, unit = m.group(1), m.group(2), m.group(3)
    if unit in ("г", "гр") and not multiplier and re.fullmatch(r"(19|20)\d\d", number):
        return m.group(0)  # "2026 г." is a year, left to the year pass
    noun, tail = _unit(unit)
    case = count_case(m)
    if multiplier:  # "3 млн л" → "три миллиона литров"
        plural_noun = inflect_word(noun, "gent", plural=True)
        return f"{count_phrase(_int(number), _MULTIPLIERS[multiplier], case)} {plural_noun}{tail}"
    return count_phrase(_int(number), noun, case, counting_form=noun in _COUNTING_FORM) + tail


def _multiplier(m: re.Match[str]) -> str:
    return count_phrase(_int(m.group(1)), _MULTIPLIERS[m.group(2)], count_case(m))


def _decimal_unit(m: re.Match[str]) -> str:
    """ "3,5 кг" → "три целых пять десятых килограмма"; "3,2 млн л" → "… миллиона литров"."""
    multiplier, unit = m.group(3), m.group(4)
    number = decimal(int(m.group(1)), m.group(2))
    if unit in _MULTIPLIERS:
        return f"{number} {inflect_word(_MULTIPLIERS[unit], 'gent')}"
    noun, tail = _unit(unit)
    if multiplier:
        mult = inflect_word(_MULTIPLIERS[multiplier], "gent")
        return f"{number} {mult} {inflect_word(noun, 'gent', plural=True)}{tail}"
    return f"{number} {inflect_word(noun, 'gent')}{tail}"


# ---- square and cubic metres -------------------------------------------------------------------

_AREA = re.compile(
    r"(?<![\d,.])(" + NUM + r")\s*(?:(к|с|м|д)?м([²³23])(?!\d)|(кв|куб)\.\s?(к|с|м|д)?м\.?)(?!\w)"
)
_METRE_PREFIX = {None: "метр", "к": "километр", "с": "сантиметр", "м": "миллиметр", "д": "дециметр"}


def _area(m: re.Match[str]) -> str:
    """ "45 м²" → "сорок пять квадратных метров"; "1 м³" → "один кубический метр"."""
    cubic = m.group(3) in ("³", "3") or m.group(4) == "куб"
    noun = _METRE_PREFIX[m.group(2) or m.group(5)]
    n = _int(m.group(1))
    number, unit = count_phrase(n, noun, count_case(m)).rsplit(" ", 1)
    adjective = "кубический" if cubic else "квадратный"
    return f"{number} {_agree_adjective(adjective, unit, n)} {unit}"


def _agree_adjective(adjective: str, noun_form: str, n: int) -> str:
    """The adjective in the noun's case and number, except after 2-4, where the noun is
    genitive singular but the adjective genitive plural ("два квадратных метра")."""
    noun = next(p for p in morph().parse(noun_form) if p.tag.POS == "NOUN")
    case, number = str(noun.tag.case), str(noun.tag.number)
    if case == "gent" and number == "sing" and not (n % 10 == 1 and n % 100 != 11):
        number = "plur"
    grammemes = {case, number} | ({"inan"} if case == "accs" else set())
    adj = morph().parse(adjective)[0].inflect(grammemes)
    return adj.word if adj else adjective


# ---- "км/ч", "руб./мес.": a unit per another ---------------------------------------------------

_PER = {
    "ч": "в час", "час": "в час", "с": "в секунду", "сек": "в секунду", "мин": "в минуту",
    "сут": "в сутки", "дн": "в день", "день": "в день", "д": "в день", "нед": "в неделю",
    "мес": "в месяц", "г": "в год", "год": "в год",
    "шт": "за штуку", "кг": "за килограмм", "л": "за литр", "м": "за метр",
    "м²": "за квадратный метр", "м2": "за квадратный метр", "чел": "на человека",
}  # fmt: skip
# The words a per-unit can follow: the nouns the unit and money passes produce.
_PER_NOUNS = frozenset(
    {noun for _, noun, _ in _UNIT_TABLE}
    | set(_MULTIPLIERS.values())
    | {"рубль", "копейка", "доллар", "евро", "цент"}
)
_PER_RE = re.compile(
    r"(?<![А-Яа-яЁё-])([А-Яа-яЁё-]+)\s*/\s*("
    + "|".join(sorted(_PER, key=len, reverse=True))
    + r")\.?(?![\w²])"
)


def _per(m: re.Match[str]) -> str:
    if not any(p.normal_form in _PER_NOUNS for p in morph().parse(m.group(1).lower())):
        return m.group(0)
    return f"{m.group(1)} {_PER[m.group(2)]}"


def per_units(text: str) -> str:
    """After the number passes: "километров/ч" → "километров в час"."""
    return _PER_RE.sub(_per, text)


UNIT_PASSES: list[Pass] = [
    (_DECIMAL_UNIT, _decimal_unit),
    (_AREA, _area),
    (_UNIT, _unit_match),
    (_MULTIPLIER, _multiplier),
]

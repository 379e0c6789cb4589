"""The normalization passes, in the order they run. Each pass turns its digits into words, so a
later pass never sees what an earlier one claimed (a phone number is not read as a sum)."""

from __future__ import annotations

import re
from collections.abc import Callable

from cuckoo.speech.normalize.numbers import (
    DIGITS,
    cardinal,
    count_phrase,
    digits_group,
    inflect_word,
    morph,
    noun_cases,
    ordinal,
    read_in_groups,
)

# A whole number, optionally with thousands separated by (narrow/non-breaking) spaces.
_NUM = r"(?:\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?!\d)|\d+)"

# The case a preposition governs (the common reading in notifications: "с 10:00" = from).
_PREP_CASE = {
    "с": "gent", "со": "gent", "до": "gent", "от": "gent", "из": "gent", "у": "gent",
    "для": "gent", "без": "gent", "около": "gent", "после": "gent", "кроме": "gent",
    "более": "gent", "менее": "gent", "свыше": "gent", "вместо": "gent", "начиная": "gent",
    "к": "datv", "ко": "datv", "согласно": "datv",
    "о": "loct", "об": "loct", "при": "loct",
    "в": "accs", "на": "accs", "за": "accs", "через": "accs", "про": "accs", "по": "accs",
    "над": "ablt", "под": "ablt", "перед": "ablt", "между": "ablt",
}  # fmt: skip

_MONTHS = (
    "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
)  # fmt: skip
_MONTH_RE = "|".join(_MONTHS)

# Unit abbreviations after a number → the noun to agree with the number.
_UNITS = {
    "кг": "килограмм", "г": "грамм", "гр": "грамм", "мг": "миллиграмм", "т": "тонна",
    "км": "километр", "м": "метр", "см": "сантиметр", "мм": "миллиметр",
    "л": "литр", "мл": "миллилитр", "шт": "штука", "уп": "упаковка",
    "ч": "час", "мин": "минута", "сек": "секунда", "дн": "день", "мес": "месяц",
    "чел": "человек", "га": "гектар", "кВт": "киловатт", "Вт": "ватт",
    "ГБ": "гигабайт", "МБ": "мегабайт", "тыс": "тысяча", "млн": "миллион", "млрд": "миллиард",
}  # fmt: skip
_UNIT_RE = "|".join(sorted((re.escape(u) for u in _UNITS), key=len, reverse=True))

_CURRENCY = r"(?:руб(?:лей|ля|ль|\.)?|р\.|₽)"
_KOPECKS = r"(?:коп(?:еек|ейки|ейка|\.)?)"

# Abbreviations that expand the same way wherever they stand (matched case-sensitively).
_ABBREVIATIONS: list[tuple[str, str]] = [
    (r"\bт\.\s?е\.", "то есть"),
    (r"\bт\.\s?к\.", "так как"),
    (r"\bи\s+т\.\s?д\.", "и так далее"),
    (r"\bи\s+т\.\s?п\.", "и тому подобное"),
    (r"\bи\s+др\.", "и другие"),
    (r"\bул\.", "улица"),
    (r"\bпр-т\b\.?|\bпросп\.", "проспект"),
    (r"\bпер\.", "переулок"),
    (r"\bпл\.", "площадь"),
    (r"\bш\.", "шоссе"),
    (r"\bобл\.", "область"),
    (r"\bр-н\b", "район"),
    (r"\bмкр\.|\bмкр\b", "микрорайон"),
    (r"\bд\.(?=\s*\d)", "дом"),
    (r"\bкв\.(?=\s*\d)", "квартира"),
    (r"\bкорп\.(?=\s*\d)", "корпус"),
    (r"\bстр\.(?=\s*\d)", "строение"),
    (r"\bоф\.(?=\s*\d)", "офис"),
    (r"\bг\.(?=\s*[А-ЯЁ])", "город"),
    (r"\bим\.(?=\s*[А-ЯЁ])", "имени"),
    (r"\bпо тел\.", "по телефону"),
    (r"\bтел\.", "телефон"),
    (r"\bдоб\.", "добавочный"),
    (r"\bэл\.\s?почт", "электронн почт"),
    (r"\bООО\b", "о-о-о"),
    (r"\bОАО\b", "о-а-о"),
    (r"\bЗАО\b", "зао"),
    (r"\bПАО\b", "пао"),
    (r"\bАО\b", "а-о"),
    (r"\bИП\b", "и-пэ"),
    (r"\bИНН\b", "и-эн-эн"),
    (r"\bСМС\b|\bSMS\b", "эс-эм-эс"),
    (r"\bРФ\b", "эр-эф"),
]
_ABBREVIATIONS_COMPILED = [(re.compile(p), r) for p, r in _ABBREVIATIONS]

# Left after every number pass: bare currency and unit words.
_LEFTOVER = [
    (re.compile(r"\bруб\.|\bр\.(?=\s|$)"), "рублей"),
    (re.compile(r"\bкоп\."), "копеек"),
    (re.compile(r"₽"), "рублей"),
    (re.compile(r"\bшт\."), "штук"),
    (re.compile(r"№"), "номер"),
    (re.compile(r"%"), "процентов"),
    (re.compile(r"&"), " и "),
    (re.compile(r"@"), " собака "),
]


def _prev_word(m: re.Match[str]) -> str:
    """The word right before the match, lower case, without punctuation."""
    before = m.string[: m.start()]
    found = re.search(r"([\w-]+)\W*$", before)
    return found.group(1).lower() if found else ""


def _prep_case(m: re.Match[str]) -> str | None:
    return _PREP_CASE.get(_prev_word(m))


def _int(s: str) -> int:
    return int(re.sub(r"\D", "", s))


# ---- phones and identifiers -------------------------------------------------------------------

_PHONE = re.compile(
    r"(?<![\d\w])(\+7|8)[\s\-]?\(?(\d{3})\)?[\s\-]?(\d{3})[\s\-]?(\d{2})[\s\-]?(\d{2})(?!\d)"
)


def _phone(m: re.Match[str]) -> str:
    head = "плюс семь" if m.group(1) == "+7" else "восемь"
    return ", ".join([head, *(digits_group(g) for g in m.groups()[1:])])


_NUMBER_SIGN = re.compile(r"(№|\bN\b\.?)\s*(\d+(?:[\-/]\d+)*)")
_NUMBER_WORD = re.compile(r"\b([Нн]омер(?:а|у|ом|е)?)\s+(\d{4,})\b")
_LONG_DIGITS = re.compile(r"(?<![\d,.])\d{7,}(?![\d,.])")


def _number_sign(m: re.Match[str]) -> str:
    parts = re.split(r"[\-/]", m.group(2))
    return "номер " + " дробь ".join(read_in_groups(p) for p in parts)


def _number_word(m: re.Match[str]) -> str:
    return f"{m.group(1)} {read_in_groups(m.group(2))}"


# ---- dates and years ---------------------------------------------------------------------------


def _date_case(m: re.Match[str]) -> str:
    """Case of a day ordinal: "к 3 декабря" → dative, "на 3 декабря" → accusative, else genitive."""
    case = _prep_case(m)
    return case if case in ("datv", "accs", "loct") else "gent"


def _year_words(year: int, case: str = "gent") -> str:
    noun = {"gent": "года", "loct": "году", "datv": "году", "accs": "год", "nomn": "год"}[case]
    return f"{ordinal(year, case, 'masc')} {noun}"


_FULL_DATE = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})(?:\s*(?:г\.|года?\b))?")
_SHORT_DATE = re.compile(r"(?<![\d.,])(\d{2})\.(\d{2})(?!\d|[.,]\d|\s*" + _CURRENCY + ")")
_DAY_MONTH = re.compile(
    r"(?<![\d.,])(\d{1,2})\s+(" + _MONTH_RE + r")(?:\s+(\d{4})(?:\s*(?:г\.|года?\b))?)?"
)
_YEAR = re.compile(r"(?<![\d.,])(\d{4})\s*(?:(г\.)|(года|году|год|гг\.))")


def _full_date(m: re.Match[str]) -> str:
    day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return m.group(0)
    if year < 100:
        year += 2000
    return f"{ordinal(day, _date_case(m), 'neut')} {_MONTHS[month - 1]} {_year_words(year)}"


def _short_date(m: re.Match[str]) -> str:
    day, month = int(m.group(1)), int(m.group(2))
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return m.group(0)
    return f"{ordinal(day, _date_case(m), 'neut')} {_MONTHS[month - 1]}"


def _day_month(m: re.Match[str]) -> str:
    day = int(m.group(1))
    if not 1 <= day <= 31:
        return m.group(0)
    out = f"{ordinal(day, _date_case(m), 'neut')} {m.group(2)}"
    if m.group(3):
        out += " " + _year_words(int(m.group(3)))
    return out


def _year(m: re.Match[str]) -> str:
    year = int(m.group(1))
    if m.group(2):  # "2026 г." — after "в" it is "в … году", otherwise "… года"
        case = "loct" if _prev_word(m) == "в" else "gent"
        return _year_words(year, case)
    noun = m.group(3)
    case = {"года": "gent", "году": "loct", "год": "nomn", "гг.": "gent"}[noun]
    if noun == "гг.":
        return f"{ordinal(year, 'gent')} годов"
    return _year_words(year, case)


# ---- clock times -------------------------------------------------------------------------------

_TIME = r"([01]?\d|2[0-3])[:.]([0-5]\d)"
_TIME_RANGE = re.compile(r"(?<![\d:.,])" + _TIME + r"\s*[-–—]\s*" + _TIME + r"(?![\d:])")
_TIME_ONE = re.compile(r"(?<![\d:.,])([01]?\d|2[0-3]):([0-5]\d)(?![\d:])")
# "8.30" is a time only right after a preposition of time ("с 8.30 до 17.00"); else a decimal.
_TIME_DOTTED = re.compile(r"(?<![\d.,])([01]?\d|2[0-3])\.([0-5]\d)(?![\d]|[.,]\d)")
_TIME_PREPS = {"с", "со", "до", "в", "во", "к", "ко", "после", "от", "около"}


def _clock(hours: int, minutes: int, case: str) -> str:
    """Clock time: "10:00" → "десять ноль-ноль", "9:05" → "девять ноль пять", in `case`."""
    h = cardinal(hours, case)
    if minutes == 0:
        return f"{h} ноль-ноль"
    if minutes < 10:
        return f"{h} ноль {cardinal(minutes, case)}"
    return f"{h} {cardinal(minutes, case)}"


def _time_case(m: re.Match[str]) -> str:
    case = _prep_case(m)
    return case if case in ("gent", "datv") else "nomn"


def _time_range(m: re.Match[str]) -> str:
    a = _clock(int(m.group(1)), int(m.group(2)), "gent")
    b = _clock(int(m.group(3)), int(m.group(4)), "gent")
    return f"{a} до {b}" if _prev_word(m) == "с" else f"с {a} до {b}"


def _time_one(m: re.Match[str]) -> str:
    return _clock(int(m.group(1)), int(m.group(2)), _time_case(m))


def _time_dotted(m: re.Match[str]) -> str:
    """ "с 8.30 до 17.00": a time only right after a preposition of time, else left alone."""
    if _prev_word(m) not in _TIME_PREPS:
        return m.group(0)
    return _clock(int(m.group(1)), int(m.group(2)), _time_case(m))


# ---- money, percentages, decimals, units -------------------------------------------------------

_MONEY = re.compile(
    r"(?<![\d,.])(" + _NUM + r")(?:[,.](\d{1,2}))?\s*" + _CURRENCY
    + r"(?!\w)(?:\s*(\d{1,2})\s*" + _KOPECKS + r"(?!\w))?"
)  # fmt: skip
_FOREIGN = re.compile(r"(?<![\d,.])(" + _NUM + r")(?:[,.](\d{1,2}))?\s*(\$|€|USD|EUR)")


def _count_case(m: re.Match[str]) -> str:
    case = _prep_case(m)
    return case if case in ("gent", "datv", "loct", "ablt", "accs") else "nomn"


def _money(m: re.Match[str]) -> str:
    case = _count_case(m)
    out = count_phrase(_int(m.group(1)), "рубль", case)
    kop = m.group(2) or m.group(3)
    if kop:
        k = int(kop) * (10 if m.group(2) and len(m.group(2)) == 1 else 1)
        if k:
            out += " " + count_phrase(k, "копейка", case)
    return out


def _foreign(m: re.Match[str]) -> str:
    case = _count_case(m)
    unit = {"$": "доллар", "USD": "доллар", "€": "евро", "EUR": "евро"}[m.group(3)]
    out = count_phrase(_int(m.group(1)), unit, case)
    if m.group(2) and int(m.group(2)):
        cents = int(m.group(2)) * (10 if len(m.group(2)) == 1 else 1)
        out += " " + count_phrase(cents, "цент", case)
    return out


_FRACTION_NAMES = {1: "десят", 2: "сот", 3: "тысячн"}


def _decimal_words(whole: int, frac: str, case: str = "nomn") -> str:
    """3,5 → "три целых пять десятых"; 0,25 → "ноль целых двадцать пять сотых"."""
    frac = frac[:3]
    f = int(frac)
    stem = _FRACTION_NAMES[len(frac)]
    one_w, one_f = whole % 10 == 1 and whole % 100 != 11, f % 10 == 1 and f % 100 != 11
    w = cardinal(whole, case, "femn") + (" целая" if one_w else " целых")
    fr = cardinal(f, case, "femn") + (f" {stem}ая" if one_f else f" {stem}ых")
    return f"{w} {fr}"


# A decimal point may be a comma (Russian) or a dot (a float rendered by Python); dates and
# dotted clock times were claimed by earlier passes.
_PERCENT = re.compile(r"(?<![\d,.])(" + _NUM + r")(?:[,.](\d{1,3}))?\s*%")
_DECIMAL_UNIT = re.compile(r"(?<![\d,.])(\d+)[,.](\d{1,3})\s*(" + _UNIT_RE + r")\.?(?![\w²³])")
_DECIMAL = re.compile(r"(?<![\d,.])(\d+)[,.](\d{1,3})(?![\d,]|\.\d)")
_SQUARE = re.compile(r"(?<![\d,.])(" + _NUM + r")\s*(?:м²|м2|кв\.\s?м\.?)(?!\w)")
_UNIT = re.compile(r"(?<![\d,.])(" + _NUM + r")\s*(" + _UNIT_RE + r")\.?(?![\w²³])")


def _percent(m: re.Match[str]) -> str:
    if m.group(2):
        return _decimal_words(_int(m.group(1)), m.group(2), _count_case(m)) + " процента"
    return count_phrase(_int(m.group(1)), "процент", _count_case(m))


def _decimal_unit(m: re.Match[str]) -> str:
    unit = _UNITS[m.group(3)]
    return f"{_decimal_words(int(m.group(1)), m.group(2))} {inflect_word(unit, 'gent')}"


def _decimal(m: re.Match[str]) -> str:
    return _decimal_words(int(m.group(1)), m.group(2), _count_case(m))


def _square(m: re.Match[str]) -> str:
    phrase = count_phrase(_int(m.group(1)), "метр", _count_case(m))
    number, metre = phrase.rsplit(" ", 1)
    adjective = {"метр": "квадратный", "метра": "квадратных", "метров": "квадратных"}.get(
        metre, "квадратных"
    )
    return f"{number} {adjective} {metre}"


def _unit(m: re.Match[str]) -> str:
    unit = m.group(2)
    if unit == "г" and re.fullmatch(r"(19|20)\d\d", m.group(1)):
        return m.group(0)  # a year, not grams: left to the year pass
    return count_phrase(_int(m.group(1)), _UNITS[unit], _count_case(m))


# ---- Roman numerals before a noun: "IV квартал", "XXI век" ----------------------------------

_ROMAN = re.compile(r"\b([IVXLC]{1,7})\s+([А-Яа-яЁё]+)")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}


def _roman_value(roman: str) -> int | None:
    total = 0
    for i, ch in enumerate(roman):
        value = _ROMAN_VALUES[ch]
        nxt = _ROMAN_VALUES[roman[i + 1]] if i + 1 < len(roman) else 0
        total += -value if value < nxt else value
    return total if total > 0 else None


def _roman(m: re.Match[str]) -> str:
    value = _roman_value(m.group(1))
    noun = m.group(2).lower()
    parses = [p for p in morph().parse(noun) if p.tag.POS == "NOUN" and p.tag.number == "sing"]
    if value is None or not parses or not morph().word_is_known(noun):
        return m.group(0)
    cases = [str(p.tag.case) for p in parses]
    gender = str(parses[0].tag.gender or "masc")
    # The nominative reading first ("IV квартал"); an inanimate accusative looks the same
    # except in the feminine ("за II четверть" → "вторую").
    prep = _prep_case(m)
    case = prep if prep in cases else next((c for c in ("nomn", "accs") if c in cases), cases[0])
    if case == "accs" and gender != "femn":
        case = "nomn"
    return f"{ordinal(value, case, gender)} {m.group(2)}"


# ---- plain numbers ------------------------------------------------------------------------------

_ORDINAL_SUFFIX = re.compile(r"(?<![\d,.])(\d+)-(го|му|м|й|я|е|ю|ое|ый|ий|ая|ой)\b")
_ORDINAL_FORMS = {
    "го": ("gent", "masc"), "му": ("datv", "masc"), "м": ("loct", "masc"), "й": ("nomn", "masc"),
    "ый": ("nomn", "masc"), "ий": ("nomn", "masc"), "я": ("nomn", "femn"), "ая": ("nomn", "femn"),
    "е": ("nomn", "neut"), "ое": ("nomn", "neut"), "ю": ("accs", "femn"), "ой": ("gent", "femn"),
}  # fmt: skip
_RANGE = re.compile(r"(?<![\d,.])(\d+)\s*[-–—]\s*(\d+)\s+([А-Яа-яЁё]+)")
_COUNT = re.compile(r"(?<![\d,.])(" + _NUM + r")(\s+)([А-Яа-яЁё]+)")
_BARE = re.compile(_NUM)


def _ordinal_suffix(m: re.Match[str]) -> str:
    case, gender = _ORDINAL_FORMS[m.group(2)]
    return ordinal(int(m.group(1)), case, gender)


def _is_noun(word: str) -> bool:
    return bool(noun_cases(word.lower()))


def _number_case(n: int, noun: str, prep: str | None) -> str:
    """The case a number takes before `noun` (any form), given the preposition before it.

    The noun's form decides when it is unambiguous ("с 2 документами" → instrumental,
    "в течение 3 дней" → genitive: "3 дня" would be the nominative); otherwise the preposition;
    otherwise nominative, and the noun is then made to agree ("у вас 5 документа" → "пять
    документов", a template that forgot to pluralize).
    """
    cases = noun_cases(noun.lower())
    plural_gent = any(
        p.tag.case == "gent" and p.tag.number == "plur"
        for p in morph().parse(noun.lower())
        if p.tag.POS == "NOUN"
    )
    oblique = cases & {"datv", "ablt", "loct"}
    if prep in cases and prep not in ("nomn", "accs"):
        return prep
    if oblique and not cases & {"nomn", "accs", "gent"}:
        return sorted(oblique)[0]
    if prep == "accs" and "accs" in cases:
        return "accs"
    paucal = n % 10 in (1, 2, 3, 4) and n % 100 not in (11, 12, 13, 14)
    if cases == {"gent"} and plural_gent and paucal:
        return "gent"
    return "nomn"


def _following_noun(m: re.Match[str]) -> str | None:
    """For "3 рабочих дней": the noun after an adjective that follows the number."""
    after = re.match(r"\s+([А-Яа-яЁё]+)", m.string[m.end() :])
    return after.group(1) if after and _is_noun(after.group(1)) else None


def _range(m: re.Match[str]) -> str:
    """A range: "2-3 дня" → "два-три дня", "в течение 2-3 дней" → "двух-трёх дней"."""
    a, b, noun = int(m.group(1)), int(m.group(2)), m.group(3)
    if not _is_noun(noun) or a >= b:
        return m.group(0)
    case = _number_case(b, noun, _prep_case(m))
    return f"{cardinal(a, case, _gender(noun))}-{count_phrase(b, noun, case)}"


def _gender(noun: str) -> str:
    for p in morph().parse(noun.lower()):
        if p.tag.POS == "NOUN" and p.tag.gender:
            return str(p.tag.gender)
    return "masc"


_PREDICATE_POS = frozenset({"ADJS", "PRTS", "VERB", "INFN", "ADVB", "PRED", "GRND"})


def _count(m: re.Match[str]) -> str:
    n, word = _int(m.group(1)), m.group(3)
    first = morph().parse(word.lower())[0]
    if word.lower() in _MONTHS:
        return cardinal(n, _count_case(m)) + m.group(2) + word
    if first.tag.POS in ("ADJF", "PRTF"):
        noun = _following_noun(m)
        if noun is not None:  # the adjective and noun stay as written; only the number agrees
            case = _number_case(n, noun, _prep_case(m))
            return cardinal(n, case, _gender(noun)) + m.group(2) + word
    # "Заказ 123 готов": the likeliest reading is a predicate (short adjective, verb), not the
    # rare noun the dictionary also has ("готов" = of the Goths); the number is not a count.
    if first.tag.POS in _PREDICATE_POS or not _is_noun(word):
        return cardinal(n, _count_case(m)) + m.group(2) + word
    if _ordinal_reading(n, word):
        return ordinal(n, "nomn", _gender(word)) + m.group(2) + word
    return count_phrase(n, word, _number_case(n, word, _prep_case(m)))


def _ordinal_reading(n: int, word: str) -> bool:
    """True for "2 этаж", "5 класс": no count from 2 up agrees with a nominative singular noun
    (it would be "2 этажа"), so the template means an ordinal: "второй этаж"."""
    if n % 10 == 1 and n % 100 != 11:
        return False  # "21 день" is a count
    parses = [p for p in morph().parse(word.lower()) if p.tag.POS == "NOUN"]
    return bool(parses) and all(
        p.tag.case in ("nomn", "accs") and p.tag.number == "sing" for p in parses
    )


def _bare(m: re.Match[str]) -> str:
    return cardinal(_int(m.group(0)), _count_case(m))


# ---- the pipeline -------------------------------------------------------------------------------

Pass = tuple[re.Pattern[str], Callable[[re.Match[str]], str] | str]

_PASSES: list[Pass] = [
    (_ROMAN, _roman),
    (_NUMBER_SIGN, _number_sign),
    (_NUMBER_WORD, _number_word),
    (_FULL_DATE, _full_date),
    (_DAY_MONTH, _day_month),
    (_YEAR, _year),
    (_TIME_RANGE, _time_range),
    (_TIME_ONE, _time_one),
    (_TIME_DOTTED, _time_dotted),
    (_SHORT_DATE, _short_date),
    (_MONEY, _money),
    (_FOREIGN, _foreign),
    (_PERCENT, _percent),
    (_DECIMAL_UNIT, _decimal_unit),
    (_SQUARE, _square),
    (_UNIT, _unit),
    (_DECIMAL, _decimal),
    (_LONG_DIGITS, lambda m: read_in_groups(m.group(0))),
    (_ORDINAL_SUFFIX, _ordinal_suffix),
    (_RANGE, _range),
    (_COUNT, _count),
    (_BARE, _bare),
]

# An abbreviation after a number that also ends the sentence: its dot is two dots.
_FINAL_ABBREVIATION = re.compile(
    r"(\d\s*(?:руб|коп|шт|кг|гр|г|тыс|млн|млрд|мин|сек|ч|р|л|мл|км|м|см|мм|т|уп|дн|мес|чел))"
    r"\.(?=\s*$|\s+[А-ЯЁA-Z])"
)
_STRESS_OR_PLUS = re.compile(r"\+(?![аеёиоуыэюяАЕЁИОУЫЭЮЯ])")
_JUNK = re.compile(r"[^\w\s.,!?:;+\-—]")


def normalize(text: str) -> str:
    """A rendered template as speakable Russian: numbers, dates, times, sums and abbreviations
    become words that agree in case and gender. Sentence punctuation is kept for prosody."""
    text = text.replace("\u00a0", " ").replace("\u202f", " ").replace("\u2009", " ")
    text = _PHONE.sub(_phone, text)  # before brackets go: "8 (800) 555-35-35"
    text = re.sub(r"[«»“”„\"]", "", text)
    text = re.sub(r"\s*[()\[\]]\s*", ", ", text)
    for pattern, replacement in _ABBREVIATIONS_COMPILED:
        text = pattern.sub(replacement, text)
    text = re.sub(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])", " ", text)  # RA123456789RU
    text = _FINAL_ABBREVIATION.sub(r"\1..", text)  # "… 300 руб." keeps its full stop
    text = re.sub(r"(?<![\w\d])[-−–](?=\d)", "минус ", text)  # "-5 градусов"
    for pattern, func in _PASSES:
        text = pattern.sub(func, text)
    for pattern, word in _LEFTOVER:
        text = pattern.sub(word, text)
    text = re.sub(r"\+(?=\s*\d)", "плюс ", text)
    text = re.sub(r"\d", lambda m: " " + DIGITS[int(m.group(0))] + " ", text)
    text = _STRESS_OR_PLUS.sub(" ", text)  # "+" survives only as a stress mark before a vowel
    text = _JUNK.sub(" ", text)
    text = re.sub(r"(?<=\w)\.(?=\w)", " точка ", text)  # "1.2.3", "example.ru"
    text = re.sub(r"(?<=\s)[-–](?=\s)", "—", text)
    text = re.sub(r"\s+([.,!?:;])", r"\1", text)
    text = re.sub(r"([.,!?:;])(?:\s*[,;])+", r"\1", text)
    text = re.sub(r"^\s*[,;]\s*", "", text)
    return re.sub(r"\s{2,}", " ", text).strip()

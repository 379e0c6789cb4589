"""Dates and years as ordinals in the case the sentence needs: "к 03.12.2026" → "к третьему
декабря две тысячи двадцать шестого года", "с 1 по 5 марта" → "с первого по пятое марта"."""

from __future__ import annotations

import re
from datetime import date

from cuckoo.speech.normalize.context import MONTH_RE, MONTHS, Pass, prep_case, prev_word
from cuckoo.speech.normalize.numbers import ordinal

# ---- month abbreviations: "12 мар. 2026", "12-мар-2026", "03-авг-26" --------------------------

_MONTH_ABBREVIATIONS = {
    "янв": 1, "фев": 2, "февр": 2, "мар": 3, "апр": 4, "май": 5, "мая": 5, "июн": 6, "июл": 7,
    "авг": 8, "сен": 9, "сент": 9, "окт": 10, "ноя": 11, "нояб": 11, "дек": 12,
}  # fmt: skip
_ABBREVIATED_DATE = re.compile(
    r"(?<![\d.,])(\d{1,2})(?:\s+|-)("
    + "|".join(sorted(_MONTH_ABBREVIATIONS, key=len, reverse=True))
    + r")(?:(\.)|(?![А-Яа-яЁё]))(?:(?:\s+|-)(\d{4}|\d{2})(?!\d|[.,:]\d))?",
    re.IGNORECASE,
)
# A sentence goes on after an abbreviation's dot when a capitalized word follows it.
_SENTENCE_ENDS = re.compile(r"\s*$|\s+[А-ЯЁA-Z][а-яёa-z]")


def _full_year(year: str) -> str:
    return year if len(year) == 4 else str(2000 + int(year))


def _abbreviated_date(m: re.Match[str]) -> str:
    day, month, dot, year = m.group(1), m.group(2).lower(), m.group(3), m.group(4)
    out = f"{day} {MONTHS[_MONTH_ABBREVIATIONS[month] - 1]}"
    if year:
        out += f" {_full_year(year)}"  # the day-and-month pass reads it with "года"
    elif dot and _SENTENCE_ENDS.match(m.string, m.end()):
        out += "."  # "до 5 дек." ends the sentence too
    return out


# ---- dates in digits ---------------------------------------------------------------------------


def _date_case(m: re.Match[str]) -> str:
    """Case of a day ordinal: "к 3 декабря" → dative, "на 3 декабря" → accusative, else genitive."""
    case = prep_case(m)
    return case if case in ("datv", "accs", "loct") else "gent"


def year_words(year: int, case: str = "gent") -> str:
    noun = {"gent": "года", "loct": "году", "datv": "году", "accs": "год", "nomn": "год"}[case]
    return f"{ordinal(year, case, 'masc')} {noun}"


def _is_date(day: int, month: int, year: int | None = None) -> bool:
    """A real calendar day ("31-02-27" is not one); without a year, 29 February is."""
    try:
        date(year or 2024, month, day)
    except ValueError:
        return False
    return True


def _day_month_year(day: int, month: int, year: int | None, case: str) -> str | None:
    if not _is_date(day, month, year):
        return None
    out = f"{ordinal(day, case, 'neut')} {MONTHS[month - 1]}"
    return out + " " + year_words(year) if year is not None else out


_YEAR_WORD = r"(?:\s*(?:г\.|года?\b))?"
# 03.12.2026, 3.12.26, 15-04-26, 5/4/2026 (day first, as Russians write it), same separator.
_FULL_DATE = re.compile(
    r"(?<![\d.,/\-])(\d{1,2})([./\-])(\d{1,2})\2(\d{4}|\d{2})(?![\d]|[./\-]\d)" + _YEAR_WORD
)
_ISO_DATE = re.compile(r"(?<![\d.,/\-])(\d{4})-(\d{2})-(\d{2})(?![\d\-])")
_SHORT_DATE = re.compile(
    r"(?<![\d.,])(\d{2})\.(\d{2})(?!\d|[.,]\d|\s*(?:руб(?:лей|ля|ль|\.)?|р\.|₽))"
)
_DAY_MONTH = re.compile(
    r"(?<![\d.,])(\d{1,2})\s+(" + MONTH_RE + r")(?:\s+(\d{4})" + _YEAR_WORD + r")?"
)
_YEAR = re.compile(r"(?<![\d.,])(\d{4})\s*(?:(г\.)|(года|году|год|гг\.))")


def _full_date(m: re.Match[str]) -> str:
    year = int(_full_year(m.group(4)))
    spoken = _day_month_year(int(m.group(1)), int(m.group(3)), year, _date_case(m))
    return spoken if spoken is not None else m.group(0)


def _iso_date(m: re.Match[str]) -> str:
    spoken = _day_month_year(int(m.group(3)), int(m.group(2)), int(m.group(1)), _date_case(m))
    return spoken if spoken is not None else m.group(0)


def _short_date(m: re.Match[str]) -> str:
    spoken = _day_month_year(int(m.group(1)), int(m.group(2)), None, _date_case(m))
    return spoken if spoken is not None else m.group(0)


def _day_month(m: re.Match[str]) -> str:
    day = int(m.group(1))
    if not 1 <= day <= 31:
        return m.group(0)
    out = f"{ordinal(day, _date_case(m), 'neut')} {m.group(2)}"
    if m.group(3):
        out += " " + year_words(int(m.group(3)))
    return out


def _year(m: re.Match[str]) -> str:
    year = int(m.group(1))
    if m.group(2):  # "2026 г." — after "в" it is "в … году", otherwise "… года"
        case = "loct" if prev_word(m) in ("в", "во") else "gent"
        return year_words(year, case)
    noun = m.group(3)
    if noun == "гг.":
        return f"{ordinal(year, 'gent')} годов"
    case = {"года": "gent", "году": "loct", "год": "nomn"}[noun]
    return year_words(year, case)


# ---- ranges of days: "с 1 по 5 марта", "10–15 мая" -------------------------------------------

_DAY = r"(\d{1,2})(?:-?(?:го|е|ое))?"
_DAY_RANGE = re.compile(
    r"(?<![\w.,])([Сс]о?)\s+" + _DAY + r"\s+(по|до)\s+" + _DAY + r"\s+(" + MONTH_RE + r")"
)
_DAY_DASH_RANGE = re.compile(
    r"(?<![\d.,])" + _DAY + r"\s*[-–—]\s*" + _DAY + r"\s+(" + MONTH_RE + r")"
)


def _day_range(m: re.Match[str]) -> str:
    """The first day shares the month of the second: "с первого по пятое марта"."""
    first, word, last, month = int(m.group(2)), m.group(3), int(m.group(4)), m.group(5)
    if not (1 <= first <= 31 and 1 <= last <= 31):
        return m.group(0)
    last_case = "accs" if word == "по" else "gent"
    return (
        f"{m.group(1)} {ordinal(first, 'gent', 'neut')} {word} "
        f"{ordinal(last, last_case, 'neut')} {month}"
    )


def _day_dash_range(m: re.Match[str]) -> str:
    """ "10–15 мая" is read "с десятого по пятнадцатое мая"; after a preposition both days
    take its case: "к 10–15 мая" → "к десятому-пятнадцатому мая"."""
    first, last, month = int(m.group(1)), int(m.group(2)), m.group(3)
    if not (1 <= first < last <= 31):
        return m.group(0)
    if prep_case(m) is not None:
        case = _date_case(m)
        return f"{ordinal(first, case, 'neut')}-{ordinal(last, case, 'neut')} {month}"
    return f"с {ordinal(first, 'gent', 'neut')} по {ordinal(last, 'accs', 'neut')} {month}"


# In order: ranges before single days, numeric dates before the day-and-month words.
DATE_PASSES: list[Pass] = [
    (_ABBREVIATED_DATE, _abbreviated_date),
    (_DAY_RANGE, _day_range),
    (_DAY_DASH_RANGE, _day_dash_range),
    (_FULL_DATE, _full_date),
    (_ISO_DATE, _iso_date),
    (_DAY_MONTH, _day_month),
    (_YEAR, _year),
]
# "12.05" after clock times have had their turn ("с 8.30" is a time).
SHORT_DATE_PASS: Pass = (_SHORT_DATE, _short_date)

"""Times of day: clock times ("с 10:00" → "с десяти ноль-ноль") and hours with a part of the day
("в 9 утра" → "в девять утра": the hour is read in the preposition's case, the part of the day
stays as written)."""

from __future__ import annotations

import re

from cuckoo.speech.normalize.context import TIME_PREPS, Pass, prep_case, prev_word
from cuckoo.speech.normalize.numbers import cardinal, count_phrase

# ---- clock times -------------------------------------------------------------------------------

_TIME = r"([01]?\d|2[0-3])[:.]([0-5]\d)"
_TIME_RANGE = re.compile(r"(?<![\d:.,])" + _TIME + r"\s*[-–—]\s*" + _TIME + r"(?![\d:])")
_TIME_ONE = re.compile(r"(?<![\d:.,])([01]?\d|2[0-3]):([0-5]\d)(?![\d:])")
# "8.30" is a time only right after a preposition of time ("с 8.30 до 17.00"); else a decimal.
_TIME_DOTTED = re.compile(r"(?<![\d.,])([01]?\d|2[0-3])\.([0-5]\d)(?![\d]|[.,]\d)")


def _clock(hours: int, minutes: int, case: str) -> str:
    """Clock time: "10:00" → "десять ноль-ноль", "9:05" → "девять ноль пять", in `case`."""
    h = cardinal(hours, case)
    if minutes == 0:
        return f"{h} ноль-ноль"
    if minutes < 10:
        return f"{h} ноль {cardinal(minutes, case)}"
    return f"{h} {cardinal(minutes, case)}"


def _time_case(m: re.Match[str]) -> str:
    case = prep_case(m)
    return case if case in ("gent", "datv") else "nomn"


def _time_range(m: re.Match[str]) -> str:
    a = _clock(int(m.group(1)), int(m.group(2)), "gent")
    b = _clock(int(m.group(3)), int(m.group(4)), "gent")
    return f"{a} до {b}" if prev_word(m) in ("с", "со") else f"с {a} до {b}"


def _time_one(m: re.Match[str]) -> str:
    return _clock(int(m.group(1)), int(m.group(2)), _time_case(m))


def _could_be_date(hours: str, minutes: int) -> bool:
    """ "01.06" (a zero-led hour, 01..12 after the dot) and "30.09" read as day and month."""
    return int(hours) > 23 or (hours.startswith("0") and 1 <= minutes <= 12)


# The other end of a range: "с 15.09 по 30.09", "с 01.09 до 17.09".
_DOTTED_AFTER = re.compile(r"\s+(по|до)\s+(\d{1,2})\.(\d{2})(?!\d)")
_DOTTED_BEFORE = re.compile(r"(?:^|\s)(?:[Сс]о?)\s+(\d{1,2})\.(\d{2})\s+(по|до)\s+$")


def _range_partner(m: re.Match[str]) -> tuple[str, str, int] | None:
    """The connector ("по"/"до"), hours and minutes of the other end of a dotted range."""
    after = _DOTTED_AFTER.match(m.string, m.end())
    if after:
        return after.group(1), after.group(2), int(after.group(3))
    before = _DOTTED_BEFORE.search(m.string[: m.start()])
    if before:
        return before.group(3), before.group(1), int(before.group(2))
    return None


def _time_dotted(m: re.Match[str]) -> str:
    """ "с 8.30 до 17.00": a time only right after a preposition of time. A range with "по", or
    whose other end is a date, is a range of dates: "с 15.09 по 30.09", "с 01.06 до 15.06"."""
    word = prev_word(m)
    hours, minutes = m.group(1), int(m.group(2))
    if word not in TIME_PREPS or word == "на" or _could_be_date(hours, minutes):
        return m.group(0)
    partner = _range_partner(m)
    if partner and (partner[0] == "по" or _could_be_date(partner[1], partner[2])):
        return m.group(0)
    return _clock(int(hours), minutes, _time_case(m))


# ---- hours with a part of the day: "в 9 утра", "к 4 дня", "в 1 час ночи" ----------------------

_DAY_PART = re.compile(
    r"(?<![\d.,:])([01]?\d|2[0-3])(?:\s+(час(?:а|ов|у)?))?(?=\s+(утра|дня|вечера|ночи)\b)"
)
# "в 1 час" (at one o'clock) is "в час"; "через 1 час" stays a count.
_ONE_OCLOCK = re.compile(r"(?<=\b[Вв] )1\s+час\b(?!\w)")
_HOUR_WORDS = {"nomn": "час", "accs": "час", "gent": "часа", "datv": "часу"}


def _day_part(m: re.Match[str]) -> str:
    hour, hour_word, part = int(m.group(1)), m.group(2), m.group(3)
    word = prev_word(m)
    # "за 2 дня", "через 3 дня" count days; only after a preposition of time is it 2 p.m.
    if part == "дня" and not hour_word and word not in TIME_PREPS:
        return m.group(0)
    case = prep_case(m) if word in TIME_PREPS else None
    case = case if case in ("gent", "datv") else "nomn"
    if hour == 1:
        return _HOUR_WORDS[case]  # "в час ночи", "к часу дня"
    if hour_word:
        return count_phrase(hour, "час", case)
    return cardinal(hour, case)


TIME_PASSES: list[Pass] = [
    (_TIME_RANGE, _time_range),
    (_TIME_ONE, _time_one),
    (_TIME_DOTTED, _time_dotted),
    (_DAY_PART, _day_part),
    (_ONE_OCLOCK, lambda m: "час"),
]

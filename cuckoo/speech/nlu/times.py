"""A spoken time ("завтра в десять", "без пятнадцати двенадцать", "через полчаса") → the next
matching moment after `now`, in `now`'s zone.

Rules (they are what a callback time means to an operator; change them here, not in callers):

- An hour with no part of day: 1–7 mean p.m. ("в три" → 15:00), 8–12 as said ("в восемь" → 8:00,
  "в двенадцать" → 12:00), 13–23 as said; "в час" → 13:00. "утра"/"утром" keep the hour as
  said; "дня"/"днём" move 1–6 to p.m.; "вечера"/"вечером"/"после обеда" move 1–11 to p.m.;
  "ночи" keeps it.
- "половина одиннадцатого" = 10:30, "четверть третьего" = 14:15, "без пятнадцати двенадцать" =
  11:45: the rule above applies to the hour named ("третьего" → 15), then the minutes move it.
- A time with no day: today if still ahead (strictly after now), else tomorrow.
- A day with no time: `DayParts.default` (10:00). A part of day alone: its configured hour.
- A weekday: the next such day after today ("в среду" said on Wednesday = next week); "в
  следующую пятницу" = the Friday of next calendar week; "на следующей неделе" = next Monday.
- "двадцать пятого": this month if that moment is still ahead, else the next month that has the
  day; with a month ("пятого декабря"): this year if ahead, else next year.
- "через полчаса / N минут / N часов": now + that, exactly. "через N дней / неделю / месяц": the
  same wall-clock time that many days later (a DST change does not move it).
- "сегодня" alone names no time; "сегодня" with a time already past → p.m. if that helps, else
  no time. A phrase that names no time ("попозже", "в следующем году") gives None.
- "в начале десятого" = 9:00 (the start of the named hour, by the rule above: "в начале
  третьего" = 14:00); "десять минут пятого" = 16:10.
- Minutes after the hour word: "в десять часов сорок минут" = 10:40, "в шестнадцать часов пять
  минут" = 16:05, "в два часа ноль пять" = 14:05, "в час тридцать" = 13:30; a bare small number
  after "часов" stays an hour ("часов в пять"). "без десяти минут три" = 14:50.
- A year after a month ("седьмого декабря две тысячи двадцать шестого года", "…2027 года") is
  read as the year, not as another day; a date already past in that year names no time.
- A time in a report of the past ("да получил ещё в понедельник", "пришли сегодня утром",
  "оплатил вчера вечером") is
  when something happened, not a callback: None, unless the utterance also asks for a call or
  proposes a time ("не получил, перезвоните в понедельник", "получили, давайте в пятницу").
"""

from __future__ import annotations

import calendar
import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from cuckoo.speech.nlu.words import Item, Num, ordinal_values, read_numbers, tokenize


@dataclass(frozen=True)
class DayParts:
    """Hours (h, m) that parts of the day mean. Configurable per tenant."""

    morning: tuple[int, int] = (9, 0)  # "утром", "с утра", "в первой половине дня", "до обеда"
    day: tuple[int, int] = (13, 0)  # "днём", "в обед"
    after_lunch: tuple[int, int] = (14, 0)  # "после обеда", "во второй половине дня"
    evening: tuple[int, int] = (18, 0)  # "вечером", "ближе к вечеру"
    default: tuple[int, int] = (10, 0)  # a day named without a time ("завтра", "в пятницу")

    @classmethod
    def from_mapping(cls, values: Mapping[str, str], *, where: str = "day_parts") -> DayParts:
        """From config strings: {"morning": "9:00", "evening": "18:30"}; others keep defaults.
        Errors name `where` and the key."""
        fields = {f.name for f in dataclasses.fields(cls)}
        parsed: dict[str, tuple[int, int]] = {}
        for key, value in values.items():
            if key not in fields:
                raise ValueError(f"{where}.{key}: unknown part of day (one of {sorted(fields)})")
            match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", str(value).strip())
            if match is None:
                raise ValueError(f"{where}.{key}: {value!r} is not a time like 9:00")
            parsed[key] = (int(match.group(1)), int(match.group(2)))
        return cls(**parsed)


# Phrases rewritten to simpler ones before parsing.
_PHRASES = [
    (r"\bв первой половине дня\b", "утром"),
    (r"\bво второй половине дня\b", "после обеда"),
    (r"\bв обеденное время\b|\bв обеденный перерыв\b", "в обед"),
    (r"\bближе к вечеру\b|\bк вечеру\b|\bвечерком\b", "вечером"),
    (r"\bв районе обеда\b|\bк обеду\b|\bближе к обеду\b", "в обед"),
    (r"\bутречком\b", "утром"),
    (r"\bполчасика\b", "полчаса"),
    (r"\bв начале следующей недели\b", "на следующей неделе"),
    (r"\bпосле завтра\b", "послезавтра"),
    (r"\bполдень\b", "двенадцать дня"),
    (r"\bпол (?=[а-я]+ого\b)", "пол"),  # "пол пятого" → "полпятого"
]
_PHRASES_COMPILED = [(re.compile(p), r) for p, r in _PHRASES]

_WEEKDAYS = {
    "понедельник": 0, "понедельника": 0,
    "вторник": 1, "вторника": 1,
    "среду": 2, "среда": 2, "среды": 2,
    "четверг": 3, "четверга": 3,
    "пятницу": 4, "пятница": 4, "пятницы": 4,
    "субботу": 5, "суббота": 5, "субботы": 5,
    "воскресенье": 6, "воскресенья": 6,
}  # fmt: skip
_MONTH_NAMES = (
    "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
)  # fmt: skip
_MONTHS = {name: i + 1 for i, name in enumerate(_MONTH_NAMES)}
# Unit words after "через" → (kind, amount of that kind per unit).
_UNITS = {
    "минуту": ("min", 1), "минуты": ("min", 1), "минут": ("min", 1), "минутку": ("min", 1),
    "час": ("min", 60), "часа": ("min", 60), "часов": ("min", 60), "часик": ("min", 60),
    "часок": ("min", 60), "часика": ("min", 60), "часиков": ("min", 60),
    "минуток": ("min", 1), "минуточку": ("min", 1), "минуточек": ("min", 1),
    "день": ("day", 1), "дня": ("day", 1), "дней": ("day", 1), "сутки": ("day", 1),
    "денек": ("day", 1), "денька": ("day", 1), "деньков": ("day", 1),
    "неделю": ("day", 7), "недельку": ("day", 7), "недели": ("day", 7), "недель": ("day", 7),
    "месяц": ("month", 1), "месяца": ("month", 1), "месяцев": ("month", 1),
}  # fmt: skip
# Words before a number that make it an hour ("в десять", "к трём", "часа в четыре").
_HOUR_BEFORE = {
    "в",
    "во",
    "к",
    "ко",
    "с",
    "со",
    "около",
    "после",
    "до",
    "районе",
    "раньше",
    "позже",
}
_HOUR_BEFORE |= {"часа"}
_HOUR_BEFORE |= {"часов", "часиков", "часика"}
_HOUR_WORDS = {"час", "часа", "часов", "часиков"}
_MINUTE_WORDS = {"минут", "минуты", "минуту", "минутой"}
_THOUSANDS = {"тысячи", "тысяча", "тысяч"}
_YEAR_WORDS = {"года", "году", "год"}
_SUFFIX_PARTS = {"утра": "morning", "дня": "day", "вечера": "evening", "ночи": "night"}


@dataclass
class _Spec:
    """What the utterance said, before it is resolved against now."""

    minutes: int | None = None  # "через N минут/часов": an absolute shift
    days: int | None = None  # "через N дней": wall-clock days
    months: int | None = None
    today: bool = False
    day_offset: int | None = None  # завтра = 1, послезавтра = 2
    weekday: int | None = None
    next_week: bool = False  # "следующ…" before a weekday or "неделе"
    day_of_month: int | None = None
    month: int | None = None
    year: int | None = None  # said after a month; a past date then names no time
    hour: int | None = None  # as named, before the p.m. rule
    minute_offset: int = 0  # "без пятнадцати" = -15, "пятнадцать тридцать" = +30
    hour_part: str | None = None  # "утра", "дня", "вечера", "ночи" said with the hour
    part: str | None = None  # "утром", "после обеда"…
    same_time: bool = False  # "в это же время": now's time of day
    found: list[str] = field(default_factory=list)

    @property
    def has_day(self) -> bool:
        return (
            self.today
            or self.day_offset is not None
            or self.weekday is not None
            or self.day_of_month is not None
            or self.next_week
        )


class _Parser:
    def __init__(self, items: list[Item]) -> None:
        self.items = items
        self.spec = _Spec()

    def word(self, i: int) -> str | None:
        if 0 <= i < len(self.items):
            item = self.items[i]
            return item if isinstance(item, str) else None
        return None

    def num(self, i: int) -> Num | None:
        if 0 <= i < len(self.items):
            item = self.items[i]
            return item if isinstance(item, Num) else None
        return None

    def parse(self) -> _Spec:
        i = 0
        matchers = (
            self._relative,
            self._half_quarter,
            self._without,
            self._day_word,
            self._minutes_past,
            self._hour,
            self._date,
            self._part,
        )
        while i < len(self.items):
            for matcher in matchers:
                end = matcher(i)
                if end is not None:
                    i = end
                    break
            else:
                i += 1
        return self.spec

    # "через полчаса", "через два часа", "через минут десять", "минут через двадцать"
    def _relative(self, i: int) -> int | None:
        if self.word(i) != "через":
            return None
        nxt = self.word(i + 1)
        if nxt == "полчаса":
            self.spec.minutes = 30
            return i + 2
        if nxt in ("полтора", "полторы", "полутора"):
            half_unit, end = self.word(i + 2), i + 3
            if half_unit not in _UNITS:  # "часа через полтора"
                half_unit, end = self.word(i - 1), i + 2
            if half_unit in _UNITS and _UNITS[half_unit][0] == "min":
                self.spec.minutes = 90 if _UNITS[half_unit][1] == 60 else 1
                return end
        amount: int | None = None
        unit: str | None = None
        end = i + 1
        number = self.num(i + 1)
        if number is not None and not number.ordinal:
            amount, end = number.value, i + 2
        elif nxt in ("пару", "пора"):
            amount, end = 2, i + 2
        if self.word(end) in _UNITS:
            unit = self.word(end)
            end += 1
            if amount is None:
                after = self.num(end)
                # "через минут десять"; not "через час пять минут" (an hour and five minutes)
                if after is not None and not after.ordinal and self.word(end + 1) not in _UNITS:
                    amount, end = after.value, end + 1
        elif amount is not None and self.word(i - 1) in _UNITS:  # "минут через двадцать"
            unit = self.word(i - 1)
        if unit is None:
            return None
        kind, per = _UNITS[unit]
        total = (1 if amount is None else amount) * per
        if kind == "min" and per == 60:  # "через два часа тридцать минут"
            extra = self.num(end)
            if extra is not None and not extra.ordinal and self.word(end + 1) in _MINUTE_WORDS:
                total, end = total + extra.value, end + 2
        if kind == "min":
            self.spec.minutes = total
        elif kind == "day":
            self.spec.days = total
        else:
            self.spec.months = total
        return end

    # "в половине одиннадцатого", "полпятого", "в четверть третьего"
    def _half_quarter(self, i: int) -> int | None:
        w = self.word(i)
        if w is None:
            return None
        if w in ("половине", "половина", "пол") or w == "четверть":
            hour = self.num(i + 1)
            if hour is None or not hour.ordinal or not 1 <= hour.value <= 12:
                return None
            self.spec.hour = hour.value
            self.spec.minute_offset = -30 if w != "четверть" else -45
            return self._hour_suffix(i + 2)
        if w == "начале" and self._hour_ordinal(i + 1) is not None:  # "в начале десятого"
            self.spec.hour = self._hour_ordinal(i + 1)
            self.spec.minute_offset = -60
            return self._hour_suffix(i + 2)
        if w.startswith("пол") and len(w) > 5:
            value = ordinal_values().get(w[3:])
            if value is not None and 1 <= value <= 12:
                self.spec.hour = value
                self.spec.minute_offset = -30
                return self._hour_suffix(i + 1)
        return None

    def _hour_ordinal(self, i: int) -> int | None:
        """An hour named by its ordinal in the genitive: "десятого" → 10 (1–12 only)."""
        number = self.num(i)
        if number is None or not number.ordinal or not 1 <= number.value <= 12:
            return None
        return number.value if number.text.endswith(("ого", "его")) else None

    # "десять минут пятого" = 16:10, "пять минут седьмого"
    def _minutes_past(self, i: int) -> int | None:
        number = self.num(i)
        if number is None or number.ordinal or not 1 <= number.value <= 59:
            return None
        if self.word(i + 1) not in ("минут", "минуты", "минуту"):
            return None
        hour = self._hour_ordinal(i + 2)
        if hour is None:
            return None
        self.spec.hour = hour
        self.spec.minute_offset = number.value - 60
        return self._hour_suffix(i + 3)

    # "без пятнадцати двенадцать", "без четверти три", "без десяти час"
    def _without(self, i: int) -> int | None:
        if self.word(i) != "без":
            return None
        if self.word(i + 1) == "четверти":
            minutes = 15
        else:
            number = self.num(i + 1)
            if number is None or number.ordinal or not 1 <= number.value <= 30:
                return None
            minutes = number.value
        at = i + 2
        if self.word(at) in _MINUTE_WORDS:  # «без десяти минут три»
            at += 1
        hour_num = self.num(at)
        if hour_num is not None and not hour_num.ordinal and 1 <= hour_num.value <= 24:
            hour = hour_num.value
        elif self.word(at) == "час":
            hour = 1
        else:
            return None
        self.spec.hour = hour
        self.spec.minute_offset = -minutes
        return self._hour_suffix(at + 1)

    def _day_word(self, i: int) -> int | None:
        w = self.word(i)
        if w == "сегодня":
            self.spec.today, self.spec.day_offset = True, None
            self.spec.weekday = self.spec.day_of_month = None
            return i + 1
        if w in ("завтра", "послезавтра"):
            self.spec.today = False
            self.spec.day_offset = 1 if w == "завтра" else 2
            self.spec.weekday = self.spec.day_of_month = None
            return i + 1
        if w in _WEEKDAYS:
            self.spec.today, self.spec.day_offset, self.spec.day_of_month = False, None, None
            self.spec.weekday = _WEEKDAYS[w]
            before = (self.word(i - 1) or "", self.word(i - 2) or "", self.word(i - 3) or "")
            if any(b.startswith("следующ") for b in before):
                self.spec.next_week = True
            return i + 1
        if w is not None and w.startswith("следующ") and self.word(i + 1) in ("неделе", "недели"):
            self.spec.next_week = True
            return i + 2
        return None

    def _hour_suffix(self, i: int) -> int:
        """Skip "часов"/"часа" and read "утра"/"дня"/"вечера"/"ночи" after an hour; after
        "часов", minutes too ("в десять часов сорок минут" = 10:40)."""
        if self.word(i) in _HOUR_WORDS:
            i = self._minutes(i + 1, after_hour_word=True)
        part = self.word(i)
        if part in _SUFFIX_PARTS:
            self.spec.hour_part = _SUFFIX_PARTS[part]
            i += 1
        return i

    # "в десять", "в пятнадцать тридцать", "к трём", "в час дня", "часа в четыре"
    def _hour(self, i: int) -> int | None:
        before = self.word(i - 1)
        if self.word(i) == "час" and before in _HOUR_BEFORE:  # "в час", "в час тридцать"
            self.spec.hour, self.spec.minute_offset = 1, 0
            return self._hour_suffix(self._minutes(i + 1, after_hour_word=True))
        number = self.num(i)
        if number is None or number.ordinal or not 0 <= number.value <= 24:
            return None
        after = self.word(i + 1)
        if before not in _HOUR_BEFORE and after not in (_HOUR_WORDS | set(_SUFFIX_PARTS)):
            return None
        if before == "до" and self.spec.hour is not None:
            return i + 1  # "с десяти до двенадцати": the call is due at the start
        self.spec.hour, self.spec.minute_offset = number.value, 0
        return self._hour_suffix(self._minutes(i + 1, after_hour_word=False))

    def _minutes(self, i: int, *, after_hour_word: bool) -> int:
        """Minutes said after an hour: "ноль пять", "тридцать", "сорок минут"; returns where they
        end. Right after the hour's number any 1–59 is minutes ("пятнадцать тридцать"); after
        "часов" a bare number must look like minutes ("десять часов сорок"), since "часов пять"
        alone is an hour ("часов в пять")."""
        first = self.num(i)
        if first is None or first.ordinal:
            return i
        if first.value == 0:
            second = self.num(i + 1)  # "ноль ноль", "ноль пять"
            if second is not None and not second.ordinal and second.value <= 9:
                self.spec.minute_offset += second.value
                return i + 2
            return i + 1
        named = after_hour_word and self.word(i + 1) in _MINUTE_WORDS
        if not 1 <= first.value <= 59 or (self.word(i + 1) in _UNITS and not named):
            return i
        if after_hour_word and not named and first.value < 10:
            return i
        self.spec.minute_offset += first.value
        return i + 2 if named else i + 1

    # "двадцать пятого", "пятого декабря", "первого числа"
    def _date(self, i: int) -> int | None:
        number = self.num(i)
        if number is None or not number.ordinal or not 1 <= number.value <= 31:
            return None
        if not number.text.endswith(("ого", "его", "ое", "ье", "ому", "ему")):
            return None  # "третий раз" is not a date; "третьего", "на третье", "к третьему" are
        self.spec.today, self.spec.day_offset, self.spec.weekday = False, None, None
        self.spec.day_of_month = number.value
        end = i + 1
        month = self.word(end)
        if month in _MONTHS:
            self.spec.month = _MONTHS[month]
            end += 1
            end = self._year(end)
        if self.word(end) == "числа":
            end += 1
        return end

    def _year(self, i: int) -> int:
        """A year after a month («две тысячи двадцать шестого года», «2027 года»), so that its
        ordinal is not read as another day; returns where the year ends."""
        year: int | None = None
        end = i
        first = self.num(i)
        if first is not None and first.value == 2 and self.word(i + 1) in _THOUSANDS:
            tail = self.num(i + 2)
            if tail is not None and tail.ordinal and 1 <= tail.value <= 99:
                year, end = 2000 + tail.value, i + 3
        elif first is not None and first.ordinal and self.word(i + 1) in _YEAR_WORDS:
            year, end = (2000 + first.value if first.value < 100 else None), i + 1
        elif first is not None and 2000 <= first.value <= 2099:  # a transcript with digits
            year, end = first.value, i + 1
        if end == i:
            return i
        self.spec.year = year
        return end + 1 if self.word(end) in _YEAR_WORDS else end

    def _part(self, i: int) -> int | None:
        w, nxt = self.word(i), self.word(i + 1)
        if w == "это" and nxt in ("же", "время") and "время" in (nxt, self.word(i + 2)):
            self.spec.same_time = True  # "в это же время", "в это время"
            return i + (3 if nxt == "же" else 2)
        if w in ("утром", "утра") or (w == "с" and nxt == "утра"):
            self.spec.part = "morning"
            return i + (2 if w == "с" else 1)
        if w in ("днем", "обед") or (w == "в" and nxt == "обед"):
            self.spec.part = "day"
            return i + (2 if w == "в" else 1)
        if w in ("после", "до") and nxt == "обеда":
            self.spec.part = "after_lunch" if w == "после" else "morning"
            return i + 2
        if w in ("вечером", "вечера", "вечер"):
            self.spec.part = "evening"
            return i + 1
        return None


def _pm_rule(hour: int, hour_part: str | None, part: str | None) -> int:
    """The hour on a 24-hour clock, by the rules in the module docstring."""
    said = hour_part or part
    if hour == 24:
        return 0
    if hour >= 13:
        return hour
    if said == "morning":
        return hour
    if said == "night":
        return 0 if hour == 12 else hour
    if said == "day":
        return hour + 12 if 1 <= hour <= 6 else hour
    if said in ("evening", "after_lunch"):
        return hour + 12 if 1 <= hour <= 11 else hour
    return hour + 12 if 1 <= hour <= 7 else hour


def _local(day: date, hm: tuple[int, int], now: datetime) -> datetime:
    return datetime.combine(day, time(hm[0], hm[1]), tzinfo=now.tzinfo)


def _add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _clock(spec: _Spec, parts: DayParts) -> tuple[int, int] | None:
    """The time of day the utterance names, or None."""
    if spec.hour is not None:
        total = _pm_rule(spec.hour, spec.hour_part, spec.part) * 60 + spec.minute_offset
        total %= 24 * 60
        return divmod(total, 60)
    if spec.part is not None:
        hm: tuple[int, int] = getattr(parts, spec.part)
        return hm
    return None


def _clock_or_now(spec: _Spec, parts: DayParts, now: datetime) -> tuple[int, int] | None:
    clock = _clock(spec, parts)
    if clock is None and spec.same_time:
        return (now.hour, now.minute)
    return clock


def resolve(spec: _Spec, now: datetime, parts: DayParts) -> datetime | None:
    """The next moment after `now` that matches `spec`, aware in now's zone."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (the customer's zone)")
    clock = _clock_or_now(spec, parts, now)
    today = now.date()
    if spec.minutes is not None:
        # Aware arithmetic within one tzinfo is wall-clock; "через полчаса" is elapsed time.
        return (now.astimezone(UTC) + timedelta(minutes=spec.minutes)).astimezone(now.tzinfo)
    if spec.days is not None or spec.months is not None:
        day = today + timedelta(days=spec.days or 0)
        day = _add_months(day, spec.months or 0)
        return _local(day, clock or (now.hour, now.minute), now)
    if spec.day_of_month is not None:
        return _resolve_date(spec, now, clock or parts.default)
    if spec.weekday is not None:
        if spec.next_week:
            monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
            day = monday + timedelta(days=spec.weekday)
        else:
            ahead = (spec.weekday - today.weekday()) % 7 or 7
            day = today + timedelta(days=ahead)
        return _local(day, clock or parts.default, now)
    if spec.next_week:
        monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
        return _local(monday, clock or parts.default, now)
    if spec.day_offset is not None:
        return _local(today + timedelta(days=spec.day_offset), clock or parts.default, now)
    if clock is None:
        return None  # "сегодня" alone, or nothing said about time
    moment = _local(today, clock, now)
    if moment > now:
        return moment
    if spec.today:
        # "сегодня в восемь" said at 14:00 means 20:00; if even that is past, no time.
        if spec.hour is not None and spec.hour_part is None and spec.part is None and clock[0] < 12:
            later = moment + timedelta(hours=12)
            return later if later > now else None
        return None
    return _local(today + timedelta(days=1), clock, now)


def _resolve_date(spec: _Spec, now: datetime, clock: tuple[int, int]) -> datetime | None:
    assert spec.day_of_month is not None
    if spec.year is not None and spec.month is not None:
        if spec.day_of_month > calendar.monthrange(spec.year, spec.month)[1]:
            return None
        moment = _local(date(spec.year, spec.month, spec.day_of_month), clock, now)
        return moment if moment > now else None
    year, month = now.year, spec.month or now.month
    for _ in range(25):
        if spec.day_of_month <= calendar.monthrange(year, month)[1]:
            moment = _local(date(year, month, spec.day_of_month), clock, now)
            if moment > now:
                return moment
        if spec.month is not None:
            year += 1
        else:
            month += 1
            if month == 13:
                year, month = year + 1, 1
    return None


# A report of the past ("получил ещё в понедельник") and what turns a time back into a proposal.
_PAST = re.compile(
    r"\b(?:получ\w*л[аио]?|пришл[аио]?|приходил[аио]?|забрал[аио]?|доставил[аио]?|"
    r"привезл[аио]?|привез|отправил[аио]?|(?:о|за)?платил[аи]?|перевел[аи]?|внес(?:ла|ли)?|"
    r"вчера|позавчера)\b"
)
_PROPOSAL = re.compile(
    r"\b(?:перезвон\w*|позвон\w*|набер\w*|звоните|давайте|давай|лучше|можно|можете|"
    r"сможете|удобно|удобнее|"
    r"перенес\w*|привезите|приезжайте|приду|приеду|заберу|буду|будем)\b"
)


def parse_time(text: str, now: datetime, parts: DayParts | None = None) -> datetime | None:
    """The moment `text` names, resolved against `now` (aware); None when it names none."""
    joined = " ".join(tokenize(text))
    if _PAST.search(joined) and not _PROPOSAL.search(joined):
        return None
    for pattern, replacement in _PHRASES_COMPILED:
        joined = pattern.sub(replacement, joined)
    spec = _Parser(read_numbers(joined.split())).parse()
    return resolve(spec, now, parts or DayParts())

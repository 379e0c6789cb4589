"""Russian phrases for dates, times and money, as the dialog templates need them.

Two kinds of output:
- `date_spoken` and `money` give compact text ("7 февраля", "1 250 руб. 50 коп.") that
  cuckoo.speech.normalize turns into words in the right case for the sentence;
- `when_spoken` and `time_spoken` spell words out themselves ("в пятницу, двадцатого ноября,
  в одиннадцать часов") because the case depends on the preposition we put in front, which
  the normalizer cannot know.

Pure functions, no I/O. The Jinja filters in cuckoo.dialog.templates wrap these.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

MONTHS_GEN = [
    "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
]  # fmt: skip

# Weekday (Monday = 0) after "в"/"во": accusative.
WEEKDAYS_ACC = [
    "в понедельник", "во вторник", "в среду", "в четверг", "в пятницу", "в субботу",
    "в воскресенье",
]  # fmt: skip

_ORD_UNITS_GEN = [
    "", "первого", "второго", "третьего", "четвёртого", "пятого", "шестого", "седьмого",
    "восьмого", "девятого",
]  # fmt: skip
_ORD_TEENS_GEN = [
    "десятого", "одиннадцатого", "двенадцатого", "тринадцатого", "четырнадцатого",
    "пятнадцатого", "шестнадцатого", "семнадцатого", "восемнадцатого", "девятнадцатого",
]  # fmt: skip

# Cardinals 0..19 and tens, nominative and genitive ("с девяти до двадцати одного часа").
_CARD_NOM = [
    "ноль", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять",
    "десять", "одиннадцать", "двенадцать", "тринадцать", "четырнадцать", "пятнадцать",
    "шестнадцать", "семнадцать", "восемнадцать", "девятнадцать",
]  # fmt: skip
_CARD_GEN = [
    "ноля", "одного", "двух", "трёх", "четырёх", "пяти", "шести", "семи", "восьми", "девяти",
    "десяти", "одиннадцати", "двенадцати", "тринадцати", "четырнадцати", "пятнадцати",
    "шестнадцати", "семнадцати", "восемнадцати", "девятнадцати",
]  # fmt: skip
_TENS_NOM = {20: "двадцать", 30: "тридцать", 40: "сорок", 50: "пятьдесят"}
_TENS_GEN = {20: "двадцати", 30: "тридцати", 40: "сорока", 50: "пятидесяти"}


def ordinal_day_gen(day: int) -> str:
    """1..31 as the genitive ordinal used in dates: 20 → "двадцатого", 31 → "тридцать первого"."""
    if not 1 <= day <= 31:
        raise ValueError(f"day of month out of range: {day}")
    if day < 10:
        return _ORD_UNITS_GEN[day]
    if day < 20:
        return _ORD_TEENS_GEN[day - 10]
    tens, unit = divmod(day, 10)
    tens_word = {2: "двадцать", 3: "тридцать"}[tens]
    if unit == 0:
        return {2: "двадцатого", 3: "тридцатого"}[tens]
    return f"{tens_word} {_ORD_UNITS_GEN[unit]}"


def cardinal(n: int, *, case: str = "nom", feminine: bool = False) -> str:
    """0..59 in words, nominative or genitive; `feminine` for "одна/две минуты"."""
    if not 0 <= n <= 59:
        raise ValueError(f"number out of range 0..59: {n}")
    small, tens = (_CARD_NOM, _TENS_NOM) if case == "nom" else (_CARD_GEN, _TENS_GEN)
    if n < 20:
        words = [small[n]]
    else:
        t, u = divmod(n, 10)
        words = [tens[t * 10]] + ([small[u]] if u else [])
    last = n % 10 if n >= 20 or n < 10 else None
    if feminine and case == "nom" and last in (1, 2):
        words[-1] = {1: "одна", 2: "две"}[last]
    if feminine and case == "gen" and last == 1:
        words[-1] = "одной"
    return " ".join(words)


def _plural(n: int, one: str, few: str, many: str) -> str:
    """Russian noun form after a number: 1 час, 2 часа, 5 часов (11–14 take "many")."""
    if 11 <= n % 100 <= 14:
        return many
    return {1: one, 2: few, 3: few, 4: few}.get(n % 10, many)


def time_words(t: time, *, case: str = "nom") -> str:
    """10:00 → "десять часов", 21:30 → "двадцать один час тридцать минут";
    case="gen": "девяти часов", "двадцати одного часа" (for "с … до …")."""
    h, m = t.hour, t.minute
    if case == "nom":
        hour = f"{cardinal(h)} {_plural(h, 'час', 'часа', 'часов')}"
        minutes = f" {cardinal(m, feminine=True)} {_plural(m, 'минута', 'минуты', 'минут')}"
    else:
        hour = f"{cardinal(h, case='gen')} {'часа' if h % 10 == 1 and h != 11 else 'часов'}"
        m_noun = "минуты" if m % 10 == 1 and m != 11 else "минут"
        minutes = f" {cardinal(m, case='gen', feminine=True)} {m_noun}"
    return hour + (minutes if m else "")


def when_spoken(at: datetime, today: date | None = None) -> str:
    """The call-back read-back: "в пятницу, двадцатого ноября, в одиннадцать часов";
    "завтра, в пятницу, двадцатого ноября, в одиннадцать часов" when `today` makes it so."""
    day = at.date()
    parts = [WEEKDAYS_ACC[day.weekday()], f"{ordinal_day_gen(day.day)} {MONTHS_GEN[day.month - 1]}"]
    if today is not None:
        delta = (day - today).days
        prefix = {0: "сегодня", 1: "завтра", 2: "послезавтра"}.get(delta)
        if prefix:
            parts.insert(0, prefix)
        if day.year != today.year:
            parts[-1] += f" {day.year} года"
    parts.append("в " + time_words(at.time()))
    return ", ".join(parts)


def as_date(value: Any) -> date:
    """A date from a date, a datetime, an ISO string ("2026-02-07") or the Russian
    "07.02.2026" that 1C and most Russian ERPs print."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return datetime.fromisoformat(text).date()
        except ValueError:
            pass
        try:
            return datetime.strptime(text, "%d.%m.%Y").date()
        except ValueError:
            pass
    raise ValueError(f"not a date: {value!r} (use YYYY-MM-DD or DD.MM.YYYY)")


def as_time(value: Any) -> time:
    """A time from a time, a datetime or "HH:MM"."""
    if isinstance(value, datetime):
        return value.time()
    if isinstance(value, time):
        return value
    if isinstance(value, int) and 0 <= value <= 23:
        return time(value)
    if isinstance(value, str):
        try:
            return time.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"not a time: {value!r} (use HH:MM)")


def date_spoken(value: Any, *, year: bool = False) -> str:
    """2026-02-07 → "7 февраля" ("7 февраля 2026 года" with year=True)."""
    d = as_date(value)
    text = f"{d.day} {MONTHS_GEN[d.month - 1]}"
    return f"{text} {d.year} года" if year else text


def _group(n: int) -> str:
    """1250 → "1 250": thousands apart so the normalizer reads one number."""
    return f"{n:,}".replace(",", " ")


def money(value: Any) -> str:
    """1250.5 → "1 250 руб. 50 коп."; whole amounts drop the kopecks: "300 руб."."""
    try:
        amount = Decimal(str(value).replace(" ", "").replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    kop_total = int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    sign = "минус " if kop_total < 0 else ""
    rub, kop = divmod(abs(kop_total), 100)
    text = f"{sign}{_group(rub)} руб."
    return f"{text} {kop:02d} коп." if kop else text

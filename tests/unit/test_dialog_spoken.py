"""Dates, times and money as the scenario templates speak them (cuckoo.dialog.spoken + filters)."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import jinja2
import pytest

from cuckoo.dialog import spoken, templates

MSK = ZoneInfo("Europe/Moscow")


@pytest.mark.parametrize(
    ("day", "words"),
    [
        (1, "первого"),
        (2, "второго"),
        (3, "третьего"),
        (4, "четвёртого"),
        (7, "седьмого"),
        (10, "десятого"),
        (11, "одиннадцатого"),
        (13, "тринадцатого"),
        (19, "девятнадцатого"),
        (20, "двадцатого"),
        (21, "двадцать первого"),
        (23, "двадцать третьего"),
        (30, "тридцатого"),
        (31, "тридцать первого"),
    ],
)
def test_ordinal_day_genitive(day: int, words: str) -> None:
    assert spoken.ordinal_day_gen(day) == words


@pytest.mark.parametrize("day", [0, 32, -1])
def test_ordinal_day_out_of_range(day: int) -> None:
    with pytest.raises(ValueError):
        spoken.ordinal_day_gen(day)


@pytest.mark.parametrize(
    ("t", "case", "words"),
    [
        (time(10), "nom", "десять часов"),
        (time(11), "nom", "одиннадцать часов"),
        (time(1), "nom", "один час"),
        (time(2), "nom", "два часа"),
        (time(4), "nom", "четыре часа"),
        (time(21), "nom", "двадцать один час"),
        (time(22), "nom", "двадцать два часа"),
        (time(0), "nom", "ноль часов"),
        (time(10, 30), "nom", "десять часов тридцать минут"),
        (time(9, 1), "nom", "девять часов одна минута"),
        (time(9, 2), "nom", "девять часов две минуты"),
        (time(9, 21), "nom", "девять часов двадцать одна минута"),
        (time(9, 11), "nom", "девять часов одиннадцать минут"),
        (time(9), "gen", "девяти часов"),
        (time(21), "gen", "двадцати одного часа"),
        (time(1), "gen", "одного часа"),
        (time(11), "gen", "одиннадцати часов"),
        (time(20), "gen", "двадцати часов"),
        (time(18, 30), "gen", "восемнадцати часов тридцати минут"),
        (time(18, 1), "gen", "восемнадцати часов одной минуты"),
        (time(14, 45), "gen", "четырнадцати часов сорока пяти минут"),
    ],
)
def test_time_words(t: time, case: str, words: str) -> None:
    assert spoken.time_words(t, case=case) == words


@pytest.mark.parametrize(
    ("at", "today", "phrase"),
    [
        # 2026-11-20 is a Friday.
        (
            datetime(2026, 11, 20, 11, tzinfo=MSK),
            None,
            "в пятницу, двадцатого ноября, в одиннадцать часов",
        ),
        (
            datetime(2026, 11, 20, 11, tzinfo=MSK),
            date(2026, 11, 19),
            "завтра, в пятницу, двадцатого ноября, в одиннадцать часов",
        ),
        (
            datetime(2026, 11, 19, 18, 30, tzinfo=MSK),
            date(2026, 11, 19),
            "сегодня, в четверг, девятнадцатого ноября, в восемнадцать часов тридцать минут",
        ),
        (
            datetime(2026, 11, 21, 10, tzinfo=MSK),
            date(2026, 11, 19),
            "послезавтра, в субботу, двадцать первого ноября, в десять часов",
        ),
        (
            datetime(2026, 11, 24, 10, tzinfo=MSK),
            date(2026, 11, 19),
            "во вторник, двадцать четвёртого ноября, в десять часов",
        ),
        (
            datetime(2027, 1, 3, 9, tzinfo=MSK),
            date(2026, 12, 30),
            "в воскресенье, третьего января 2027 года, в девять часов",
        ),
    ],
)
def test_when_spoken(at: datetime, today: date | None, phrase: str) -> None:
    assert spoken.when_spoken(at, today) == phrase


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (date(2026, 2, 7), "7 февраля"),
        ("2026-02-07", "7 февраля"),
        (datetime(2026, 12, 31, 23, 0), "31 декабря"),
        ("2026-05-01", "1 мая"),
        ("07.02.2026", "7 февраля"),
        ("2026-02-07T10:00:00+03:00", "7 февраля"),
    ],
)
def test_date_spoken(value: object, text: str) -> None:
    assert spoken.date_spoken(value) == text


def test_date_spoken_with_year() -> None:
    assert spoken.date_spoken("2026-02-07", year=True) == "7 февраля 2026 года"


@pytest.mark.parametrize("bad", ["2026/02/07", "31.02.2026", "вчера", 5, None])
def test_date_spoken_rejects(bad: object) -> None:
    with pytest.raises(ValueError, match="not a date"):
        spoken.date_spoken(bad)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1250.5, "1 250 руб. 50 коп."),
        ("1250.50", "1 250 руб. 50 коп."),
        ("1250,50", "1 250 руб. 50 коп."),
        (Decimal("1250.505"), "1 250 руб. 51 коп."),
        (300, "300 руб."),
        ("300.00", "300 руб."),
        ("0.05", "0 руб. 05 коп."),
        (1234567.89, "1 234 567 руб. 89 коп."),
        ("1 000", "1 000 руб."),
        (-15, "минус 15 руб."),
    ],
)
def test_money(value: object, text: str) -> None:
    assert spoken.money(value) == text


@pytest.mark.parametrize("bad", ["abc", "", "nan", None])
def test_money_rejects(bad: object) -> None:
    with pytest.raises(ValueError, match="not an amount"):
        spoken.money(bad)


@pytest.mark.parametrize(
    ("source", "variables", "text"),
    [
        ("{{ d | date_spoken }}", {"d": "2026-02-07"}, "7 февраля"),
        ("{{ d | date_spoken(true) }}", {"d": date(2026, 2, 7)}, "7 февраля 2026 года"),
        ("{{ a | money }}", {"a": "99.9"}, "99 руб. 90 коп."),
        ("с {{ t | time_spoken('gen') }}", {"t": "09:00"}, "с девяти часов"),
        ("в {{ t | time_spoken }}", {"t": "10:15"}, "в десять часов пятнадцать минут"),
        (
            "{{ at | when_spoken }}",
            {"at": datetime(2026, 11, 20, 11, tzinfo=MSK), "now": datetime(2026, 11, 19, 9)},
            "завтра, в пятницу, двадцатого ноября, в одиннадцать часов",
        ),
        ("{{ a }}\n   {{ b }}  !", {"a": "x", "b": "y"}, "x y !"),
    ],
)
def test_filters_in_templates(source: str, variables: dict[str, object], text: str) -> None:
    assert templates.render(source, variables) == text


def test_missing_variable_is_an_error() -> None:
    with pytest.raises(jinja2.UndefinedError):
        templates.render("{{ customer.patronymic }}", {"customer": {"first_name": "Пётр"}})


def test_sandbox_blocks_attribute_escape() -> None:
    with pytest.raises(jinja2.exceptions.SecurityError):
        templates.render("{{ x.__class__.__mro__ }}", {"x": "s"})


@pytest.mark.parametrize(
    ("source", "names"),
    [
        (
            "{{ customer.first_name }} {{ customer['patronymic'] }}",
            ["customer.first_name", "customer.patronymic"],
        ),
        ("{% for x in items %}{{ x.name }}{% endfor %}", ["items"]),
        ("{{ amount | money }} {{ now }}", ["amount", "now"]),
        ("Спасибо!", []),
    ],
)
def test_dotted_names(source: str, names: list[str]) -> None:
    assert templates.dotted_names(source) == names


@pytest.mark.parametrize(
    ("path", "variables", "missing"),
    [
        ("customer.first_name", {"customer": {"first_name": "П"}}, None),
        ("customer.patronymic", {"customer": {"first_name": "П"}}, "customer.patronymic"),
        ("customer.first_name", {}, "customer"),
        ("order.no.x", {"order": {"no": "5"}}, "order.no.x"),
        ("at.hour", {"at": datetime(2026, 1, 1)}, None),
    ],
)
def test_missing_name(path: str, variables: dict[str, object], missing: str | None) -> None:
    assert templates.missing_name(path, variables) == missing

"""Properties over generated input: understand() never fails, and its time is always after `now`
and in now's zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from cuckoo.speech.nlu import Intent, understand

_WORDS = [
    "да", "нет", "не", "завтра", "послезавтра", "сегодня", "в", "во", "к", "с", "до", "после",
    "через", "без", "половине", "пол", "четверть", "четверти", "час", "часа", "часов", "минут",
    "неделю", "дня", "утра", "вечера", "ночи", "утром", "вечером", "обеда", "пятницу",
    "понедельник", "следующую", "неделе", "десять", "двадцать", "пятого", "двадцать пятого",
    "тридцать первого", "ноль", "пятнадцать", "тридцать", "двенадцать", "одиннадцатого",
    "декабря", "февраля", "числа", "полчаса", "пару", "полтора", "звоните", "больше",
    "оператора", "повторите", "что", "ну", "можно", "давайте", "это", "же", "время", "24", "99",
]  # fmt: skip
_ZONES = ["Europe/Moscow", "Asia/Kamchatka", "Europe/Berlin", "America/New_York", "UTC"]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(_WORDS), max_size=8),
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2030, 12, 31)),
    st.sampled_from(_ZONES),
)
def test_understand_is_total_and_looks_forward(words: list[str], now: datetime, zone: str) -> None:
    aware = now.replace(tzinfo=ZoneInfo(zone))
    got = understand(" ".join(words), aware)
    assert isinstance(got.intent, Intent)
    assert 0.0 <= got.confidence <= 1.0
    if got.time is not None:
        assert got.time.tzinfo == aware.tzinfo
        assert got.time.timestamp() > aware.timestamp() - 1  # never in the past
        assert got.time - aware < timedelta(days=800)

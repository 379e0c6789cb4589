"""Calling windows: weekday ranges, Russian holidays (checked against what `holidays.RU` says),
zones from UTC+2 to UTC+12, half-open ranges, config parsing and its error messages."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from cuckoo.policy.windows import CallingWindow, is_public_holiday

MSK = "Europe/Moscow"
DEFAULT = CallingWindow()


def local(tz: str, y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=ZoneInfo(tz))


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


# --- the holiday calendar we rely on: what holidays.RU really says ------------------------------

RU_DAYS_OFF = [
    # 2026 New Year holidays: Jan 1–8, plus Jan 9 moved from Saturday Jan 3.
    *[date(2026, 1, d) for d in range(1, 10)],
    date(2026, 2, 23),
    date(2026, 3, 9),  # Mar 8 is a Sunday → Monday off
    date(2026, 5, 1),
    date(2026, 5, 11),  # May 9 is a Saturday → Monday off
    date(2026, 6, 12),
    date(2026, 11, 4),
    date(2026, 12, 31),  # moved from Sunday Jan 4, 2026
    *[date(2027, 1, d) for d in range(1, 9)],
    date(2027, 2, 22),  # moved from Saturday Feb 20, 2027 (which becomes a working day)
    date(2027, 11, 5),  # moved from Saturday Jan 2, 2027
    date(2027, 12, 31),  # moved from Sunday Jan 3, 2027
    date(2025, 12, 31),  # moved from Sunday Jan 5, 2025
]
RU_WORKING_DAYS = [
    date(2026, 1, 12),
    date(2026, 2, 24),
    date(2026, 12, 30),
    date(2027, 1, 11),
    date(2027, 2, 20),  # a working Saturday
    date(2026, 11, 18),
]


@pytest.mark.parametrize("day", RU_DAYS_OFF, ids=str)
def test_public_holidays_and_moved_days_off(day: date) -> None:
    assert is_public_holiday(day)


@pytest.mark.parametrize("day", RU_WORKING_DAYS, ids=str)
def test_working_days_are_not_holidays(day: date) -> None:
    assert not is_public_holiday(day)


# --- next_open in Moscow: inside, before, after, weekend, holidays -------------------------------

# (case, local instant as (y, m, d, h, mi), expected opening as local (y, m, d, h, mi))
MOSCOW_CASES = [
    ("inside, Wednesday noon", (2026, 11, 18, 12, 0), (2026, 11, 18, 12, 0)),
    ("at opening sharp", (2026, 11, 18, 9, 0), (2026, 11, 18, 9, 0)),
    ("one minute before closing", (2026, 11, 18, 19, 59), (2026, 11, 18, 19, 59)),
    ("at closing sharp is closed", (2026, 11, 18, 20, 0), (2026, 11, 19, 9, 0)),
    ("before opening", (2026, 11, 18, 6, 30), (2026, 11, 18, 9, 0)),
    ("just after midnight", (2026, 11, 18, 0, 1), (2026, 11, 18, 9, 0)),
    ("after closing", (2026, 11, 18, 21, 0), (2026, 11, 19, 9, 0)),
    ("Friday evening → Saturday 10:00", (2026, 11, 20, 20, 30), (2026, 11, 21, 10, 0)),
    ("Saturday early", (2026, 11, 21, 9, 30), (2026, 11, 21, 10, 0)),
    ("Saturday inside", (2026, 11, 21, 17, 59), (2026, 11, 21, 17, 59)),
    ("Saturday after 18:00 → Monday", (2026, 11, 21, 18, 0), (2026, 11, 23, 9, 0)),
    ("Sunday → Monday", (2026, 11, 22, 12, 0), (2026, 11, 23, 9, 0)),
    ("Unity Day Wed Nov 4 → Thu", (2026, 11, 4, 12, 0), (2026, 11, 5, 9, 0)),
    ("eve of Unity Day", (2026, 11, 3, 20, 0), (2026, 11, 5, 9, 0)),
    # New Year 2026: Dec 31, 2025 (moved day off), Jan 1–8, Jan 9 (moved) → Sat Jan 10.
    ("Dec 30, 2025 evening", (2025, 12, 30, 20, 0), (2026, 1, 10, 10, 0)),
    ("New Year 2026 Jan 5", (2026, 1, 5, 12, 0), (2026, 1, 10, 10, 0)),
    ("Jan 9, 2026 moved day off", (2026, 1, 9, 9, 30), (2026, 1, 10, 10, 0)),
    ("Jan 10, 2026 Saturday evening", (2026, 1, 10, 18, 30), (2026, 1, 12, 9, 0)),
    # New Year 2027: Dec 31, 2026 (moved from Jan 4, 2026), Jan 1–8, 2027 → Sat Jan 9.
    ("Dec 30, 2026 evening", (2026, 12, 30, 20, 0), (2027, 1, 9, 10, 0)),
    ("Mar 8, 2026 Sunday + observed Monday", (2026, 3, 7, 18, 0), (2026, 3, 10, 9, 0)),
    ("Victory Day Sat + observed Mon 2026", (2026, 5, 8, 20, 0), (2026, 5, 12, 9, 0)),
    ("Victory Day Saturday itself is a holiday", (2026, 5, 9, 12, 0), (2026, 5, 12, 9, 0)),
    # Feb 2027: Sat Feb 20 is a working Saturday (keeps Saturday hours), Feb 22–23 off.
    ("working Saturday Feb 20, 2027", (2027, 2, 19, 20, 0), (2027, 2, 20, 10, 0)),
    ("after working Saturday → Wed Feb 24", (2027, 2, 20, 18, 0), (2027, 2, 24, 9, 0)),
]


@pytest.mark.parametrize(("case", "at", "expected"), MOSCOW_CASES, ids=[c[0] for c in MOSCOW_CASES])
def test_next_open_moscow(case: str, at: tuple[int, ...], expected: tuple[int, ...]) -> None:
    start = local(MSK, *at)
    opens = DEFAULT.next_open(start, MSK)
    assert opens == local(MSK, *expected)
    assert opens.tzinfo is UTC
    assert DEFAULT.is_open(start, MSK) == (start == opens)
    assert DEFAULT.is_open(opens, MSK)


def test_holidays_ignored_when_skip_holidays_is_off() -> None:
    w = CallingWindow(skip_holidays=False)
    assert w.next_open(local(MSK, 2026, 1, 5, 12), MSK) == local(MSK, 2026, 1, 5, 12)
    assert w.is_open(local(MSK, 2026, 11, 4, 10), MSK)
    assert not DEFAULT.is_open(local(MSK, 2026, 11, 4, 10), MSK)


def test_closed_dates_add_days_off() -> None:
    w = CallingWindow.model_validate({"closed_dates": ["2026-11-19", date(2026, 11, 20)]})
    assert w.next_open(local(MSK, 2026, 11, 18, 20), MSK) == local(MSK, 2026, 11, 21, 10)
    assert "closed on 2026-11-19, 2026-11-20" in w.describe()
    # with the holiday calendar off, closed_dates still apply
    w = CallingWindow(skip_holidays=False, closed_dates=frozenset({date(2026, 11, 4)}))
    assert not w.is_open(local(MSK, 2026, 11, 4, 12), MSK)
    with pytest.raises(ValidationError, match="date"):
        CallingWindow.model_validate({"closed_dates": ["2026-13-01"]})


def test_several_ranges_a_day_lunch_break() -> None:
    w = CallingWindow(mon=["09:00-13:00", "14:00-20:00"])
    monday = (2026, 11, 23)
    assert w.is_open(local(MSK, *monday, 12, 59), MSK)
    assert not w.is_open(local(MSK, *monday, 13, 0), MSK)
    assert w.next_open(local(MSK, *monday, 13, 30), MSK) == local(MSK, *monday, 14, 0)
    assert w.is_open(local(MSK, *monday, 14, 0), MSK)


def test_range_to_midnight_and_from_midnight() -> None:
    w = CallingWindow(mon=["20:00-24:00"], tue=["00:00-02:00"], sun=[], sat=[])
    assert w.is_open(local(MSK, 2026, 11, 23, 23, 59), MSK)
    assert w.next_open(local(MSK, 2026, 11, 23, 23, 59), MSK) == local(MSK, 2026, 11, 23, 23, 59)
    assert w.is_open(local(MSK, 2026, 11, 24, 0, 0), MSK)
    assert not w.is_open(local(MSK, 2026, 11, 24, 2, 0), MSK)


def test_next_open_accepts_any_aware_input_and_rejects_naive() -> None:
    at_plus5 = datetime(2026, 11, 18, 14, 0, tzinfo=ZoneInfo("Asia/Yekaterinburg"))  # 12:00 MSK
    assert DEFAULT.next_open(at_plus5, MSK) == utc(2026, 11, 18, 9, 0)
    with pytest.raises(ValueError, match="naive"):
        DEFAULT.next_open(datetime(2026, 11, 18, 12, 0), MSK)


# --- zones from UTC+2 to UTC+12 ---------------------------------------------------------------

RUSSIAN_ZONES = {
    "Europe/Kaliningrad": 2,
    "Europe/Moscow": 3,
    "Europe/Simferopol": 3,
    "Europe/Samara": 4,
    "Asia/Yekaterinburg": 5,
    "Asia/Omsk": 6,
    "Asia/Novosibirsk": 7,
    "Asia/Krasnoyarsk": 7,
    "Asia/Irkutsk": 8,
    "Asia/Yakutsk": 9,
    "Asia/Vladivostok": 10,
    "Asia/Magadan": 11,
    "Asia/Kamchatka": 12,
    "Asia/Anadyr": 12,
}


@pytest.mark.parametrize(("tz", "hours"), RUSSIAN_ZONES.items())
def test_russian_zones_have_no_dst(tz: str, hours: int) -> None:
    # Russia abolished seasonal clock changes in 2014: the same offset in winter and summer.
    for month in (1, 4, 7, 10):
        assert local(tz, 2026, month, 15, 12).utcoffset() == timedelta(hours=hours)


# One UTC instant, Wed 2026-11-18 06:30Z, seen from each zone: (local time, open?, opening UTC).
SAME_INSTANT = utc(2026, 11, 18, 6, 30)
SAME_INSTANT_CASES = [
    ("Europe/Kaliningrad", "08:30", False, utc(2026, 11, 18, 7, 0)),
    ("Europe/Moscow", "09:30", True, SAME_INSTANT),
    ("Europe/Samara", "10:30", True, SAME_INSTANT),
    ("Asia/Yekaterinburg", "11:30", True, SAME_INSTANT),
    ("Asia/Omsk", "12:30", True, SAME_INSTANT),
    ("Asia/Novosibirsk", "13:30", True, SAME_INSTANT),
    ("Asia/Irkutsk", "14:30", True, SAME_INSTANT),
    ("Asia/Yakutsk", "15:30", True, SAME_INSTANT),
    ("Asia/Vladivostok", "16:30", True, SAME_INSTANT),
    ("Asia/Magadan", "17:30", True, SAME_INSTANT),
    ("Asia/Kamchatka", "18:30", True, SAME_INSTANT),
    ("Asia/Anadyr", "18:30", True, SAME_INSTANT),
]
LATE_INSTANT = utc(2026, 11, 18, 9, 0)  # 11:00 in Kaliningrad, 21:00 in Kamchatka
LATE_CASES = [
    ("Europe/Kaliningrad", "11:00", True, LATE_INSTANT),
    ("Europe/Moscow", "12:00", True, LATE_INSTANT),
    ("Asia/Irkutsk", "17:00", True, LATE_INSTANT),
    ("Asia/Yakutsk", "18:00", True, LATE_INSTANT),
    ("Asia/Vladivostok", "19:00", True, LATE_INSTANT),
    ("Asia/Magadan", "20:00", False, utc(2026, 11, 18, 22, 0)),
    ("Asia/Kamchatka", "21:00", False, utc(2026, 11, 18, 21, 0)),
]


@pytest.mark.parametrize(
    ("instant", "tz", "wall", "is_open", "opens"),
    [(SAME_INSTANT, *c) for c in SAME_INSTANT_CASES] + [(LATE_INSTANT, *c) for c in LATE_CASES],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_same_instant_open_in_one_zone_closed_in_another(
    instant: datetime, tz: str, wall: str, is_open: bool, opens: datetime
) -> None:
    assert f"{instant.astimezone(ZoneInfo(tz)):%H:%M}" == wall
    assert DEFAULT.is_open(instant, tz) is is_open
    assert DEFAULT.next_open(instant, tz) == opens


def test_friday_evening_utc_is_already_saturday_in_kamchatka() -> None:
    # Fri 2026-11-20 22:00Z is Sat 10:00 in Kamchatka (open, Saturday hours) and Sat 00:00 in
    # Kaliningrad (closed until Sat 10:00 local = 08:00Z).
    at = utc(2026, 11, 20, 22, 0)
    assert DEFAULT.is_open(at, "Asia/Kamchatka")
    assert DEFAULT.next_open(at, "Europe/Kaliningrad") == utc(2026, 11, 21, 8, 0)


def test_holiday_is_judged_by_the_local_date() -> None:
    # Round the clock except holidays. Tue 2026-11-03 17:00Z is still Nov 3 (19:00) in
    # Kaliningrad, but already Nov 4, Unity Day (05:00), in Kamchatka.
    always = ["00:00-24:00"]
    w = CallingWindow(
        mon=always, tue=always, wed=always, thu=always, fri=always, sat=always, sun=always
    )
    at = utc(2026, 11, 3, 17, 0)
    assert w.is_open(at, "Europe/Kaliningrad")
    assert not w.is_open(at, "Asia/Kamchatka")
    assert w.next_open(at, "Asia/Kamchatka") == local("Asia/Kamchatka", 2026, 11, 5, 0)
    assert w.next_open(at, "Asia/Kamchatka") == utc(2026, 11, 4, 12, 0)


def test_dst_zone_uses_wall_clock_hours() -> None:
    # Berlin changes to summer time on Sun 2026-03-29: 09:00 local is 08:00Z before, 07:00Z after.
    w = CallingWindow(sat=["09:00-20:00"], sun=["09:00-20:00"], skip_holidays=False)
    berlin = "Europe/Berlin"
    assert w.next_open(utc(2026, 3, 27, 21, 0), berlin) == utc(2026, 3, 28, 8, 0)
    assert w.next_open(utc(2026, 3, 28, 21, 0), berlin) == utc(2026, 3, 29, 7, 0)


# --- config: parsing ranges and clear errors ------------------------------------------------------


def test_ranges_parse_sort_and_serialize_back() -> None:
    w = CallingWindow.model_validate(
        {"mon": ["14:00-20:00", "9:00-13:00"], "sat": "10:00-18:00", "sun": []}
    )
    assert w.mon == ((540, 780), (840, 1200))
    assert w.sat == ((600, 1080),)
    dumped = w.model_dump()
    assert dumped["mon"] == ("09:00-13:00", "14:00-20:00")
    assert CallingWindow.model_validate(dumped) == w
    assert "sun closed" in w.describe()


@pytest.mark.parametrize(
    ("ranges", "message"),
    [
        (["9-18"], "expected a range like '09:00-20:00'"),
        (["09:00-25:00"], "end 25:00 is not a time of day"),
        (["09:60-12:00"], "start 09:60 is not a time of day"),
        (["24:00-24:00"], "cannot start at 24:00"),
        (["20:00-09:00"], "start must be before end"),
        (["10:00-10:00"], "start must be before end"),
        (["09:00-13:00", "12:00-14:00"], "overlap"),
        ([42], "valid tuple"),
    ],
)
def test_bad_ranges_are_rejected_with_the_value(ranges: list[object], message: str) -> None:
    with pytest.raises(ValidationError) as e:
        CallingWindow.model_validate({"mon": ranges})
    assert message in str(e.value)


def test_closed_every_day_is_rejected_and_unknown_keys_too() -> None:
    days = {d: [] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    with pytest.raises(ValidationError, match="closed on every day"):
        CallingWindow.model_validate(days)
    with pytest.raises(ValidationError, match="Extra inputs"):
        CallingWindow.model_validate({"monday": ["09:00-20:00"]})


def test_frozen() -> None:
    with pytest.raises(ValidationError):
        DEFAULT.skip_holidays = False  # type: ignore[misc]


# --- properties over random instants, zones and windows -------------------------------------------

_minutes = st.integers(min_value=0, max_value=24 * 60 - 1)


@st.composite
def windows(draw: st.DrawFn) -> CallingWindow:
    days: dict[str, list[tuple[int, int]]] = {}
    for name in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        a, b = sorted(draw(st.lists(_minutes, min_size=2, max_size=2, unique=True)))
        days[name] = [(a, b)] if draw(st.booleans()) else []
    if not any(days.values()):
        days["wed"] = [(540, 1200)]
    return CallingWindow.model_validate({**days, "skip_holidays": draw(st.booleans())})


@settings(max_examples=300, deadline=None, database=None)
@given(
    w=windows(),
    at=st.datetimes(
        min_value=datetime(2025, 12, 1), max_value=datetime(2028, 1, 31), timezones=st.just(UTC)
    ),
    tz=st.sampled_from(sorted(RUSSIAN_ZONES)),
)
def test_next_open_properties(w: CallingWindow, at: datetime, tz: str) -> None:
    opens = w.next_open(at, tz)
    assert opens >= at
    assert w.is_open(opens, tz)
    assert w.next_open(opens, tz) == opens
    if opens > at:
        # Nothing opened in between: one minute earlier (if still after `at`) is closed.
        assert not w.is_open(max(at, opens - timedelta(minutes=1)), tz)
        local_open = opens.astimezone(ZoneInfo(tz))
        start_minute = local_open.hour * 60 + local_open.minute
        ranges = w.ranges_on(local_open.date())
        assert any(start == start_minute for start, _ in ranges) or opens == at

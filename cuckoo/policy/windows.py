"""Calling windows: when a customer may be called (or texted), in the customer's local time.

A window is a list of local time ranges per weekday, e.g. Mon–Fri 09:00–20:00, Sat 10:00–18:00,
Sunday closed. Russian public holidays (the `holidays` package's RU calendar, which includes the
days off moved by government decree, e.g. 2026-01-09 and 2026-12-31) are closed all day when
`skip_holidays` is on. A working Saturday created by such a decree (e.g. 2027-02-20) keeps its
Saturday hours: customers are not at work-desk hours on it any more than on other Saturdays.

Russia has no daylight saving time since 2014, so local ↔ UTC is a fixed offset per zone there.
Zones that do have DST work too: ranges are wall-clock times of that day (a range that starts in
a spring-forward gap begins at the first instant after it).
"""

from __future__ import annotations

import functools
import itertools
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

import holidays
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    model_validator,
)

_RANGE_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_DAY = 24 * 60
# How far ahead next_open looks: a week plus the longest run of Russian holidays, with margin.
_HORIZON_DAYS = 60


def _parse_range(value: object) -> object:
    """'09:00-20:00' → (540, 1200) minutes after local midnight; '24:00' is allowed as an end."""
    if not isinstance(value, str):
        return value  # (start, end) pairs from Python code go through the tuple check
    m = _RANGE_RE.match(value)
    if not m:
        raise ValueError(f"{value!r}: expected a range like '09:00-20:00'")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    for h, mi, what in ((h1, m1, "start"), (h2, m2, "end")):
        if mi > 59 or h > 24 or (h == 24 and mi != 0):
            raise ValueError(f"{value!r}: {what} {h:02d}:{mi:02d} is not a time of day")
    if h1 == 24:
        raise ValueError(f"{value!r}: a range cannot start at 24:00")
    return (h1 * 60 + m1, h2 * 60 + m2)


def _check_range(value: tuple[int, int]) -> tuple[int, int]:
    start, end = value
    if not (0 <= start < _DAY and 0 < end <= _DAY):
        raise ValueError(f"{_format_range(value)!r}: minutes must lie within one day")
    if start >= end:
        raise ValueError(
            f"{_format_range(value)!r}: start must be before end (a range cannot cross "
            "midnight: use '…-24:00' on one day and '00:00-…' on the next)"
        )
    return value


def _format_range(value: tuple[int, int]) -> str:
    (h1, m1), (h2, m2) = divmod(value[0], 60), divmod(value[1], 60)
    return f"{h1:02d}:{m1:02d}-{h2:02d}:{m2:02d}"


def _one_or_many(value: object) -> object:
    return [value] if isinstance(value, str) else value


def _check_day(ranges: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    ordered = tuple(sorted(ranges))
    for a, b in itertools.pairwise(ordered):
        if b[0] < a[1]:
            raise ValueError(f"ranges {_format_range(a)!r} and {_format_range(b)!r} overlap")
    return ordered


TimeRange = Annotated[
    tuple[int, int],
    BeforeValidator(_parse_range),
    AfterValidator(_check_range),
    PlainSerializer(_format_range, return_type=str),
]
DayRanges = Annotated[
    tuple[TimeRange, ...], BeforeValidator(_one_or_many), AfterValidator(_check_day)
]

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@functools.cache
def _ru_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("RU", years=year)


def is_public_holiday(day: date) -> bool:
    """A Russian public holiday or a day off moved onto a weekday by decree."""
    return day in _ru_holidays(day.year)


class CallingWindow(BaseModel):
    """Local time ranges per weekday in which an attempt may start.

    TOML: `mon = ["09:00-13:00", "14:00-20:00"]`, `sun = []` (closed), `sat = "10:00-18:00"`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    mon: DayRanges = ((9 * 60, 20 * 60),)
    tue: DayRanges = ((9 * 60, 20 * 60),)
    wed: DayRanges = ((9 * 60, 20 * 60),)
    thu: DayRanges = ((9 * 60, 20 * 60),)
    fri: DayRanges = ((9 * 60, 20 * 60),)
    sat: DayRanges = ((10 * 60, 18 * 60),)
    sun: DayRanges = ()
    skip_holidays: bool = True  # closed all day on Russian public holidays and moved days off
    # Extra local dates closed all day: company days off, or a decree the installed `holidays`
    # package does not know yet (it learns each year's moved days off when they are published).
    closed_dates: frozenset[date] = frozenset()

    @model_validator(mode="after")
    def _some_day_open(self) -> CallingWindow:
        if not any(self.ranges_of_weekday(i) for i in range(7)):
            raise ValueError("the window is closed on every day of the week")
        return self

    def ranges_of_weekday(self, weekday: int) -> tuple[tuple[int, int], ...]:
        """Ranges (minutes after local midnight) for a weekday, Monday = 0."""
        ranges: tuple[tuple[int, int], ...] = getattr(self, _WEEKDAYS[weekday])
        return ranges

    def ranges_on(self, day: date) -> tuple[tuple[int, int], ...]:
        """Ranges for a local date: empty on a public holiday when skip_holidays is on."""
        if day in self.closed_dates or (self.skip_holidays and is_public_holiday(day)):
            return ()
        return self.ranges_of_weekday(day.weekday())

    def is_open(self, at: datetime, tz: str) -> bool:
        """Whether an attempt may start at `at` (aware) for a customer in zone `tz`."""
        return self.next_open(at, tz) == at.astimezone(UTC)

    def next_open(self, at: datetime, tz: str) -> datetime:
        """`at` itself (in UTC) if the window is open then, else the next opening (UTC, aware).

        A range is half-open, [start, end): at 20:00 sharp a 09:00-20:00 window is closed.
        """
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError(f"next_open needs an aware datetime, got naive {at.isoformat()}")
        zone = ZoneInfo(tz)
        at_utc = at.astimezone(UTC)
        day = at_utc.astimezone(zone).date()
        for _ in range(_HORIZON_DAYS):
            midnight = datetime.combine(day, time(0), tzinfo=zone)
            for start, end in self.ranges_on(day):
                # Wall-clock arithmetic on an aware datetime: 09:00 local on that day.
                opens = (midnight + timedelta(minutes=start)).astimezone(UTC)
                closes = (midnight + timedelta(minutes=end)).astimezone(UTC)
                if at_utc < closes:
                    return max(at_utc, opens)
            day += timedelta(days=1)
        raise ValueError(
            f"the calling window has no opening within {_HORIZON_DAYS} days of "
            f"{at_utc.isoformat()} in {tz}"
        )

    def describe(self) -> str:
        """'mon 09:00-20:00; …; sun closed' — for logs and `cuckoo check`."""
        parts = []
        for i, name in enumerate(_WEEKDAYS):
            ranges = self.ranges_of_weekday(i)
            text = ", ".join(_format_range(r) for r in ranges) if ranges else "closed"
            parts.append(f"{name} {text}")
        text = "; ".join(parts)
        if self.skip_holidays:
            text += "; closed on public holidays"
        if self.closed_dates:
            text += "; closed on " + ", ".join(str(d) for d in sorted(self.closed_dates))
        return text

"""The deadline engine: when a dossier is due, in working time (dossier-rules.md).

Pure functions of (acceptance time, limit, working calendar, pauses). Everything happens in
local time, Asia/Ho_Chi_Minh. Working time is measured on one axis: ``working_minute(t)`` is the
number of working minutes between a fixed epoch and ``t``; adding N working minutes is finding
the earliest instant whose position is N further on. That one idea gives the rules for free:
acceptance after hours counts from the next working start (its position is the same), a limit
reached exactly at 11:30 or 17:00 is due then (the earliest instant), and a pause of N working
minutes moves the due time by exactly N working minutes.
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from portal.calendar import WorkingCalendar

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WORKING_DAY_MINUTES = 480
HOURS_PER_DAY = WORKING_DAY_MINUTES // 60
EPOCH = date(2015, 1, 1)
HORIZON = date(2040, 12, 31)

Timeliness = Literal["early", "on_time", "late"]


class _WorkingAxis:
    """Working days of a calendar laid out on one line, and the office periods of a day."""

    def __init__(self, calendar: WorkingCalendar):
        self.periods = [
            (start.hour * 60 + start.minute, end.hour * 60 + end.minute)
            for start, end in calendar.office_hours
        ]
        self.day_minutes = sum(end - start for start, end in self.periods)
        self.days: list[date] = []
        self.rank: dict[date, int] = {}  # working days before this date
        day = EPOCH
        while day <= HORIZON:
            self.rank[day] = len(self.days)
            if calendar.is_working_day(day):
                self.days.append(day)
            day += timedelta(days=1)
        self.ordinals = [d.toordinal() for d in self.days]

    def minutes_into_day(self, minute_of_day: int) -> int:
        """Working minutes of a working day elapsed at ``minute_of_day``."""
        elapsed = 0
        for start, end in self.periods:
            if minute_of_day <= start:
                break
            elapsed += min(minute_of_day, end) - start
        return elapsed

    def clock_at(self, worked: int) -> int:
        """The earliest minute of the day at which ``worked`` working minutes have elapsed."""
        for start, end in self.periods:
            length = end - start
            if worked <= length:
                return start + worked
            worked -= length
        raise ValueError("more minutes than a working day holds")

    def is_working_day(self, day: date) -> bool:
        index = bisect_left(self.ordinals, day.toordinal())
        return index < len(self.ordinals) and self.ordinals[index] == day.toordinal()


@lru_cache(maxsize=16)
def _axis(calendar: WorkingCalendar) -> _WorkingAxis:
    return _WorkingAxis(calendar)


def _local(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("naive datetime: the deadline engine needs aware datetimes")
    return at.astimezone(LOCAL_TZ)


def working_minute(at: datetime, calendar: WorkingCalendar) -> int:
    """Working minutes from the epoch to ``at`` (seconds are truncated)."""
    axis = _axis(calendar)
    local = _local(at)
    day = local.date()
    try:
        before = axis.rank[day]
    except KeyError:
        raise ValueError(f"{day} is outside the working calendar ({EPOCH}..{HORIZON})") from None
    position = before * axis.day_minutes
    if axis.rank.get(day + timedelta(days=1), before + 1) > before:  # ``day`` is worked
        position += axis.minutes_into_day(local.hour * 60 + local.minute)
    return position


def instant_at(position: int, calendar: WorkingCalendar) -> datetime:
    """The earliest local instant whose working position is ``position``."""
    axis = _axis(calendar)
    index, worked = divmod(position, axis.day_minutes)
    if worked == 0 and index > 0:  # exactly the end of the previous working day
        index, worked = index - 1, axis.day_minutes
    if index >= len(axis.days):
        raise ValueError("due time beyond the working calendar's horizon")
    minute = axis.clock_at(worked)
    day = axis.days[index]
    return datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=LOCAL_TZ)


def start_of_work(at: datetime, calendar: WorkingCalendar) -> datetime:
    """When the clock starts for something received at ``at``: ``at`` itself during office
    hours, else the next start of working time (lunch → 13:30, evening → next day 07:00)."""
    axis = _axis(calendar)
    local = _local(at).replace(second=0, microsecond=0)
    if axis.is_working_day(local.date()):
        minute = local.hour * 60 + local.minute
        for start, end in axis.periods:
            if minute < start:
                return local.replace(hour=start // 60, minute=start % 60)
            if minute < end:
                return local
    day = calendar.next_working_day(local.date())
    first = axis.periods[0][0]
    return datetime(day.year, day.month, day.day, first // 60, first % 60, tzinfo=LOCAL_TZ)


def add_working_minutes(start: datetime, minutes: int, calendar: WorkingCalendar) -> datetime:
    """The instant at which ``minutes`` of working time have elapsed since ``start``."""
    if minutes < 0:
        raise ValueError("cannot add a negative amount of working time")
    return instant_at(working_minute(start, calendar) + minutes, calendar)


def working_minutes_between(start: datetime, end: datetime, calendar: WorkingCalendar) -> int:
    """Working minutes in [start, end): how long a pause lasted, in working time."""
    if end <= start:
        return 0
    return working_minute(end, calendar) - working_minute(start, calendar)


def compute_due_at(
    *, accepted_at: datetime, amount: int, unit: str, calendar: WorkingCalendar
) -> datetime:
    """The due time of a dossier accepted at ``accepted_at`` with a legal limit of ``amount``
    ``unit`` (working_hours, working_days, calendar_days), to the minute, local time."""
    if amount <= 0:
        raise ValueError("a time limit must be positive")
    if unit == "working_days":
        return add_working_minutes(accepted_at, amount * _axis(calendar).day_minutes, calendar)
    if unit == "working_hours":
        return add_working_minutes(accepted_at, amount * 60, calendar)
    if unit == "calendar_days":
        due = start_of_work(accepted_at, calendar) + timedelta(days=amount)
        while not calendar.is_working_day(due.date()):
            due += timedelta(days=1)
        return due
    raise ValueError(f"unknown time unit {unit!r}")


def timeliness(finished_at: datetime, due_at: datetime) -> Timeliness:
    """early: finished on an earlier day than the due day; on_time: on the due day, not after
    the due time; late: after the due time. Days are local days."""
    if finished_at > due_at:
        return "late"
    if _local(finished_at).date() < _local(due_at).date():
        return "early"
    return "on_time"


__all__ = [
    "LOCAL_TZ",
    "WORKING_DAY_MINUTES",
    "add_working_minutes",
    "compute_due_at",
    "instant_at",
    "start_of_work",
    "timeliness",
    "working_minute",
    "working_minutes_between",
]

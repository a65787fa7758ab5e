"""The working calendar: Vietnamese public holidays (``holidays``) + admin overrides.

``WorkingCalendar`` is a plain value (no Django) so the deadline engine and the simulator can
use it in tight loops; ``working_calendar()`` builds it from the library and the override table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta
from time import monotonic

import holidays
import numpy as np
from redis.exceptions import RedisError

CALENDAR_YEARS = range(2024, 2031)


@dataclass(frozen=True)
class WorkingCalendar:
    """Which days are worked. Monday–Friday, minus days off, plus worked Saturdays."""

    days_off: frozenset[date] = field(default_factory=frozenset)
    extra_working_days: frozenset[date] = field(default_factory=frozenset)
    office_hours: tuple[tuple[time, time], ...] = (
        (time(7, 0), time(11, 30)),
        (time(13, 30), time(17, 0)),
    )

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_working_days:
            return True
        return day.weekday() < 5 and day not in self.days_off

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in the half-open range [start, end)."""
        return sum(
            1 for n in range((end - start).days) if self.is_working_day(start + timedelta(days=n))
        )


class WorkingDayCounter:
    """``working_days_between`` and ``n`` working days after a day, for whole arrays of day
    ordinals within ``[first, last]``: one pass over the calendar's days, then lookups (the
    index's publication facts need both for every procedure publication of a province)."""

    def __init__(self, calendar: WorkingCalendar, first: date, last: date):
        self.first, self.last = first.toordinal(), last.toordinal()
        worked = [
            calendar.is_working_day(first + timedelta(days=n))
            for n in range((last - first).days + 1)
        ]
        # before[i]: working days in [first, first + i).
        self.before = np.concatenate([[0], np.cumsum(worked, dtype=np.int64)])

    def _index(self, ordinals) -> np.ndarray:
        ordinals = np.asarray(ordinals, dtype=np.int64)
        if ordinals.size and (ordinals.min() < self.first or ordinals.max() > self.last):
            raise ValueError("day outside the counter's range")
        return ordinals - self.first

    def between(self, starts, ends) -> np.ndarray:
        """Working days in each half-open range [start, end) (0 when end <= start)."""
        counts = self.before[self._index(ends)] - self.before[self._index(starts)]
        return np.maximum(counts, 0)

    def add(self, days, n: int) -> np.ndarray:
        """The ordinal of the ``n``-th working day after each day (the day itself for 0)."""
        index = self._index(days)
        if n <= 0:
            return index + self.first
        found = np.searchsorted(self.before, self.before[index + 1] + n, side="left")
        if found.size and found.max() >= len(self.before):
            raise ValueError("working day beyond the counter's range")
        return found - 1 + self.first


def library_calendar(years=CALENDAR_YEARS, **overrides) -> WorkingCalendar:
    """The calendar from the ``holidays`` library alone (language set: names must not follow LANG)."""
    vn = holidays.country_holidays("VN", years=list(years), language="vi")
    return WorkingCalendar(
        days_off=frozenset(vn.keys()),
        extra_working_days=frozenset(d for d in vn.weekend_workdays if d.year in years),
        **overrides,
    )


def apply_overrides(base: WorkingCalendar, overrides) -> WorkingCalendar:
    """Overrides win over the library: ``overrides`` is an iterable of (date, kind)."""
    days_off, extra = set(base.days_off), set(base.extra_working_days)
    for day, kind in overrides:
        if kind == "day_off":
            days_off.add(day)
            extra.discard(day)
        else:
            extra.add(day)
            days_off.discard(day)
    return WorkingCalendar(frozenset(days_off), frozenset(extra), base.office_hours)


VERSION_KEY = "working-calendar-version"
RECHECK_SECONDS = 5.0
_state = {"version": None, "checked": 0.0, "calendar": None}


def _build() -> WorkingCalendar:
    from django.conf import settings

    from portal.models import CalendarOverride

    base = library_calendar(office_hours=tuple(settings.OFFICE_HOURS))
    return apply_overrides(base, CalendarOverride.objects.values_list("date", "kind"))


def working_calendar() -> WorkingCalendar:
    """The calendar in force: library holidays with the override table applied.

    Built once per process; every few seconds the process compares a version number kept in
    the shared cache (Redis when configured), so an override saved in admin reaches every
    web and Celery worker without a restart."""
    from django.core.cache import cache

    now = monotonic()
    if _state["calendar"] is None or now - _state["checked"] > RECHECK_SECONDS:
        try:
            version = cache.get_or_set(VERSION_KEY, 1)
        except (RedisError, OSError):
            # The shared cache is down: keep this process's calendar (or build one) rather
            # than fail every deadline computation; the version is compared again later.
            version = _state["version"]
        if version != _state["version"] or _state["calendar"] is None:
            _state["calendar"] = _build()
            _state["version"] = version
        _state["checked"] = now
    return _state["calendar"]


def invalidate_working_calendar() -> None:
    """Call after changing overrides (the admin and the loader do)."""
    from django.core.cache import cache

    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 1)
    _state["calendar"] = None

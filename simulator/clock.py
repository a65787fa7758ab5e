"""Working time in whole local minutes: the deadline engine's rules on plain integers.

The simulator handles millions of timestamps, so it does not build ``datetime`` objects in its
inner loop. A time is an ``int``: minutes since 1970-01-01 00:00 *local* wall time
(Asia/Ho_Chi_Minh has had no daylight saving since 1975, so local minutes and UTC minutes
differ by a constant). ``Clock`` answers the same questions as ``dossiers.deadlines`` —
working position, the instant at a position, start of work, due time — with table look-ups,
and ``tests/simulator/test_clock.py`` checks it equals the engine on every kind of instant.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from dossiers.deadlines import LOCAL_TZ
from portal.calendar import WorkingCalendar

DAY = 1440
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
FIRST_DAY = date(2015, 1, 1)  # the engine's axis starts here too
LAST_DAY = date(2040, 12, 31)


def minute_of(at: datetime) -> int:
    """Local minutes of an aware datetime (seconds truncated, as the engine does)."""
    local = at.astimezone(LOCAL_TZ)
    return (local.toordinal() - _EPOCH_ORDINAL) * DAY + local.hour * 60 + local.minute


def local_minute(day: date, hour: int = 0, minute: int = 0) -> int:
    return (day.toordinal() - _EPOCH_ORDINAL) * DAY + hour * 60 + minute


def to_datetime(m: int) -> datetime:
    """The aware local datetime of a minute."""
    day, rest = divmod(m, DAY)
    d = date.fromordinal(day + _EPOCH_ORDINAL)
    return datetime(d.year, d.month, d.day, rest // 60, rest % 60, tzinfo=LOCAL_TZ)


def day_of(m: int) -> date:
    return date.fromordinal(m // DAY + _EPOCH_ORDINAL)


class Clock:
    """A working calendar laid out as look-up tables over 2015–2040."""

    def __init__(self, calendar: WorkingCalendar):
        self.calendar = calendar
        self.periods = [
            (s.hour * 60 + s.minute, e.hour * 60 + e.minute) for s, e in calendar.office_hours
        ]
        self.day_minutes = sum(e - s for s, e in self.periods)
        self.first = local_minute(FIRST_DAY) // DAY  # day number of FIRST_DAY
        n_days = (LAST_DAY - FIRST_DAY).days + 1
        self.worked: list[bool] = []
        self.rank: list[int] = []  # working days before day i
        self.days: list[int] = []  # day numbers of working days, in order
        for i in range(n_days):
            self.rank.append(len(self.days))
            if calendar.is_working_day(FIRST_DAY + timedelta(days=i)):
                self.worked.append(True)
                self.days.append(self.first + i)
            else:
                self.worked.append(False)
        self.rank.append(len(self.days))
        # Working minutes of a working day elapsed at each minute of the day.
        self.into_day = [self._minutes_into_day(m) for m in range(DAY + 1)]
        # The earliest minute of the day at which ``w`` working minutes have elapsed.
        self.clock_at = [self._clock_at(w) for w in range(self.day_minutes + 1)]

    def _minutes_into_day(self, minute: int) -> int:
        elapsed = 0
        for start, end in self.periods:
            if minute <= start:
                break
            elapsed += min(minute, end) - start
        return elapsed

    def _clock_at(self, worked: int) -> int:
        for start, end in self.periods:
            if worked <= end - start:
                return start + worked
            worked -= end - start
        raise ValueError(worked)

    # -- days ---------------------------------------------------------------------------------
    def is_working_day(self, day_number: int) -> bool:
        return self.worked[day_number - self.first]

    def day_start(self, day_number: int) -> int:
        """Start of working time on a (working) day."""
        return day_number * DAY + self.periods[0][0]

    def position(self, m: int) -> int:
        """``dossiers.deadlines.working_minute`` of minute ``m``."""
        day, rest = divmod(m, DAY)
        i = day - self.first
        pos = self.rank[i] * self.day_minutes
        if self.worked[i]:
            pos += self.into_day[rest]
        return pos

    def instant(self, pos: int) -> int:
        """``dossiers.deadlines.instant_at``: the earliest minute at working position ``pos``."""
        index, worked = divmod(pos, self.day_minutes)
        if worked == 0 and index > 0:
            index, worked = index - 1, self.day_minutes
        return self.days[index] * DAY + self.clock_at[worked]

    def start_of_work(self, m: int) -> int:
        day, rest = divmod(m, DAY)
        if self.worked[day - self.first]:
            for start, end in self.periods:
                if rest < start:
                    return day * DAY + start
                if rest < end:
                    return m
        return self.days[self.rank[day + 1 - self.first]] * DAY + self.periods[0][0]

    def add(self, m: int, minutes: int) -> int:
        """``add_working_minutes``."""
        return self.instant(self.position(m) + minutes)

    def between(self, start: int, end: int) -> int:
        """``working_minutes_between``."""
        if end <= start:
            return 0
        return self.position(end) - self.position(start)

    def due(self, accepted: int, amount: int, unit: str) -> int:
        """``compute_due_at`` on minutes."""
        if unit == "working_days":
            return self.instant(self.position(accepted) + amount * self.day_minutes)
        if unit == "working_hours":
            return self.instant(self.position(accepted) + amount * 60)
        if unit == "calendar_days":
            due = self.start_of_work(accepted) + amount * DAY
            while not self.worked[due // DAY - self.first]:
                due += DAY
            return due
        raise ValueError(f"unknown time unit {unit!r}")

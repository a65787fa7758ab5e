from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.calendar import (
    WorkingDayCounter,
    invalidate_working_calendar,
    library_calendar,
    working_calendar,
)
from portal.models import CalendarOverride

CAL = library_calendar()


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 2, 16),
        date(2026, 2, 17),
        date(2026, 2, 18),
        date(2026, 2, 19),
        date(2026, 2, 20),
        date(2025, 4, 30),
        date(2025, 5, 1),
        date(2025, 5, 2),
        date(2025, 9, 1),
        date(2025, 9, 2),
        date(2026, 8, 31),
        date(2025, 1, 1),
    ],
)
def test_public_holidays_are_not_worked(day):
    assert not CAL.is_working_day(day)


@pytest.mark.parametrize("day", [date(2025, 4, 26), date(2026, 8, 22)])
def test_swapped_saturdays_are_worked(day):
    assert day.weekday() == 5 and CAL.is_working_day(day)


def test_ordinary_days():
    assert CAL.is_working_day(date(2026, 2, 13))  # Friday before Tết
    assert CAL.is_working_day(date(2026, 2, 23))  # Monday after Tết
    assert not CAL.is_working_day(date(2026, 2, 14))  # Saturday
    assert CAL.next_working_day(date(2026, 2, 13)) == date(2026, 2, 23)
    assert CAL.working_days_between(date(2026, 2, 9), date(2026, 2, 27)) == 9


@pytest.mark.django_db
def test_an_override_changes_the_answer():
    invalidate_working_calendar()
    assert working_calendar().is_working_day(date(2026, 3, 10))
    CalendarOverride.objects.create(date=date(2026, 3, 10), kind="day_off", reason="storm")
    CalendarOverride.objects.create(date=date(2026, 3, 14), kind="working_day", reason="swap")
    invalidate_working_calendar()
    assert not working_calendar().is_working_day(date(2026, 3, 10))
    assert working_calendar().is_working_day(date(2026, 3, 14))
    invalidate_working_calendar()


@pytest.mark.django_db
def test_an_override_saved_by_another_process_is_seen_without_restart(monkeypatch):
    from django.core.cache import cache

    from portal import calendar

    monkeypatch.setattr(calendar, "RECHECK_SECONDS", 0.0)
    assert working_calendar().is_working_day(date(2026, 3, 11))
    CalendarOverride.objects.create(date=date(2026, 3, 11), kind="day_off", reason="flood")
    # Another process bumps the shared version; this process's cached calendar is stale.
    cache.incr(calendar.VERSION_KEY)
    assert not working_calendar().is_working_day(date(2026, 3, 11))


@settings(max_examples=200, deadline=None)
@given(
    start=st.dates(date(2024, 12, 1), date(2026, 3, 1)),
    length=st.integers(-20, 60),
    n=st.integers(0, 15),
)
def test_working_day_counter_equals_the_day_by_day_arithmetic(start, length, n):
    """Arrays of days around Tết and the worked Saturdays, against the loops they replace."""
    calendar = library_calendar()
    counter = WorkingDayCounter(calendar, date(2024, 11, 1), date(2026, 6, 30))
    end = start + timedelta(days=length)
    got = counter.between([start.toordinal()], [end.toordinal()])[0]
    assert got == calendar.working_days_between(start, end)
    expected = start
    for _ in range(n):
        expected = calendar.next_working_day(expected)
    assert counter.add([start.toordinal()], n)[0] == expected.toordinal()


def test_working_day_counter_refuses_days_outside_its_range():
    counter = WorkingDayCounter(library_calendar(), date(2025, 1, 1), date(2025, 1, 31))
    with pytest.raises(ValueError, match="outside"):
        counter.between([date(2024, 12, 31).toordinal()], [date(2025, 1, 5).toordinal()])
    with pytest.raises(ValueError, match="beyond"):
        counter.add([date(2025, 1, 30).toordinal()], 5)

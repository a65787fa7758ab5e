from datetime import date

import pytest

from portal.calendar import invalidate_working_calendar, library_calendar, working_calendar
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

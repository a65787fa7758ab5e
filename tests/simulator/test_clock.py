"""The simulator's minute clock must answer exactly as the deadline engine."""

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dossiers import deadlines
from dossiers.deadlines import LOCAL_TZ
from portal.calendar import library_calendar
from simulator.clock import Clock, local_minute, minute_of, to_datetime

CAL = library_calendar()
CLOCK = Clock(CAL)
START = datetime(2024, 12, 1, tzinfo=LOCAL_TZ)
instants = st.integers(min_value=0, max_value=800 * 24 * 60).map(
    lambda n: START + timedelta(minutes=n)
)
# Instants on the edges that matter: period starts and ends, lunch, evening, midnight.
EDGES = [(h, m) for h, m in ((0, 0), (6, 59), (7, 0), (7, 1), (11, 29), (11, 30), (11, 31),
                            (12, 0), (13, 29), (13, 30), (16, 59), (17, 0), (17, 1), (23, 59))]  # fmt: skip


def edge_instants():
    day = date(2025, 1, 20)  # the week before Tết 2025 and beyond
    while day < date(2025, 2, 10):
        for h, m in EDGES:
            yield datetime(day.year, day.month, day.day, h, m, tzinfo=LOCAL_TZ)
        day += timedelta(days=1)


def test_minutes_round_trip():
    at = datetime(2025, 7, 24, 16, 30, tzinfo=LOCAL_TZ)
    assert to_datetime(minute_of(at)) == at
    assert local_minute(date(2025, 7, 24), 16, 30) == minute_of(at)


@pytest.mark.parametrize("unit", ["working_days", "working_hours", "calendar_days"])
def test_due_times_on_the_edges_equal_the_engine(unit):
    for at in edge_instants():
        for amount in (1, 3, 8):
            engine = deadlines.compute_due_at(
                accepted_at=at, amount=amount, unit=unit, calendar=CAL
            )
            assert to_datetime(CLOCK.due(minute_of(at), amount, unit)) == engine, (at, amount)


@settings(max_examples=300, deadline=None)
@given(
    at=instants,
    amount=st.integers(min_value=1, max_value=40),
    unit=st.sampled_from(["working_days", "working_hours", "calendar_days"]),
)
def test_due_time_equals_the_engine(at, amount, unit):
    engine = deadlines.compute_due_at(accepted_at=at, amount=amount, unit=unit, calendar=CAL)
    assert to_datetime(CLOCK.due(minute_of(at), amount, unit)) == engine


@settings(max_examples=300, deadline=None)
@given(at=instants, minutes=st.integers(min_value=0, max_value=30 * 480))
def test_adding_working_time_equals_the_engine(at, minutes):
    engine = deadlines.add_working_minutes(at, minutes, CAL)
    assert to_datetime(CLOCK.add(minute_of(at), minutes)) == engine


@settings(max_examples=300, deadline=None)
@given(a=instants, b=instants)
def test_working_time_between_equals_the_engine(a, b):
    assert CLOCK.between(minute_of(a), minute_of(b)) == deadlines.working_minutes_between(a, b, CAL)


@settings(max_examples=300, deadline=None)
@given(at=instants)
def test_start_of_work_and_position_equal_the_engine(at):
    m = minute_of(at)
    assert to_datetime(CLOCK.start_of_work(m)) == deadlines.start_of_work(at, CAL)
    assert CLOCK.position(m) == deadlines.working_minute(at, CAL)
    assert to_datetime(CLOCK.instant(CLOCK.position(m))) == deadlines.instant_at(
        deadlines.working_minute(at, CAL), CAL
    )

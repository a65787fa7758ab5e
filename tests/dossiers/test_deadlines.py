"""The deadline engine: worked examples from dossier-rules.md and properties (hypothesis)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dossiers.deadlines import (
    LOCAL_TZ,
    add_working_minutes,
    compute_due_at,
    start_of_work,
    timeliness,
    working_minutes_between,
)
from portal.calendar import library_calendar

CAL = library_calendar()


def local(*args):
    return datetime(*args, tzinfo=LOCAL_TZ)


@pytest.mark.parametrize(
    ("accepted", "amount", "unit", "due"),
    [
        # The worked example: 30 minutes on Friday, Tết skipped, due Wednesday 16:30.
        (local(2026, 2, 13, 16, 30), 3, "working_days", local(2026, 2, 25, 16, 30)),
        # After 17:00 counts from the next working start; the limit ends exactly at 17:00.
        (local(2026, 2, 13, 18, 30), 1, "working_days", local(2026, 2, 23, 17, 0)),
        (local(2026, 2, 13, 17, 0), 1, "working_days", local(2026, 2, 23, 17, 0)),
        # Before 07:00 → 07:00; the lunch break → 13:30.
        (local(2026, 3, 2, 6, 10), 4, "working_hours", local(2026, 3, 2, 11, 0)),
        (local(2026, 3, 2, 12, 0), 1, "working_hours", local(2026, 3, 2, 14, 30)),
        # Reached exactly at the end of the morning: due 11:30, not 13:30.
        (local(2026, 3, 2, 10, 30), 1, "working_hours", local(2026, 3, 2, 11, 30)),
        # 30 April – 2 May 2025 off (2 May swapped for Saturday 26 April, which was worked).
        (local(2025, 4, 29, 9, 0), 2, "working_days", local(2025, 5, 6, 9, 0)),
        (local(2025, 4, 25, 9, 0), 1, "working_days", local(2025, 4, 26, 9, 0)),
        # Saturday 22 August 2026 is worked; Monday 31 August, 1-2 September are off.
        (local(2026, 8, 21, 9, 0), 1, "working_days", local(2026, 8, 22, 9, 0)),
        (local(2026, 8, 28, 16, 0), 1, "working_days", local(2026, 9, 3, 16, 0)),
        # Calendar days land on a working day at the same time of day.
        (local(2026, 2, 12, 9, 0), 3, "calendar_days", local(2026, 2, 23, 9, 0)),
        (local(2026, 3, 2, 9, 0), 2, "calendar_days", local(2026, 3, 4, 9, 0)),
        (local(2026, 3, 2, 18, 0), 2, "calendar_days", local(2026, 3, 5, 7, 0)),
    ],
)
def test_worked_examples(accepted, amount, unit, due):
    assert compute_due_at(accepted_at=accepted, amount=amount, unit=unit, calendar=CAL) == due


def test_utc_input_is_judged_in_local_time():
    # 2026-02-13 09:30 UTC is 16:30 in Hà Nội: the worked example again.
    accepted = datetime(2026, 2, 13, 9, 30, tzinfo=UTC)
    due = compute_due_at(accepted_at=accepted, amount=3, unit="working_days", calendar=CAL)
    assert due == local(2026, 2, 25, 16, 30)


def test_start_of_work():
    assert start_of_work(local(2026, 3, 2, 11, 30), CAL) == local(2026, 3, 2, 13, 30)
    assert start_of_work(local(2026, 3, 2, 9, 15), CAL) == local(2026, 3, 2, 9, 15)
    assert start_of_work(local(2026, 2, 14, 9, 0), CAL) == local(2026, 2, 23, 7, 0)


def test_timeliness():
    due = local(2026, 3, 4, 15, 0)
    assert timeliness(local(2026, 3, 3, 16, 0), due) == "early"
    assert timeliness(local(2026, 3, 4, 8, 0), due) == "on_time"
    assert timeliness(local(2026, 3, 4, 15, 0), due) == "on_time"
    assert timeliness(local(2026, 3, 4, 15, 1), due) == "late"


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        compute_due_at(
            accepted_at=datetime(2026, 3, 2, 9), amount=1, unit="working_days", calendar=CAL
        )


instants = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31)).map(
    lambda d: d.replace(second=0, microsecond=0, tzinfo=LOCAL_TZ)
)
units = st.sampled_from(["working_days", "working_hours", "calendar_days"])


def is_working_instant(at: datetime) -> bool:
    minute = at.hour * 60 + at.minute
    in_hours = any(
        s.hour * 60 + s.minute <= minute <= e.hour * 60 + e.minute for s, e in CAL.office_hours
    )
    return CAL.is_working_day(at.date()) and in_hours


@settings(max_examples=400, deadline=None)
@given(instants, st.integers(1, 40), units)
def test_due_is_after_acceptance_and_on_working_time(accepted, amount, unit):
    due = compute_due_at(accepted_at=accepted, amount=amount, unit=unit, calendar=CAL)
    assert due > accepted
    assert CAL.is_working_day(due.date())
    if unit != "calendar_days":
        assert is_working_instant(due)


@settings(max_examples=300, deadline=None)
@given(instants, st.integers(1, 30), st.integers(0, 10), units)
def test_monotonic_in_the_amount(accepted, amount, extra, unit):
    shorter = compute_due_at(accepted_at=accepted, amount=amount, unit=unit, calendar=CAL)
    longer = compute_due_at(accepted_at=accepted, amount=amount + extra, unit=unit, calendar=CAL)
    assert shorter <= longer


@settings(max_examples=300, deadline=None)
@given(instants, st.integers(1, 20), st.integers(0, 3000))
def test_a_pause_moves_the_due_time_by_exactly_the_paused_working_time(accepted, days, paused):
    due = compute_due_at(accepted_at=accepted, amount=days, unit="working_days", calendar=CAL)
    moved = add_working_minutes(due, paused, CAL)
    assert working_minutes_between(due, moved, CAL) == paused
    assert working_minutes_between(accepted, moved, CAL) == days * 480 + paused


@settings(max_examples=200, deadline=None)
@given(instants, st.integers(0, 5000))
def test_working_minutes_round_trip(start, minutes):
    end = add_working_minutes(start, minutes, CAL)
    assert working_minutes_between(start, end, CAL) == minutes
    assert end >= start_of_work(start, CAL) or minutes == 0


def test_working_days_agree_with_the_calendar():
    # N working days from a Monday 07:00 ends at 17:00 on the N-th working day.
    start = local(2026, 1, 5, 7, 0)
    day = date(2026, 1, 5)
    for n in range(1, 60):
        due = compute_due_at(accepted_at=start, amount=n, unit="working_days", calendar=CAL)
        assert due.hour == 17 and due.minute == 0
        assert CAL.working_days_between(date(2026, 1, 5), due.date() + timedelta(days=1)) == n
    assert day.weekday() == 0


def run_due_at(*args, capsys):
    """Run the command in-process (against the test database); return (exit code, out, err)."""
    from django.core.management import call_command

    code = 0
    try:
        call_command("due_at", *args)
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.django_db
def test_due_at_command_prints_iso_with_offset(capsys):
    code, out, err = run_due_at(
        "--accepted", "2026-02-13T16:30", "--amount", "3", "--unit", "working_days", capsys=capsys
    )
    assert code == 0, err
    assert out.strip() == "2026-02-25T16:30:00+07:00"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--accepted", "yesterday", "--amount", "3", "--unit", "working_days"], "--accepted"),
        (
            ["--accepted", "2026-02-13T16:30", "--amount", "-1", "--unit", "working_days"],
            "--amount",
        ),
        (
            [
                "--accepted",
                "2026-02-13T16:30",
                "--amount",
                "3",
                "--province",
                "99",
                "--unit",
                "working_days",
            ],
            "--province",
        ),
    ],
)
def test_due_at_command_refuses_bad_arguments(args, message, capsys):
    code, _, err = run_due_at(*args, capsys=capsys)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1


def test_due_at_command_refuses_an_unknown_unit():
    import subprocess
    import sys

    from tests.conftest import ROOT

    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "due_at",
            "--accepted",
            "2026-02-13T16:30",
            "--amount",
            "3",
            "--unit",
            "fortnights",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "--unit" in result.stderr

"""The simulate command: bad input, determinism, and the invariants of what it writes."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from dossiers.deadlines import add_working_minutes, compute_due_at
from dossiers.models import Dossier, DossierCounter, DossierEvent, Payment, Petition, Rating
from dossiers.workflow import State, is_legal_path
from portal.calendar import working_calendar
from portal.models import User
from simulator.models import SimulationRun

CODE = re.compile(r"^[PC]\d{2,5}-\d{6}-\d{4,}$")


def simulate(path, *extra, seed=3):
    call_command(
        "simulate", "--scenario", str(path), "--seed", str(seed), "--no-index", "--no-progress",
        *extra,
    )  # fmt: skip


def dossier_rows():
    return sorted(
        Dossier.objects.values_list(
            "code", "state", "channel", "submitted_at", "accepted_at", "due_at",
            "rescheduled_due_at", "finished_at", "returned_at", "paused_at", "paused_minutes",
            "supplement_count", "apology_count", "fee_vnd", "payment_status", "payment_channel",
            "paid_at", "digitised", "electronic_result", "reused_data", "timeliness",
            "applicant__citizen_id", "center__code", "procedure_version__procedure__code",
        )
    )  # fmt: skip


def event_rows():
    return sorted(
        DossierEvent.objects.values_list(
            "dossier__code", "action", "from_state", "to_state", "at", "note", "actor__username"
        )
    )


@pytest.mark.django_db
def test_same_seed_same_rows_other_seed_other_rows(reference_data, small_path):
    simulate(small_path)
    first = (dossier_rows(), event_rows(), Petition.objects.count(), Payment.objects.count())
    assert len(first[0]) > 500
    simulate(small_path, "--reset", "--yes")
    again = (dossier_rows(), event_rows(), Petition.objects.count(), Payment.objects.count())
    assert again == first
    simulate(small_path, "--reset", "--yes", seed=4)
    assert dossier_rows() != first[0]


@pytest.mark.django_db
def test_histories_are_legal_and_due_times_are_the_engines(reference_data, small_path):
    simulate(small_path)
    calendar = working_calendar()
    events = defaultdict(list)
    for e in DossierEvent.objects.order_by("dossier_id", "at", "id").values(
        "dossier_id", "action", "from_state", "to_state", "at"
    ):
        events[e["dossier_id"]].append(e)
    dossiers = Dossier.objects.select_related("procedure_version", "applicant", "center")
    assert dossiers.count() == len(events)
    codes = set()
    for d in dossiers:
        history = events[d.id]
        states = [history[0]["to_state"]] + [
            e["to_state"] for e in history[1:] if e["to_state"] != e["from_state"]
        ]
        assert history[0]["from_state"] is None
        assert is_legal_path([State(s) for s in states]), (d.code, states)
        for before, after in zip(history, history[1:]):
            assert after["from_state"] == before["to_state"], d.code
            assert after["at"] >= before["at"], d.code
        assert history[-1]["to_state"] == d.state
        assert CODE.match(d.code) and d.code.startswith(d.center.code + "-")
        assert d.code not in codes
        codes.add(d.code)
        assert d.applicant.citizen_id.startswith("042")
        if d.accepted_at is not None:
            version = d.procedure_version
            due = compute_due_at(
                accepted_at=d.accepted_at,
                amount=version.limit_amount,
                unit=version.limit_unit,
                calendar=calendar,
            )
            assert d.due_at == add_working_minutes(due, d.paused_minutes, calendar), d.code
        if d.finished_at is not None:
            assert d.accepted_at is not None and d.finished_at >= d.accepted_at, d.code
        if d.returned_at is not None:
            assert d.returned_at >= d.finished_at
    # Later desks number their dossiers after the simulated ones.
    counters = {(c.center_id, c.day): c.last for c in DossierCounter.objects.filter(series="D")}
    for d in Dossier.objects.values("center_id", "submitted_at", "code"):
        number = int(d["code"].rsplit("-", 1)[1])
        day = d["code"].split("-")[1]
        key = next(k for k in counters if k[0] == d["center_id"] and k[1].strftime("%y%m%d") == day)
        assert number <= counters[key]


@pytest.mark.django_db
def test_citizens_have_unique_cccds_of_their_province(reference_data, small_path):
    simulate(small_path)
    ids = list(
        User.objects.filter(username__startswith="sim-0").values_list("citizen_id", flat=True)
    )
    assert len(ids) == len(set(ids)) > 100
    assert all(re.fullmatch(r"042\d{9}", i) for i in ids)
    assert Rating.objects.exists() and Petition.objects.filter(answered_at__isnull=False).exists()
    run = SimulationRun.objects.get()
    assert run.status == "complete" and run.counts["dossiers"] == Dossier.objects.count()


@pytest.mark.django_db
def test_existing_data_needs_reset_and_reset_needs_confirmation(reference_data, small_path):
    simulate(small_path)
    count = Dossier.objects.count()
    with pytest.raises(CommandError) as error:
        simulate(small_path)
    assert error.value.returncode == 2 and "--reset" in str(error.value)
    with pytest.raises(CommandError) as error:
        simulate(small_path, "--reset")  # no terminal to confirm on
    assert Dossier.objects.count() == count


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "key"),
    [
        (["--scenario", "nowhere", "--seed", "1"], "--scenario"),
        (
            ["--scenario", "demo", "--seed", "1", "--from", "2025-07-10", "--to", "2025-07-01"],
            "--to",
        ),
        (["--scenario", "demo", "--seed", "1", "--from", "July"], "--from"),
        (["--scenario", "demo", "--seed", "1", "--scale", "-1"], "--scale"),
        (["--scenario", "demo", "--seed", "-2"], "--seed"),
        (["--scenario", "demo"], "--seed"),
    ],
)
def test_bad_options_exit_2_naming_the_key(args, key):
    with pytest.raises(CommandError) as error:
        call_command("simulate", *args)
    assert error.value.returncode == 2
    assert str(error.value).startswith(key) and "\n" not in str(error.value)
    assert not Dossier.objects.exists() and not SimulationRun.objects.exists()


@pytest.mark.django_db
def test_a_bad_scenario_file_writes_nothing(reference_data, tmp_path, small_raw):
    import yaml

    small_raw["behaviour"]["channels"]["online_share"]["commune"] = 1.5
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(small_raw))
    users = User.objects.count()
    with pytest.raises(CommandError) as error:
        simulate(path)
    assert error.value.returncode == 2
    assert "behaviour.channels.online_share.commune" in str(error.value)
    assert not Dossier.objects.exists() and User.objects.count() == users


def test_the_command_prints_one_line_and_exits_2():
    result = subprocess.run(
        [sys.executable, "manage.py", "simulate", "--scenario", "nowhere", "--seed", "1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "--scenario" in lines[0]


@pytest.mark.django_db
def test_the_written_tables_are_analysed_before_the_index(reference_data, small_path):
    """The index queries that follow a backfill are planned with the new rows' statistics
    (``pg_class.reltuples`` is −1 until a table is first analysed)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("planner statistics are PostgreSQL's")
    simulate(small_path)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples FROM pg_class WHERE relname = ANY(%s)",
            [["dossiers_dossier", "dossiers_dossierevent", "portal_user"]],
        )
        estimates = dict(cursor.fetchall())
    assert estimates["dossiers_dossier"] == Dossier.objects.count()
    assert estimates["dossiers_dossierevent"] == DossierEvent.objects.count()
    assert estimates["portal_user"] > 0


@pytest.mark.django_db
def test_the_index_is_computed_for_the_period(reference_data, small_path):
    from scoring.models import DailyFact, IndexSnapshot

    call_command(
        "simulate", "--scenario", str(small_path), "--seed", "3", "--no-progress",
        "--index-days", "1",
    )  # fmt: skip
    run = SimulationRun.objects.get()
    assert run.indexed
    days = set(DailyFact.objects.values_list("day", flat=True))
    period = (run.date_to - run.date_from).days + 2  # and the day before: carried-over stocks
    assert {run.date_from + timedelta(days=n - 1) for n in range(period)} <= days
    snapshot = IndexSnapshot.objects.get(
        date=run.date_to, unit="42", window="month", methodology="2025-07"
    )
    assert snapshot.total > 0


@pytest.mark.django_db(transaction=True)
def test_the_parallel_writer_writes_the_same_rows_as_the_inline_one(reference_data, small_path):
    """In autocommit mode on PostgreSQL a child process generates while this one copies; inside
    a transaction everything runs inline. Both must write the same rows."""
    from django.db import transaction

    simulate(small_path)
    parallel = (dossier_rows(), event_rows(), Payment.objects.count(), Petition.objects.count())
    with transaction.atomic():
        simulate(small_path, "--reset", "--yes")
        inline = (dossier_rows(), event_rows(), Payment.objects.count(), Petition.objects.count())
    assert parallel == inline and len(parallel[0]) > 500

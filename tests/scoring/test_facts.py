"""Daily facts from a small set of dossiers with known outcomes, and every indicator checked by
hand for the window Monday 7 – Friday 11 July 2025 of commune centre C91001."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from dossiers.models import Dossier, service_writes
from scoring import methodology as M
from scoring.counts import window_facts
from scoring.facts import facts_compute, facts_ensure, missing_ranges
from scoring.models import (
    FLOW_FIELDS,
    STOCK_FIELDS,
    DailyFact,
    FactDay,
    MonthlyProcedureFact,
    MonthlyProcedureSet,
    YearToDateFact,
)
from scoring.services import certified_copy_set, online_catalogue_set, publication_facts_set
from tests.scoring.conftest import at

D = Decimal
WINDOW = (date(2025, 7, 7), date(2025, 7, 11))


@pytest.fixture
def known(org, make_dossier, make_rating, make_petition):
    """The dossiers of the hand computation (letters as in the comments below)."""
    c = org.p91.communes["91001"]
    mk = make_dossier
    ds = {}
    # A: carried over, finished on its due day → on time; electronic result; synced.
    ds["A"] = mk(
        c,
        accepted="2025-07-02",
        due=at("2025-07-08", 17),
        state=10,
        finished_at=at("2025-07-08", 10),
        returned_at=at("2025-07-08", 11),
        electronic_result=True,
        synced=True,
    )
    # B: online, digitised, synced, finished a day before the due day → early.
    ds["B"] = mk(
        c,
        accepted=at("2025-07-07", 8),
        due=at("2025-07-10", 17),
        channel=2,
        digitised=True,
        synced=True,
        state=9,
        finished_at=at("2025-07-09", 15),
    )
    # C: finished after its due time → late.
    ds["C"] = mk(
        c,
        accepted=at("2025-07-07", 10),
        due=at("2025-07-09", 17),
        digitised=True,
        synced=True,
        state=10,
        finished_at=at("2025-07-10", 9),
        returned_at=at("2025-07-10", 10),
    )
    # D: two supplement requests → late although finished before the due time.
    ds["D"] = mk(
        c,
        accepted="2025-07-08",
        due=at("2025-07-11", 17),
        digitised=True,
        supplement_count=2,
        state=9,
        finished_at=at("2025-07-10", 14),
    )
    # E: waiting for its only supplement, requested before the due day → finished early.
    ds["E"] = mk(
        c,
        accepted="2025-07-08",
        due=at("2025-07-14", 17),
        supplement_count=1,
        state=5,
        paused_at=at("2025-07-09", 10),
    )
    # F: open, overdue at the window's end; G: open within time.
    ds["F"] = mk(c, accepted="2025-07-09", due=at("2025-07-10", 17), state=4)
    ds["G"] = mk(c, accepted="2025-07-09", due=at("2025-07-15", 17), state=4)
    # H: fee-bearing, online, paid online before acceptance, population data.
    ds["H"] = mk(
        c,
        org.fee,
        accepted="2025-07-10",
        due=at("2025-07-16", 17),
        channel=2,
        population_data=True,
        payment_status="paid",
        payment_channel="online",
        paid_at=at("2025-07-10", 8),
        state=4,
    )
    # I: refused at reception (never accepted) → never counted.
    ds["I"] = mk(c, submitted_at=at("2025-07-08"), state=3)
    # J: accepted and finished before the window.
    ds["J"] = mk(
        c, accepted="2025-07-03", due=at("2025-07-04", 17), state=9, finished_at=at("2025-07-04")
    )
    # K: fee-bearing, paid in cash; open within time.
    ds["K"] = mk(
        c,
        org.fee,
        accepted="2025-07-10",
        payment_status="paid",
        payment_channel="cash",
        paid_at=at("2025-07-10", 9, 30),
        state=4,
    )
    # L: fee-bearing, paid online after its acceptance day (counted when finished), finished on
    # its due day in time, electronic result, reused data, personal data store.
    ds["L"] = mk(
        c,
        org.fee,
        accepted="2025-07-08",
        due=at("2025-07-11", 17),
        reused_data=True,
        personal_storage=True,
        payment_status="paid",
        payment_channel="online",
        paid_at=at("2025-07-10", 14),
        electronic_result=True,
        state=9,
        finished_at=at("2025-07-11", 10),
    )
    # M: carried over; late on its original due time, in time on the apology's new date.
    ds["M"] = mk(
        c,
        accepted="2025-07-04",
        due=at("2025-07-07", 17),
        rescheduled_due_at=at("2025-07-11", 17),
        apology_count=1,
        state=10,
        finished_at=at("2025-07-10"),
        returned_at=at("2025-07-10", 10),
    )
    # Ratings: B unsatisfied (counts against satisfaction: B was on time); C unsatisfied but
    # late (not on time, so no double penalty); A satisfied.
    make_rating(ds["B"], satisfied=False, rated_at=at("2025-07-10", 16))
    make_rating(ds["C"], satisfied=False, rated_at=at("2025-07-11", 8))
    make_rating(ds["A"], satisfied=True, rated_at=at("2025-07-09", 8))
    # Petitions: P1 answered in time but rated unsatisfied; P2 open within time; P3 about B
    # (B already counted dissatisfied); P4 answered late (its overdue day was 1 July).
    make_petition(
        c,
        received_at=at("2025-07-01"),
        due_at=at("2025-07-22", 17),
        answered_at=at("2025-07-08"),
        status="answered",
        satisfied=False,
    )
    make_petition(c, received_at=at("2025-07-08"), due_at=at("2025-07-29", 17))
    make_petition(c, received_at=at("2025-07-11"), due_at=at("2025-08-01", 17), dossier=ds["B"])
    make_petition(
        c,
        received_at=at("2025-06-10"),
        due_at=at("2025-07-01", 17),
        answered_at=at("2025-07-09"),
        status="answered",
        satisfied=True,
    )
    # The non-dossier inputs.
    online_catalogue_set(
        centers=["C91001"], procedures=["9.000001"], available_from=date(2025, 7, 1)
    )
    certified_copy_set(communes=["91001"], available_from=date(2025, 7, 1))
    publication_facts_set(
        province="91",
        rows=[
            # 5 working days' notice, public within 5 working days, complete.
            {
                "procedure": "9.000001",
                "decision_date": date(2025, 7, 7),
                "effective_date": date(2025, 7, 14),
                "public_date": date(2025, 7, 9),
            },
            # 2 working days' notice → late; not public yet, due 15 July (outside the window).
            {
                "procedure": "9.000002",
                "decision_date": date(2025, 7, 8),
                "effective_date": date(2025, 7, 10),
                "public_date": None,
            },
            # Decided in June, made public in the window but late, components missing.
            {
                "procedure": "9.000003",
                "decision_date": date(2025, 6, 20),
                "effective_date": date(2025, 7, 1),
                "public_date": date(2025, 7, 8),
                "components_complete": False,
            },
        ],
    )
    facts_compute(day_from=date(2025, 7, 1), day_to=date(2025, 7, 11))
    return ds


def unit_window(key, window=WINDOW):
    facts = window_facts(date_from=window[0], date_to=window[1])
    return facts, facts.units[key]


def test_flows_and_stocks_by_hand(known):
    _, u = unit_window("C91001")
    f = {k: v for k, v in u.flows.items() if v}
    assert f == {
        "received": 9,  # B C D E F G H K L — not A J M (before), not I (refused)
        "received_online": 2,  # B H
        "received_digitised": 3,  # B C D
        "received_reused": 1,  # L
        "received_population": 1,  # H
        "received_personal_storage": 1,  # L
        "received_synced": 2,  # B C
        "fee_bearing": 3,  # H K L
        "paid_online": 2,  # H (acceptance day) L (finish day)
        "finished": 6,  # A B C D L M
        "finished_early": 1,  # B
        "finished_on_time": 2,  # A L
        "finished_late": 3,  # C, D (two supplements), M (original due time)
        "finished_in_time_rs": 4,  # A B L M
        "finished_with_result": 6,
        "electronic_results": 2,  # A L
        "rated_satisfied": 1,
        "rated_unsatisfied": 2,
        "dissatisfied": 1,  # B only: C was late
        "dissatisfied_rs": 1,
        "petitions_received": 2,  # P2 P3
        "petitions_answered": 2,  # P1 P4
        "petitions_answered_on_time": 1,  # P1
        "petitions_failed": 1,  # P1 rated unsatisfied (P4's overdue day is before the window)
    }
    start = {k: v for k, v in u.start.items() if v}
    assert start == {
        "open_total": 2,  # A M
        "open_synced": 1,  # A
        "open_within_time": 2,  # A (due 8 July), M (due 7 July 17:00, not yet passed)
        "open_within_time_rs": 2,
        "petitions_open": 2,  # P1 P4
        "petitions_open_within_time": 1,  # P1 (P4 was due on 1 July)
    }
    end = {k: v for k, v in u.end.items() if v}
    assert end == {
        "open_total": 5,  # E F G H K
        "open_within_time": 3,  # G H K (F overdue, E waiting for its supplement)
        "open_within_time_rs": 3,
        "open_paused": 1,  # E
        "open_paused_early": 1,
        "open_paused_in_time_rs": 1,
        "petitions_open": 2,  # P2 P3
        "petitions_open_within_time": 2,
    }
    # Conservation: received + carried over = finished + still open.
    assert u.handled == u.flows["finished"] + u.end["open_total"] == 11
    assert (u.finished_total, u.finished_early, u.finished_on_time, u.finished_late) == (7, 2, 2, 3)
    assert u.in_process == 4


def test_every_indicator_by_hand(known):
    facts, _ = unit_window("C91001")
    counts = facts.counts("C91001", "2026")
    assert counts == {
        "publish_on_time": (1, 2),
        "public_update_on_time": (1, 2),
        "public_content_full": (1, 2),
        "dossier_sync": (3, 11),
        "dossiers_on_time": (7, 11),  # early B + on time A L + waiting E + within G H K
        "procedures_online": (1, 2),
        "online_services_used": (1, 1),
        "dossiers_online": (2, 9),
        "dossiers_paid_online": (2, 3),
        "fee_procedures_integrated": (1, 1),
        "fee_procedures_paid_online": (1, 1),
        "electronic_result": (2, 9),
        "digitised_dossiers": (3, 9),
        "reused_data": (1, 9),
        "personal_storage_linked": (1, 9),
        "population_data_dossiers": (1, 9),
        "population_data_procedures": (1, 2),
        "certified_copy_service": (1, 1),
        "petitions_on_time": (3, 4),
        "petition_satisfaction": (1, 2),
        "dossier_satisfaction": (6, 11),
    }
    result = M.evaluate("2026", counts)
    scores = {code: r.score for code, r in result.indicators.items()}
    assert scores == {
        "publish_on_time": D("3.00"),
        "public_update_on_time": D("2.00"),
        "public_content_full": D("1.00"),
        "dossier_sync": D("1.64"),  # 6 × 3/11 = 1.636…
        "dossiers_on_time": D("12.73"),  # 20 × 7/11 = 12.727…
        "procedures_online": D("1.25"),  # 2 × 0.5 / 0.8
        "online_services_used": D("4.00"),
        "dossiers_online": D("2.67"),  # 6 × (2/9) / 0.5
        "dossiers_paid_online": D("4.00"),
        "fee_procedures_integrated": D("2.00"),
        "fee_procedures_paid_online": D("2.00"),
        "electronic_result": D("1.33"),
        "digitised_dossiers": D("1.33"),
        "reused_data": D("0.28"),  # 2 × (1/9) / 0.8 = 0.2777…
        "personal_storage_linked": D("0.44"),
        "population_data_dossiers": D("0.22"),
        "population_data_procedures": D("1.00"),
        "certified_copy_service": D("2.00"),
        "petitions_on_time": D("4.50"),
        "petition_satisfaction": D("3.00"),
        "dossier_satisfaction": D("3.64"),  # 6 × (6/11) / 0.9 = 3.636…
    }
    assert result.groups == {
        "transparency": D("7.64"),
        "progress": D("12.73"),
        "online": D("7.92"),
        "payment": D("8.00"),
        "digitisation": D("6.60"),
        "satisfaction": D("11.14"),
    }
    assert result.total == D("54.03")
    five = M.evaluate("2025-07", facts.counts("C91001", "2025-07"))
    assert five.groups["online"] == D("15.92") and five.total == D("54.03")


def test_rescheduled_due_time_is_a_methodology_switch(known):
    facts, _ = unit_window("C91001")
    rescheduled = M.variant("2026", "2026-rs", due_basis=M.DUE_RESCHEDULED)
    counts = facts.counts("C91001", rescheduled)
    # A B L M finished in time on the rescheduled basis + E waiting + G H K within time.
    assert counts["dossiers_on_time"] == (8, 11)
    assert counts["dossier_satisfaction"] == (7, 11)


def test_a_day_is_by_local_date(org, make_dossier):
    c = org.p91.communes["91001"]
    make_dossier(c, accepted=at("2025-07-07", 23, 30))  # 16:30 UTC on the 7th
    make_dossier(c, accepted=at("2025-07-08", 0, 15))  # 17:15 UTC on the 7th
    facts_compute(day_from=date(2025, 7, 7), day_to=date(2025, 7, 8))
    received = dict(DailyFact.objects.values_list("day", "received"))
    assert received == {date(2025, 7, 7): 1, date(2025, 7, 8): 1}


def test_supplement_rules(org, make_dossier):
    c = org.p92.communes["92001"]
    # Waiting for the only supplement, requested after the due time → late.
    make_dossier(
        c,
        accepted="2025-07-07",
        due=at("2025-07-08", 17),
        supplement_count=1,
        state=5,
        paused_at=at("2025-07-09", 9),
    )
    # Requested on the due day before the due time → on time.
    make_dossier(
        c,
        accepted="2025-07-07",
        due=at("2025-07-09", 17),
        supplement_count=1,
        state=5,
        paused_at=at("2025-07-09", 9),
    )
    # Waiting for a second supplement → not "finished": in process, and late.
    make_dossier(
        c,
        accepted="2025-07-07",
        due=at("2025-07-30", 17),
        supplement_count=2,
        state=5,
        paused_at=at("2025-07-09", 9),
    )
    # One supplement that came back: in process again, within time.
    make_dossier(c, accepted="2025-07-07", due=at("2025-07-30", 17), supplement_count=1, state=4)
    facts_compute(day_from=date(2025, 7, 7), day_to=date(2025, 7, 11))
    u = window_facts(date_from=date(2025, 7, 7), date_to=date(2025, 7, 11)).units["C92001"]
    assert u.end["open_paused"] == 2
    assert (u.finished_early, u.finished_on_time, u.finished_late) == (0, 1, 1)
    assert u.end["open_within_time"] == 1
    assert u.in_process == 2
    # On the 8th (before the requests) all four were in process within time, but one was
    # already due that day.
    u8 = window_facts(date_from=date(2025, 7, 7), date_to=date(2025, 7, 8)).units["C92001"]
    assert (u8.end["open_paused"], u8.end["open_within_time"]) == (0, 2)


def test_a_range_equals_day_by_day(known):
    """The nightly job computes one day at a time, a backfill a whole range: same rows."""
    facts_compute(day_from=date(2025, 7, 1), day_to=date(2025, 7, 11))
    as_range = _fact_rows()
    for n in range(11):
        day = date(2025, 7, 1) + timedelta(days=n)
        facts_compute(day_from=day)
    assert _fact_rows() == as_range
    assert len(as_range) == 11  # C91001 has open dossiers or petitions every day


def test_one_day_stocks_equal_the_range_markers(org, make_dossier):
    """The nightly one-day statement counts stocks at the day's end from timestamps; a range
    turns every dossier into day markers. Same rows, here for dossiers waiting for their only
    supplement around their original and rescheduled due times, and running ones."""
    c = org.p92.communes["92001"]
    for paused, rescheduled in [(9, 10), (11, 10), (9, None), (None, 12)]:
        make_dossier(
            c,
            accepted="2025-07-07",
            due=at("2025-07-09", 17),
            rescheduled_due_at=rescheduled and at(f"2025-07-{rescheduled:02d}", 17),
            supplement_count=1 if paused else 0,
            state=5 if paused else 3,
            paused_at=paused and at(f"2025-07-{paused:02d}", 9),
        )
    facts_compute(day_from=date(2025, 7, 6), day_to=date(2025, 7, 13))
    as_range = _fact_rows()
    for n in range(8):
        facts_compute(day_from=date(2025, 7, 6) + timedelta(days=n))
    assert _fact_rows() == as_range
    assert {row[0] for row in as_range} == {date(2025, 7, 7) + timedelta(days=n) for n in range(7)}


def _fact_rows():
    fields = ["day", "center_id", "province_id", *FLOW_FIELDS, *STOCK_FIELDS]
    return sorted(DailyFact.objects.values_list(*fields))


def _totals_are_running_sums():
    """One total per centre and day with flows = its flows summed since 1 January."""
    running: dict[tuple, list[int]] = {}
    expected = {}
    for centre, day, *flows in DailyFact.objects.order_by("day").values_list(
        "center_id", "day", *FLOW_FIELDS
    ):
        sums = running.setdefault((centre, day.year), [0] * len(FLOW_FIELDS))
        sums[:] = [s + f for s, f in zip(sums, flows)]
        if any(flows):
            expected[(centre, day)] = list(sums)
    totals = {
        (centre, day): list(values)
        for centre, day, *values in YearToDateFact.objects.values_list(
            "center_id", "day", *FLOW_FIELDS
        )
    }
    assert totals == expected
    return running


def test_year_to_date_totals_in_any_order_of_computation(known, org, make_dossier):
    """Computed in one range (the fixture), night by night backwards (each night moves the
    totals of the later days), and a past day again after its dossiers changed."""
    received, online = (
        sum(DailyFact.objects.values_list(name, flat=True))
        for name in ("received", "received_online")
    )
    assert sum(sums[0] for sums in _totals_are_running_sums().values()) == received
    for n in reversed(range(11)):
        facts_compute(day_from=date(2025, 7, 1) + timedelta(days=n))
        _totals_are_running_sums()
    # Across a new year: the totals restart on 1 January.
    make_dossier(org.p91.communes["91001"], accepted="2026-01-02")
    facts_compute(day_from=date(2025, 7, 9), day_to=date(2026, 1, 2))
    _totals_are_running_sums()
    assert YearToDateFact.objects.get(day=date(2026, 1, 2)).received == 1
    # Dossier B (online, accepted on the 7th) corrected to the counter and only the 7th
    # recomputed: the totals of the 8th to the 11th move with it.
    with service_writes():  # a correction, as the simulator's replay writes it
        Dossier.objects.filter(pk=known["B"].pk).update(channel=1)
    facts_compute(day_from=date(2025, 7, 7))
    _totals_are_running_sums()
    july = YearToDateFact.objects.filter(center__code="C91001", day__year=2025).latest("day")
    assert (july.received, july.received_online) == (received, online - 1)


def test_window_sums_equal_flows_plus_stocks(known):
    """Any window = flows summed over it + stocks at the day before it and at its end; and a
    long window's stock identity holds day after day."""
    _, whole = unit_window("C91001", (date(2025, 7, 1), date(2025, 7, 11)))
    _, first = unit_window("C91001", (date(2025, 7, 1), date(2025, 7, 6)))
    _, second = unit_window("C91001", (date(2025, 7, 7), date(2025, 7, 11)))
    for name in FLOW_FIELDS:
        assert whole.flows[name] == first.flows[name] + second.flows[name], name
    assert first.end == second.start
    rows = list(DailyFact.objects.filter(center__code="C91001").order_by("day"))
    for before, after in zip(rows, rows[1:]):
        assert after.open_total == before.open_total + after.received - after.finished
        assert (
            after.petitions_open
            == before.petitions_open + after.petitions_received - after.petitions_answered
        )


def test_procedure_facts(known, org):
    """One row per centre, month and procedure, one bit per day of the month."""
    rows = set(
        MonthlyProcedureFact.objects.values_list(
            "month", "procedure__code", "online_days", "fee_days", "paid_days", "population_days"
        )
    )
    day = {d: 1 << (d - 1) for d in range(1, 32)}
    assert rows == {
        (date(2025, 7, 1), "9.000001", day[7], 0, 0, 0),  # B online on the 7th
        # L fee-bearing on the 8th; H online, paid, population and K fee-bearing on the 10th;
        # L paid online, counted at its finish on the 11th.
        (date(2025, 7, 1), "9.000002", day[10], day[8] | day[10], day[10] | day[11], day[10]),
    }
    # Recomputing a day clears and sets only that day's bits.
    facts_compute(day_from=date(2025, 7, 10))
    assert (
        set(
            MonthlyProcedureFact.objects.values_list(
                "month",
                "procedure__code",
                "online_days",
                "fee_days",
                "paid_days",
                "population_days",
            )
        )
        == rows
    )


def test_procedure_facts_on_the_31st(org, make_dossier):
    """Every field's bit 30 on the same row (a day-31 dossier online, fee-bearing, paid online,
    with population data): the masks are combined as bits, never summed as integers (four
    bits 30 overflow a 32-bit sum on PostgreSQL)."""
    c = org.p91.communes["91001"]
    make_dossier(c, org.fee, accepted="2025-07-31", channel=2, population_data=True,
                 payment_status="paid", payment_channel="online", paid_at=at("2025-07-31", 8),
                 state=4)  # fmt: skip
    facts_compute(day_from=date(2025, 7, 31))
    bit = 1 << 30
    assert list(
        MonthlyProcedureFact.objects.values_list(
            "online_days", "fee_days", "paid_days", "population_days"
        )
    ) == [(bit, bit, bit, bit)]


def _monthly_sets() -> set[tuple]:
    return set(
        MonthlyProcedureSet.objects.values_list(
            "month", "center__code", "word", "online", "fee", "paid", "population"
        )
    )


def _sets_of(**fields: set[int]) -> set[tuple]:
    """The July sets of C91001 holding these procedure ids per field (signed 64-bit words)."""
    words: dict[int, list[int]] = {}
    for n, name in enumerate(("online", "fee", "paid", "population")):
        for pk in fields.get(name, ()):
            word, bit = divmod(pk - 1, 64)
            words.setdefault(word, [0, 0, 0, 0])[n] |= 1 << bit
    signed = [[v - (1 << 64) if v >= 1 << 63 else v for v in w] for w in words.values()]
    return {(date(2025, 7, 1), "C91001", w, *v) for w, v in zip(words, signed)}


def test_monthly_procedure_sets_night_by_night_and_after_a_correction(known, org):
    """A first computation ORs its days into the month's sets; a recomputation aggregates the
    month again, so a procedure that lost its only dossier of a kind leaves the set."""
    b, h = org.free.procedure.pk, org.fee.procedure.pk
    expected = _sets_of(online={b, h}, fee={h}, paid={h}, population={h})
    assert _monthly_sets() == expected  # the fixture's range, computed once
    for model in (DailyFact, YearToDateFact, MonthlyProcedureFact, MonthlyProcedureSet, FactDay):
        model.objects.all().delete()
    for n in range(31):  # night by night, as the nightly job computes them
        facts_compute(day_from=date(2025, 7, 1) + timedelta(days=n))
    assert _monthly_sets() == expected
    # B, the only online dossier of its procedure, corrected to the counter; its day again.
    with service_writes():
        Dossier.objects.filter(pk=known["B"].pk).update(channel=1)
    facts_compute(day_from=date(2025, 7, 7))
    assert _monthly_sets() == _sets_of(online={h}, fee={h}, paid={h}, population={h})


def test_procedure_sets_per_window(known):
    facts = window_facts(date_from=date(2025, 7, 9), date_to=date(2025, 7, 10))
    unit = facts.units["C91001"]
    fee = {p for p in unit.fee_data}
    assert len(fee) == 1 and unit.paid_online == fee and unit.population == fee
    assert unit.used_online == fee  # H on the 10th; B (the other procedure) was on the 7th
    facts = window_facts(date_from=date(2025, 7, 11), date_to=date(2025, 7, 11))
    assert facts.units["C91001"].paid_online == fee  # L, paid online, finished on the 11th
    assert facts.units["C91001"].fee_data == set()


def test_facts_ensure_backfills_never_computed_days(org, make_dossier):
    c = org.p91.communes["91002"]
    make_dossier(c, accepted="2025-03-03", state=4, due=at("2025-03-06", 17))
    assert missing_ranges(date(2025, 1, 1), date(2025, 1, 5)) == [
        (date(2025, 1, 1), date(2025, 1, 5))
    ]
    summaries = facts_ensure(day_from=date(2025, 3, 10), day_to=date(2025, 3, 10))
    assert [(s.day_from, s.day_to) for s in summaries] == [
        (date(2024, 12, 31), date(2025, 3, 9)),
        (date(2025, 3, 10), date(2025, 3, 10)),
    ]
    assert missing_ranges(date(2024, 12, 31), date(2025, 3, 10)) == []
    # The next night touches only its own day.
    summaries = facts_ensure(day_from=date(2025, 3, 11), day_to=date(2025, 3, 11))
    assert [(s.day_from, s.day_to) for s in summaries] == [(date(2025, 3, 11), date(2025, 3, 11))]
    assert DailyFact.objects.get(day=date(2025, 3, 11)).open_total == 1


def test_facts_statements_run_with_the_configured_sort_memory(postgres, known, settings):
    """The day's marker rows sort in memory: ``work_mem`` raised for the facts transaction
    only (at PostgreSQL's 4 MB default a national night spilled its sorts to disk)."""
    from django.db import connection

    settings.SCORING_FACTS_WORK_MEM = "48MB"
    seen = []

    def wrapper(execute, sql, params, many, context):
        if sql.lstrip().startswith("INSERT INTO scoring_dailyfact"):
            with context["connection"].cursor() as cursor:
                cursor.execute("SHOW work_mem")
                seen.append(cursor.fetchone()[0])
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        facts_compute(day_from=date(2025, 7, 8))
    assert seen == ["48MB"]

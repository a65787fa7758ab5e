"""Snapshots, ranks, pooling, custom ranges, runs and atomic publication."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from scoring import methodology as M
from scoring import services
from scoring.counts import window_facts
from scoring.facts import facts_compute
from scoring.models import IndexPublication, IndexRun, IndexSnapshot, UnitKind
from scoring.selectors import current_snapshots, national_ranking, province_units, unit_trend
from scoring.snapshots import scores_for_range, window_start
from scoring.tasks import nightly_index
from tests.scoring.conftest import at

D = Decimal
DAY = date(2025, 7, 11)


def test_window_starts():
    assert window_start("month", date(2025, 8, 29)) == date(2025, 8, 1)
    assert window_start("quarter", date(2025, 8, 29)) == date(2025, 7, 1)
    assert window_start("quarter", date(2025, 12, 31)) == date(2025, 10, 1)
    assert window_start("ytd", date(2025, 8, 29)) == date(2025, 1, 1)
    with pytest.raises(ValueError, match="unknown window"):
        window_start("week", DAY)


@pytest.fixture
def activity(org, make_dossier):
    """C91001: 2 of 3 on time; C91002: 1 of 1; P91: none; province 92: 1 of 2."""
    c1, c2 = org.p91.communes["91001"], org.p91.communes["91002"]
    fin = {"state": 9, "due": at("2025-07-10", 17)}
    make_dossier(c1, accepted="2025-07-07", finished_at=at("2025-07-09"), **fin)
    make_dossier(c1, accepted="2025-07-07", finished_at=at("2025-07-09"), **fin)
    make_dossier(c1, accepted="2025-07-07", finished_at=at("2025-07-11"), **fin)
    make_dossier(c2, accepted="2025-07-07", finished_at=at("2025-07-08"), **fin)
    c3 = org.p92.communes["92001"]
    make_dossier(c3, accepted="2025-07-07", finished_at=at("2025-07-08"), **fin)
    make_dossier(c3, accepted="2025-07-07", finished_at=at("2025-07-11"), **fin)
    facts_compute(day_from=date(2025, 7, 1), day_to=DAY)
    return org


def test_a_province_pools_counts_it_does_not_average_scores(activity):
    scored = scores_for_range(date_from=date(2025, 7, 1), date_to=DAY, province="91")
    on_time = {k: s.result.indicators["dossiers_on_time"] for k, s in scored.units.items()}
    assert (on_time["C91001"].numerator, on_time["C91001"].denominator) == (2, 3)
    assert on_time["C91001"].score == D("13.33")
    assert on_time["C91002"].score == D("20.00")
    pooled = on_time["91"]
    assert (pooled.numerator, pooled.denominator) == (3, 4)
    assert pooled.score == D("15.00")
    assert pooled.score != (on_time["C91001"].score + on_time["C91002"].score) / 2


def test_procedures_are_counted_once_per_province(org, make_dossier):
    """Two communes using the same fee-bearing procedure online: the province counts it once."""
    for code in ("91001", "91002"):
        make_dossier(
            org.p91.communes[code],
            org.fee,
            accepted="2025-07-08",
            channel=2,
            population_data=True,
            payment_status="paid",
            payment_channel="online",
            paid_at=at("2025-07-08", 8),
        )
    services.online_catalogue_set(province="91", available_from=date(2025, 7, 1))
    facts_compute(day_from=date(2025, 7, 8))
    facts = window_facts(date_from=date(2025, 7, 8), date_to=date(2025, 7, 8))
    province = facts.counts("91", "2026")
    commune = facts.counts("C91001", "2026")
    # The province answers for the 3 procedures (2 commune-level + 1 provincial), 2 with fees.
    assert province["fee_procedures_integrated"] == (1, 2)
    assert province["fee_procedures_paid_online"] == (1, 2)
    assert province["population_data_procedures"] == (1, 3)
    # Online catalogue: every centre offers its level's online procedures (all 3 here).
    assert province["procedures_online"] == (3, 3)
    assert province["online_services_used"] == (1, 3)
    assert commune["fee_procedures_integrated"] == (1, 1)
    assert commune["procedures_online"] == (2, 2)
    assert commune["online_services_used"] == (1, 2)
    assert province["dossiers_online"] == (2, 2)  # dossiers, unlike procedures, add up


def test_certified_copies_in_counts_mode(org):
    services.certified_copy_set(communes=["91001", "91002"], available_from=date(2025, 7, 1))
    facts = window_facts(date_from=date(2025, 7, 1), date_to=DAY)
    assert facts.counts("91", "2026")["certified_copy_service"] == (2, 3)
    assert facts.counts("P91", "2026")["certified_copy_service"] == (2, 3)
    assert facts.counts("C91003", "2026")["certified_copy_service"] == (0, 1)
    counts_mode = M.variant("2026", "counts", certified_copy=M.COPY_COUNTS)
    assert M.evaluate(counts_mode, facts.counts("91", counts_mode)).indicators[
        "certified_copy_service"
    ].score == D("1.33")


def test_index_compute_writes_every_unit_window_and_version_then_publishes(activity):
    summary = services.index_compute(date_from=DAY)
    run = summary.run
    assert run.status == IndexRun.Status.COMPLETE
    units = 2 + 2 + 5  # pooled provinces, provincial centres, communes
    assert summary.snapshot_rows == run.rows == units * 3 * 2
    assert IndexPublication.objects.get(date=DAY).run == run
    ranking = list(national_ranking(on=DAY, window="month"))
    assert [(s.unit, s.rank, s.rank_of) for s in ranking] == [("91", 1, 2), ("92", 2, 2)]
    assert ranking[0].window_from == date(2025, 7, 1)
    assert ranking[0].indicators["dossiers_on_time"] == [3, 4, 75.0, 15.0]
    assert set(ranking[0].group_ranks) == set(ranking[0].groups)
    # Within the province: C91002 (20.00 on progress) ahead; P91 and C91003 tie, sharing a rank.
    inside = list(province_units(province="91", on=DAY, window="month"))
    ranks = {s.unit: (s.rank, s.rank_of) for s in inside}
    assert ranks["C91002"] == (1, 4)
    assert ranks["C91001"] == (2, 4)
    assert ranks["P91"] == ranks["C91003"] == (3, 4)
    ytd = national_ranking(on=DAY, window="ytd", methodology="2025-07").first()
    assert ytd.window_from == date(2025, 1, 1)
    # (JSON objects keep no key order on PostgreSQL: the version's columns give the order.)
    assert set(ytd.groups) == {c.key for c in M.get("2025-07").columns}


def test_custom_range_equals_the_snapshot_of_the_same_window(activity):
    services.index_compute(date_from=DAY)
    scored = scores_for_range(
        date_from=date(2025, 7, 1), date_to=DAY, methodology="2025-07", all_units=True
    )
    for snap in current_snapshots().filter(window="month", methodology="2025-07"):
        s = scored.units[snap.unit]
        assert (s.total, s.rank, s.rank_of) == (snap.total, snap.rank, snap.rank_of), snap.unit
        assert s.indicators_json() == snap.indicators


def test_readers_never_see_a_run_in_progress_or_a_mix(activity, make_dossier, org):
    first = services.index_compute(date_from=DAY).run
    before = {
        s.unit: s.total for s in current_snapshots().filter(window="month", methodology="2026")
    }
    # New activity, then a second run that has written one province and not published yet.
    make_dossier(
        org.p92.communes["92002"], accepted=at("2025-07-11", 8), state=4, due=at("2025-07-11", 9)
    )
    second = services.index_run_start(kind="recompute", date_from=DAY, date_to=DAY)
    services.index_run_facts(run=second)
    services.index_run_province(run_id=second.pk, province="92")
    assert IndexSnapshot.objects.filter(run=second).exists()
    seen = current_snapshots().filter(window="month", methodology="2026")
    assert {s.run_id for s in seen} == {first.pk}
    assert {s.unit: s.total for s in seen} == before
    services.index_run_province(run_id=second.pk, province="91")
    services.index_run_finish(run_id=second.pk)
    seen = current_snapshots().filter(window="month", methodology="2026")
    assert {s.run_id for s in seen} == {second.pk}
    assert len(seen) == len(before)
    assert {s.unit: s.total for s in seen}["92"] < before["92"]


def test_a_failed_run_leaves_the_previous_snapshots_published(activity, monkeypatch):
    first = services.index_compute(date_from=DAY).run
    published = sorted(current_snapshots().values_list("id", flat=True))
    from scoring import snapshots

    real = snapshots.snapshots_compute

    def breaks_after_writing(**kwargs):
        assert real(**kwargs) > 0  # the failed run's rows are written, then dropped
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "snapshots_compute", breaks_after_writing)
    with pytest.raises(RuntimeError):
        services.index_compute(date_from=DAY)
    failed = IndexRun.objects.exclude(pk=first.pk).get()
    assert failed.status == IndexRun.Status.FAILED
    assert "database went away" in failed.error
    assert not IndexSnapshot.objects.filter(run=failed).exists()
    assert sorted(current_snapshots().values_list("id", flat=True)) == published
    monkeypatch.undo()
    assert services.index_compute(date_from=DAY).run.status == IndexRun.Status.COMPLETE


def test_an_overlapping_run_is_a_no_op(activity):
    running = services.index_run_start(kind="nightly", date_from=DAY, date_to=DAY)
    assert services.index_run_start(kind="nightly", date_from=DAY, date_to=DAY) is None
    assert services.index_compute(date_from=DAY).run is None
    skipped = IndexRun.objects.filter(status=IndexRun.Status.SKIPPED)
    assert skipped.count() == 2
    assert f"run {running.pk} is in progress" in skipped.first().error
    assert IndexRun.objects.filter(status=IndexRun.Status.RUNNING).get() == running


def test_a_silent_run_is_declared_failed_by_the_next_start(activity):
    with time_machine.travel(timezone.now() - timedelta(hours=2)):
        dead = services.index_run_start(kind="nightly", date_from=DAY, date_to=DAY)
        services.index_run_facts(run=dead)
        services.index_run_province(run_id=dead.pk, province="91")
    summary = services.index_compute(date_from=DAY, kind="nightly")
    assert summary.run.status == IndexRun.Status.COMPLETE
    dead.refresh_from_db()
    assert dead.status == IndexRun.Status.FAILED
    assert dead.error.startswith("abandoned: no sign of life since")
    assert not IndexSnapshot.objects.filter(run=dead).exists()
    # A late task of the dead run writes nothing.
    assert services.index_run_province(run_id=dead.pk, province="92") == 0
    assert services.index_run_finish(run_id=dead.pk) is None


def test_superseded_snapshots_are_cleaned_up_after_a_grace_period(activity):
    first = services.index_compute(date_from=DAY).run
    second = services.index_compute(date_from=DAY).run
    assert IndexSnapshot.objects.filter(run=first).exists()  # readers mid-page keep it a while
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        deleted = services.snapshots_cleanup()
    assert deleted == first.rows
    assert not IndexSnapshot.objects.filter(run=first).exists()
    assert IndexSnapshot.objects.filter(run=second).count() == second.rows


def test_cleanup_visits_only_the_publications_switched_since_the_last_one(
    activity, django_assert_num_queries
):
    first = services.index_compute(date_from=date(2025, 7, 10), date_to=DAY).run
    later = timezone.now() + timedelta(minutes=11)
    with time_machine.travel(later):
        assert services.snapshots_cleanup() == 0  # nothing superseded yet
        with django_assert_num_queries(3):  # savepoint, the due publications (none), release
            assert services.snapshots_cleanup() == 0
    # DAY is recomputed: only its publication is due, the 10th keeps the first run's rows.
    with time_machine.travel(later + timedelta(minutes=1)):
        second = services.index_compute(date_from=DAY).run
    with time_machine.travel(later + timedelta(minutes=12)):
        deleted = services.snapshots_cleanup()
    assert deleted == first.rows // 2
    assert not IndexSnapshot.objects.filter(run=first, date=DAY).exists()
    assert IndexSnapshot.objects.filter(run=first, date=date(2025, 7, 10)).count() == deleted
    assert IndexSnapshot.objects.filter(run=second).count() == second.rows
    assert {p.cleaned_at is not None for p in IndexPublication.objects.all()} == {True}


def test_trend_reads_one_published_snapshot_per_date(activity):
    services.index_compute(date_from=date(2025, 7, 9), date_to=DAY)
    services.index_compute(date_from=DAY)  # recomputed: superseded rows must not double
    trend = list(unit_trend(unit="91", date_from=date(2025, 7, 1), date_to=DAY, window="month"))
    assert [s.date for s in trend] == [date(2025, 7, 9), date(2025, 7, 10), DAY]


def test_nightly_task_in_eager_mode_publishes_yesterday(activity):
    from portal.celery import app

    assert app.conf.task_always_eager  # the chord runs here, one task after the other
    with time_machine.travel(at("2025-07-12", 0, 30)):
        nightly_index.delay()
    run = IndexRun.objects.get(status=IndexRun.Status.COMPLETE)
    assert (run.kind, run.date_from, run.date_to) == ("nightly", DAY, DAY)
    assert sorted(run.provinces_done) == ["91", "92"]
    assert national_ranking(on=DAY).count() == 2


def test_unit_kinds_and_keys(activity):
    services.index_compute(date_from=DAY)
    kinds = dict(
        current_snapshots()
        .filter(window="ytd", methodology="2026")
        .values_list("unit", "unit_kind")
    )
    assert kinds == {
        "91": UnitKind.PROVINCE,
        "92": UnitKind.PROVINCE,
        "P91": UnitKind.PROVINCIAL_CENTER,
        "P92": UnitKind.PROVINCIAL_CENTER,
        "C91001": UnitKind.COMMUNE,
        "C91002": UnitKind.COMMUNE,
        "C91003": UnitKind.COMMUNE,
        "C92001": UnitKind.COMMUNE,
        "C92002": UnitKind.COMMUNE,
    }


def test_window_facts_take_a_fixed_number_of_queries(activity, django_assert_max_num_queries):
    from scoring.counts import windows_facts

    with django_assert_max_num_queries(10):
        facts = windows_facts(
            windows=[(date(2025, 7, 1), DAY), (date(2025, 1, 1), DAY), (date(2025, 7, 3), DAY)]
        )
    assert len(facts) == 3
    assert len(facts[0].units) == 9

"""Who sees which dossiers, and the deadline filters on stored columns."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser

from dossiers import selectors, services
from dossiers.workflow import Actor, State
from portal.models import ManagerScope
from tests.dossiers.conftest import HCM, Walker
from tests.factories import (
    CitizenFactory,
    CommuneCenterFactory,
    CommuneFactory,
    ProvinceFactory,
    StaffFactory,
    UserFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def at(day, hour, minute=0):
    return datetime(2026, 3, day, hour, minute, tzinfo=HCM)


@pytest.fixture
def world(center, procedure):
    """Two centres in one province, one in another; a dossier in each."""
    same_province = CommuneCenterFactory(commune=CommuneFactory(province=center.province))
    elsewhere = ProvinceFactory(code="98" if center.province.code == "99" else "99")
    far = CommuneCenterFactory(commune=CommuneFactory(province=elsewhere))
    dossiers = {}
    for name, where in (("ours", center), ("neighbour", same_province), ("far", far)):
        walker = Walker(
            center=where,
            procedure=procedure,
            citizen=CitizenFactory(),
            receptionist=StaffFactory(center=where, roles=["receptionist"]),
            officer=StaffFactory(center=where, roles=["officer"]),
        )
        dossiers[name] = walker.submitted()
    return dossiers


def visible(user, world):
    codes = set(selectors.dossiers_visible_to(user).values_list("code", flat=True))
    return {name for name, d in world.items() if d.code in codes}


def test_each_kind_of_user_sees_their_scope(world, center):
    assert visible(AnonymousUser(), world) == set()
    assert visible(world["ours"].applicant, world) == {"ours"}
    assert visible(StaffFactory(center=center, roles=["officer"]), world) == {"ours"}
    provincial = UserFactory()
    ManagerScope.objects.create(user=provincial, province=center.province)
    assert visible(provincial, world) == {"ours", "neighbour"}
    national = UserFactory()
    ManagerScope.objects.create(user=national, province=None)
    assert visible(national, world) == {"ours", "neighbour", "far"}
    assert visible(UserFactory(is_superuser=True), world) == {"ours", "neighbour", "far"}
    assert visible(UserFactory(is_active=False, is_superuser=True), world) == set()


def test_rights_add_up_for_a_citizen_who_is_also_staff(world, center):
    clerk = world["far"].applicant
    StaffFactory._meta.model.objects.filter(pk=clerk.pk).update(is_staff=True)
    from portal.models import StaffMembership

    StaffMembership.objects.create(user=clerk, center=center, role="officer")
    assert visible(clerk, world) == {"ours", "far"}
    assert selectors.actor_roles(clerk, world["far"].center, world["far"]) == {Actor.CITIZEN}
    assert selectors.actor_roles(clerk, center, world["ours"]) == {Actor.OFFICER}


def test_dossier_get_for_hides_what_is_not_yours(world):
    citizen = world["ours"].applicant
    assert selectors.dossier_get_for(citizen, world["ours"].code) == world["ours"]
    assert selectors.dossier_get_for(citizen, world["far"].code) is None


def test_actor_roles(center, world):
    assert selectors.actor_roles(None, center) == {Actor.SYSTEM}
    assert selectors.actor_roles(AnonymousUser(), center) == set()
    leader = StaffFactory(center=center, roles=["leader", "officer"])
    assert selectors.actor_roles(leader, center) == {Actor.LEADER, Actor.OFFICER}
    assert selectors.actor_roles(leader, world["far"].center) == set()


def test_buttons_respect_preconditions(walker, receptionist):
    dossier = walker.submitted()
    assert selectors.allowed_actions_for(receptionist, dossier) == [
        "accept",
        "refuse",
        "record_payment",
    ]
    paid = walker.paid(dossier)
    assert "record_payment" not in selectors.allowed_actions_for(receptionist, paid)


# --- Deadline filters ---------------------------------------------------------------------------
@pytest.fixture
def board(walker, officer, citizen):
    """Dossiers due on Thursday 5 March (3 working days from Monday morning) in several
    situations: running, paused before / after the due time, finished, not accepted."""
    running = walker.in_state(State.IN_PROCESS)
    paused_early = services.dossier_request_supplement(
        dossier=walker.in_state(State.IN_PROCESS), actor=officer, reason="Thiếu", at=at(3, 9)
    )
    late = walker.in_state(State.IN_PROCESS)
    paused_late = services.dossier_request_supplement(
        dossier=late, actor=officer, reason="Thiếu", at=late.due_at + timedelta(minutes=30)
    )
    finished = walker.in_state(State.PROCESSED)
    submitted = walker.submitted()
    return {
        "running": running,
        "paused_early": paused_early,
        "paused_late": paused_late,
        "finished": finished,
        "submitted": submitted,
    }


def names(queryset, board):
    codes = set(queryset.values_list("code", flat=True))
    return {name for name, d in board.items() if d.code in codes}


def test_overdue_reads_stored_columns(board):
    qs = selectors.dossiers_visible_to(UserFactory(is_superuser=True))
    assert names(selectors.overdue(qs, at=at(5, 9)), board) == set()
    assert names(selectors.overdue(qs, at=at(5, 11)), board) == {"running", "paused_late"}
    sql = str(selectors.overdue(qs, at=at(5, 11)).query).lower()
    assert "django_datetime" not in sql and "at time zone" not in sql  # no per-row dates


def test_due_today_and_overdue_soon(board):
    qs = selectors.dossiers_visible_to(UserFactory(is_superuser=True))
    assert board["running"].due_at == at(5, 9, 20)
    assert names(selectors.is_due_today(qs, today=at(5, 0).date()), board) == {"running"}
    assert names(selectors.is_due_today(qs, today=at(4, 0).date()), board) == set()
    assert names(selectors.overdue_soon(qs, at=at(4, 10)), board) == {"running"}
    assert names(selectors.overdue_soon(qs, at=at(3, 10)), board) == set()


def test_paused_and_timeliness(board):
    qs = selectors.dossiers_visible_to(UserFactory(is_superuser=True))
    assert names(selectors.paused(qs), board) == {"paused_early", "paused_late"}
    assert board["finished"].timeliness == "early"
    assert names(selectors.with_timeliness(qs, "early"), board) == {"finished"}
    assert names(selectors.with_timeliness(qs, "late"), board) == set()


def test_the_timeline_is_oldest_first_with_labels(walker):
    dossier = walker.in_state(State.RETURNED)
    timeline = selectors.dossier_timeline(dossier)
    assert [e.action for e in timeline] == [
        "submit",
        "accept",
        "record_payment",
        "start_processing",
        "finish",
        "return_result",
    ]
    assert all(e.action_label for e in timeline)
    assert timeline[0].at < timeline[-1].at - timedelta(minutes=1)


# --- Scope as SQL: centres as literal ids, the applicant branch only for applicants --------------
def test_staff_scope_is_their_centres_only_when_they_never_filed(world, center):
    """Staff without a citizen ID cannot file, so their scope is ``center_id IN (...)``
    alone (the OR with the applicant defeated the (center, -submitted_at) index); the rights
    are the same."""
    officer = StaffFactory(center=center, roles=["officer"])
    where = str(selectors.dossiers_visible_to(officer).query).split(" WHERE ")[1]
    assert where == f'"dossiers_dossier"."center_id" IN ({center.pk})'
    assert visible(officer, world) == {"ours"}


def test_staff_who_filed_before_losing_their_citizen_id_still_see_their_dossier(world, center):
    applicant = world["far"].applicant
    from portal.models import StaffMembership, User

    User.objects.filter(pk=applicant.pk).update(citizen_id=None)
    StaffMembership.objects.create(user=applicant, center=center, role="officer")
    clerk = User.objects.get(pk=applicant.pk)
    assert clerk.citizen_id is None
    assert visible(clerk, world) == {"ours", "far"}


def test_access_is_read_once_per_user_object(world, center, django_assert_num_queries):
    from django.utils.functional import SimpleLazyObject

    officer = StaffFactory(center=center, roles=["officer"])
    lazy = SimpleLazyObject(lambda: officer)  # what request.user is
    with django_assert_num_queries(1):
        selectors.dossiers_visible_to(lazy)
        selectors.petitions_visible_to(lazy)
        selectors.actor_roles(lazy, center)
        selectors.receives_at_a_desk(lazy)

"""Every transition of the table, by every role allowed to take it, through the dispatcher the
API and admin use; a history row for each; and what the table forbids."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dossiers import services
from dossiers.errors import NotPermitted, TransitionNotAllowed
from dossiers.models import Dossier, DossierEvent
from dossiers.workflow import TERMINAL_STATES, TRANSITIONS, Action, Actor, State, allowed_actions
from tests.dossiers.conftest import T0
from tests.factories import StaffFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

CASES = [
    pytest.param(t, actor, id=f"{t.action}-from-{t.source.name.lower()}-by-{actor}")
    for t in TRANSITIONS
    if t.source is not None
    for actor in sorted(t.actors)
]


def params_for(action: Action, dossier: Dossier, n: int) -> dict:
    if action in (Action.REFUSE, Action.STOP, Action.REQUEST_SUPPLEMENT):
        return {"reason": "Thiếu bản sao giấy chứng sinh"}
    if action == Action.SUPPLEMENT:
        return {"documents": ["Giấy chứng sinh"]}
    if action == Action.RECORD_PAYMENT:
        return {"channel": "online", "amount_vnd": dossier.fee_vnd, "reference": f"GW-T{n}"}
    if action == Action.ISSUE_APOLOGY:
        return {"reason": "Chờ xác minh", "new_due_at": (dossier.due_at or T0) + timedelta(days=7)}
    if action == Action.FINISH:
        return {"electronic_result": True}
    return {}


@pytest.mark.parametrize(("transition", "actor"), CASES)
def test_each_allowed_transition_changes_state_and_writes_history(
    walker, actors, transition, actor
):
    dossier = walker.in_state(transition.source, paid=transition.action == Action.FINISH)
    events_before = dossier.events.count()
    at = walker.tick()

    after = services.dossier_transition(
        dossier=dossier,
        action=transition.action,
        actor=actors[actor],
        at=at,
        **params_for(transition.action, dossier, walker.at.minute),
    )

    assert after.state == (transition.target or transition.source)
    assert Dossier.objects.get(pk=dossier.pk).state == after.state
    assert after.events.count() == events_before + 1
    event = after.events.order_by("-id").first()
    assert (event.action, event.from_state, event.to_state) == (
        transition.action,
        transition.source,
        after.state,
    )
    assert event.at == at
    assert event.actor == actors[actor]


def test_the_table_covers_every_action_from_every_open_state():
    """A sanity net for the cases above: each open state has a way out for staff and one for
    the citizen."""
    for state in (State.ACCEPTED, State.IN_PROCESS, State.SUPPLEMENT_REQUESTED):
        assert allowed_actions(state, {Actor.OFFICER})
        assert Action.WITHDRAW in allowed_actions(state, {Actor.CITIZEN})


@pytest.mark.parametrize("state", [s for s in State], ids=lambda s: s.name.lower())
def test_actions_the_table_forbids_are_refused_and_write_nothing(walker, actors, state):
    dossier = walker.in_state(state)
    open_actions = {t.action for t in TRANSITIONS if t.source == state}
    forbidden = [
        a for a in Action if a not in (Action.SUBMIT, Action.RECEIVE) and a not in open_actions
    ]
    assert forbidden
    events = dossier.events.count()
    for action in forbidden:
        with pytest.raises(TransitionNotAllowed) as err:
            services.dossier_transition(
                dossier=dossier,
                action=action,
                actor=actors["leader"],
                at=walker.tick(),
                **params_for(action, dossier, 0),
            )
        if state in TERMINAL_STATES:
            assert err.value.allowed == []
        else:
            assert action not in err.value.allowed
            assert set(err.value.allowed) <= {str(a) for a in open_actions}
    fresh = Dossier.objects.get(pk=dossier.pk)
    assert fresh.state == state and fresh.events.count() == events


@pytest.mark.parametrize(
    ("state", "action", "role"),
    [
        (State.SUBMITTED, Action.ACCEPT, "citizen"),
        (State.SUBMITTED, Action.ACCEPT, "officer"),
        (State.SUBMITTED, Action.WITHDRAW, "receptionist"),
        (State.ACCEPTED, Action.START_PROCESSING, "receptionist"),
        (State.IN_PROCESS, Action.FINISH, "receptionist"),
        (State.IN_PROCESS, Action.FINISH, "citizen"),
        (State.PROCESSED, Action.RETURN_RESULT, "officer"),
        (State.IN_PROCESS, Action.STOP, "system"),
    ],
)
def test_a_role_the_table_does_not_name_is_not_permitted(walker, actors, state, action, role):
    dossier = walker.in_state(state, paid=True)
    with pytest.raises(NotPermitted):
        services.dossier_transition(
            dossier=dossier,
            action=action,
            actor=actors[role],
            at=walker.tick(),
            **params_for(action, dossier, 0),
        )
    assert Dossier.objects.get(pk=dossier.pk).state == state


def test_staff_of_another_centre_cannot_act(walker, other_center):
    dossier = walker.in_state(State.SUBMITTED)
    stranger = StaffFactory(center=other_center, roles=["receptionist", "officer", "leader"])
    with pytest.raises(NotPermitted):
        services.dossier_accept(dossier=dossier, actor=stranger, at=walker.tick())
    assert not DossierEvent.objects.filter(dossier=dossier, action="accept").exists()


def test_a_manager_sees_but_cannot_act(walker, center):
    from portal.models import ManagerScope

    manager = StaffFactory()
    ManagerScope.objects.create(user=manager, province=center.province)
    dossier = walker.in_state(State.SUBMITTED)
    with pytest.raises(NotPermitted):
        services.dossier_accept(dossier=dossier, actor=manager, at=walker.tick())

"""Dossier states (the national portal's synchronisation codes) and the one table of allowed
transitions, with who may perform each. Pure Python: no Django imports beyond translation."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum


class State(IntEnum):
    SUBMITTED = 1
    ACCEPTED = 2
    REFUSED = 3
    IN_PROCESS = 4
    SUPPLEMENT_REQUESTED = 5
    PAYMENT_REQUESTED = 6
    WITHDRAWN = 7
    STOPPED = 8
    PROCESSED = 9
    RETURNED = 10


TERMINAL_STATES = frozenset({State.REFUSED, State.WITHDRAWN, State.STOPPED, State.RETURNED})
OPEN_STATES = frozenset(
    {State.ACCEPTED, State.IN_PROCESS, State.SUPPLEMENT_REQUESTED, State.PAYMENT_REQUESTED}
)
# States in which processing has ended for the index (result ready, returned, stopped, withdrawn).
FINISHED_STATES = frozenset({State.PROCESSED, State.RETURNED, State.STOPPED, State.WITHDRAWN})


class Actor(StrEnum):
    CITIZEN = "citizen"
    RECEPTIONIST = "receptionist"
    OFFICER = "officer"
    LEADER = "leader"
    SYSTEM = "system"


class Action(StrEnum):
    SUBMIT = "submit"
    RECEIVE = "receive"
    ACCEPT = "accept"
    REFUSE = "refuse"
    START_PROCESSING = "start_processing"
    REQUEST_SUPPLEMENT = "request_supplement"
    SUPPLEMENT = "supplement"
    REQUEST_PAYMENT = "request_payment"
    RECORD_PAYMENT = "record_payment"
    ISSUE_APOLOGY = "issue_apology"
    FINISH = "finish"
    RETURN_RESULT = "return_result"
    STOP = "stop"
    WITHDRAW = "withdraw"


@dataclass(frozen=True)
class Transition:
    action: Action
    source: State | None  # None: the dossier is being created
    target: State | None  # None: the state does not change (payment, apology)
    actors: frozenset[Actor]


def _t(action, source, target, *actors):
    return Transition(action, source, target, frozenset(actors))


STAFF = (Actor.RECEPTIONIST, Actor.OFFICER, Actor.LEADER)
HANDLERS = (Actor.OFFICER, Actor.LEADER)

TRANSITIONS: tuple[Transition, ...] = (
    _t(Action.SUBMIT, None, State.SUBMITTED, Actor.CITIZEN),
    _t(Action.RECEIVE, None, State.ACCEPTED, Actor.RECEPTIONIST, Actor.LEADER),
    _t(Action.ACCEPT, State.SUBMITTED, State.ACCEPTED, Actor.RECEPTIONIST, Actor.LEADER),
    _t(Action.REFUSE, State.SUBMITTED, State.REFUSED, Actor.RECEPTIONIST, Actor.LEADER),
    _t(Action.WITHDRAW, State.SUBMITTED, State.WITHDRAWN, Actor.CITIZEN),
    _t(Action.START_PROCESSING, State.ACCEPTED, State.IN_PROCESS, *HANDLERS),
    _t(Action.REQUEST_SUPPLEMENT, State.ACCEPTED, State.SUPPLEMENT_REQUESTED, *STAFF),
    _t(Action.REQUEST_SUPPLEMENT, State.IN_PROCESS, State.SUPPLEMENT_REQUESTED, *HANDLERS),
    _t(
        Action.SUPPLEMENT,
        State.SUPPLEMENT_REQUESTED,
        State.IN_PROCESS,
        Actor.CITIZEN,
        Actor.RECEPTIONIST,
    ),
    _t(Action.REQUEST_PAYMENT, State.IN_PROCESS, State.PAYMENT_REQUESTED, *HANDLERS),
    _t(
        Action.RECORD_PAYMENT,
        State.SUBMITTED,
        None,
        Actor.CITIZEN,
        Actor.SYSTEM,
        Actor.RECEPTIONIST,
    ),
    _t(
        Action.RECORD_PAYMENT, State.ACCEPTED, None, Actor.CITIZEN, Actor.SYSTEM, Actor.RECEPTIONIST
    ),
    _t(
        Action.RECORD_PAYMENT,
        State.IN_PROCESS,
        None,
        Actor.CITIZEN,
        Actor.SYSTEM,
        Actor.RECEPTIONIST,
    ),
    _t(
        Action.RECORD_PAYMENT,
        State.PAYMENT_REQUESTED,
        State.IN_PROCESS,
        Actor.CITIZEN,
        Actor.SYSTEM,
        Actor.RECEPTIONIST,
    ),
    _t(Action.ISSUE_APOLOGY, State.ACCEPTED, None, *HANDLERS),
    _t(Action.ISSUE_APOLOGY, State.IN_PROCESS, None, *HANDLERS),
    _t(Action.FINISH, State.ACCEPTED, State.PROCESSED, *HANDLERS),
    _t(Action.FINISH, State.IN_PROCESS, State.PROCESSED, *HANDLERS),
    _t(Action.RETURN_RESULT, State.PROCESSED, State.RETURNED, Actor.RECEPTIONIST, Actor.LEADER),
    _t(Action.STOP, State.ACCEPTED, State.STOPPED, *HANDLERS),
    _t(Action.STOP, State.IN_PROCESS, State.STOPPED, *HANDLERS),
    _t(Action.STOP, State.SUPPLEMENT_REQUESTED, State.STOPPED, *HANDLERS),
    _t(Action.STOP, State.PAYMENT_REQUESTED, State.STOPPED, *HANDLERS),
    _t(Action.WITHDRAW, State.ACCEPTED, State.WITHDRAWN, Actor.CITIZEN),
    _t(Action.WITHDRAW, State.IN_PROCESS, State.WITHDRAWN, Actor.CITIZEN),
    _t(Action.WITHDRAW, State.SUPPLEMENT_REQUESTED, State.WITHDRAWN, Actor.CITIZEN),
    _t(Action.WITHDRAW, State.PAYMENT_REQUESTED, State.WITHDRAWN, Actor.CITIZEN),
)

_BY_KEY = {(t.action, t.source): t for t in TRANSITIONS}


def find_transition(action: Action, source: State | None) -> Transition | None:
    return _BY_KEY.get((Action(action), None if source is None else State(source)))


def allowed_actions(
    source: State, actors: frozenset[Actor] | set[Actor] | None = None
) -> list[Action]:
    """Actions open from ``source``, optionally only those one of ``actors`` may perform."""
    return [
        t.action
        for t in TRANSITIONS
        if t.source == source and (actors is None or t.actors & set(actors))
    ]


def is_legal_path(states: list[State]) -> bool:
    """True when consecutive distinct states form a path through the transition table
    (used to check generated and stored histories)."""
    edges = {(t.source, t.target) for t in TRANSITIONS}
    return all((a, b) in edges for a, b in zip(states, states[1:]))

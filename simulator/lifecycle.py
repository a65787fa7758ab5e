"""A dossier's life, action by action, with exactly the effects of ``dossiers.services``.

``SimDossier`` has one method per service (``submit`` ↔ ``dossier_submit``, ``accept`` ↔
``dossier_accept``…). Each checks the transition table, changes the same fields the service
changes, and appends the same history row (action, from/to state, actor, time, note, data) —
on plain integers (times are local minutes, see ``simulator.clock``) so that millions of
dossiers can be generated per hour. ``tests/simulator/test_replay.py`` replays generated
dossiers through the real services and compares every field and every event: that test is
what keeps this module honest when the services change.

What the simulator does not produce: document files (``Document`` rows; dossiers carry the
documents' names and the digitisation flags) and e-mail notifications (simulated citizens
have no e-mail address, so the services would queue none either).
"""

from __future__ import annotations

import json

from dossiers.workflow import Action, State, find_transition
from simulator.clock import DAY, Clock, day_of

WORKING_DAY = 480

S_SUBMITTED = int(State.SUBMITTED)
S_ACCEPTED = int(State.ACCEPTED)
S_REFUSED = int(State.REFUSED)
S_IN_PROCESS = int(State.IN_PROCESS)
S_SUPPLEMENT = int(State.SUPPLEMENT_REQUESTED)
S_PAYMENT = int(State.PAYMENT_REQUESTED)
S_WITHDRAWN = int(State.WITHDRAWN)
S_STOPPED = int(State.STOPPED)
S_PROCESSED = int(State.PROCESSED)
S_RETURNED = int(State.RETURNED)

RATE_ACTION = "rate"  # dossiers.services.RATE_ACTION


class IllegalAction(Exception):
    """The simulator asked for something the transition table forbids (a bug, never data)."""


def _targets() -> dict[tuple[str, int | None], int | None]:
    """(action, source state) → target state (None: unchanged), from the workflow table."""
    table = {}
    for action in Action:
        for source in [None, *State]:
            t = find_transition(action, source)
            if t is not None:
                table[(str(action), None if source is None else int(source))] = (
                    None if t.target is None else int(t.target)
                )
    return table


TARGETS = _targets()


def iso(m: int) -> str:
    """``timezone.localtime(x).isoformat()`` of a whole local minute."""
    d = day_of(m)
    rest = m % DAY
    return f"{d.isoformat()}T{rest // 60:02d}:{rest % 60:02d}:00+07:00"


def timeliness(finished: int, due: int) -> str:
    """``dossiers.deadlines.timeliness`` on minutes."""
    if finished > due:
        return "late"
    if finished // DAY < due // DAY:
        return "early"
    return "on_time"


class Event:
    __slots__ = ("action", "from_state", "to_state", "actor", "at", "note", "data")

    def __init__(self, action, from_state, to_state, actor, at, note, data):
        self.action = action
        self.from_state = from_state
        self.to_state = to_state
        self.actor = actor  # user id or None (the system)
        self.at = at
        self.note = note
        self.data = data  # JSON text

    def as_tuple(self):
        return (
            self.action,
            self.from_state,
            self.to_state,
            self.actor,
            self.at,
            self.note,
            self.data,
        )


class SimDossier:
    """The fields of a ``Dossier`` row and its history, built one service call at a time."""

    __slots__ = (
        "index",
        "code",
        "center_id",
        "version_id",
        "applicant_id",
        "channel",
        "state",
        "submitted_at",
        "accepted_at",
        "due_at",
        "rescheduled_due_at",
        "finished_at",
        "returned_at",
        "paused_at",
        "paused_minutes",
        "supplement_count",
        "apology_count",
        "fee_vnd",
        "payment_status",
        "payment_channel",
        "paid_at",
        "digitised",
        "electronic_result",
        "reused_data",
        "population_data",
        "personal_storage",
        "synced",
        "timeliness",
        "presented_documents",
        "events",
        "payment",
        "rating",
        "_limit",
        "_unit",
        "_clock",
    )

    def __init__(self, *, clock: Clock, center_id: int, version, applicant_id: int, channel: int):
        self.index = 0
        self.code = ""
        self.center_id = center_id
        self.version_id = version.id
        self.applicant_id = applicant_id
        self.channel = channel
        self.state = 0
        self.submitted_at = None
        self.accepted_at = None
        self.due_at = None
        self.rescheduled_due_at = None
        self.finished_at = None
        self.returned_at = None
        self.paused_at = None
        self.paused_minutes = 0
        self.supplement_count = 0
        self.apology_count = 0
        self.fee_vnd = version.fee_vnd
        self.payment_status = "due" if version.fee_vnd else "none"
        self.payment_channel = ""
        self.paid_at = None
        self.digitised = False
        self.electronic_result = False
        self.reused_data = False
        self.population_data = False
        self.personal_storage = False
        self.synced = False
        self.timeliness = ""
        self.presented_documents = []
        self.events: list[Event] = []
        self.payment = None  # (channel, amount, reference, paid_at)
        self.rating = None  # (satisfied, comment, rated_at)
        # services.due_at_for: the online limit for online dossiers when the procedure has one
        self._limit = (
            version.online_limit_amount
            if channel == 2 and version.online_limit_amount
            else version.limit_amount
        )
        self._unit = version.limit_unit
        self._clock = clock

    # -- helpers ------------------------------------------------------------------------------
    @property
    def last_at(self) -> int:
        return self.events[-1].at if self.events else -1

    @property
    def effective_due_at(self):
        return self.rescheduled_due_at or self.due_at

    def _act(self, action: str, actor, at: int, note: str = "", data: str = "{}") -> None:
        key = (action, self.state)
        if key not in TARGETS:
            raise IllegalAction(f"{action} from state {self.state} ({self.code})")
        if self.events and at < self.events[-1].at:
            raise IllegalAction(f"{action} at {at} before the last change ({self.code})")
        from_state = self.state
        target = TARGETS[key]
        if target is not None:
            self.state = target
        self.events.append(Event(action, from_state, self.state, actor, at, note, data))

    def _closing_timeliness(self, at: int) -> str:
        if self.due_at is None:
            return ""
        return timeliness(self.paused_at if self.paused_at is not None else at, self.due_at)

    # -- creation -----------------------------------------------------------------------------
    def submit(self, *, at: int, files: list[str], reused: list[str]) -> None:
        """``dossier_submit``: uploaded documents (``files``) and documents named from the
        citizen's data store (``reused``), in the order given."""
        names = files + reused
        self.state = 0
        self.submitted_at = at
        self.digitised = bool(files)
        self.presented_documents = list(reused)
        self.reused_data = bool(reused)
        self.events.append(
            Event("submit", None, S_SUBMITTED, self.applicant_id, at, "", _docs_json(names))
        )
        self.state = S_SUBMITTED

    def receive(self, *, at: int, actor: int, documents: list[str], digitised: bool) -> None:
        """``dossier_receive``: the desk receives paper documents (named, no files)."""
        self.submitted_at = at
        self.accepted_at = at
        self.due_at = self._clock.due(at, self._limit, self._unit)
        self.digitised = bool(digitised)
        self.presented_documents = list(documents)
        self.state = S_ACCEPTED
        data = f'{{"documents": {names_json(documents)}, "due_at": "{iso(self.due_at)}"}}'
        self.events.append(Event("receive", None, S_ACCEPTED, actor, at, "", data))

    # -- reception ----------------------------------------------------------------------------
    def accept(self, *, at: int, actor: int) -> None:
        if at < self.submitted_at:
            raise IllegalAction("accepted before submission")
        self.accepted_at = at
        self.due_at = self._clock.due(at, self._limit, self._unit)
        self._act("accept", actor, at, data=f'{{"due_at": "{iso(self.due_at)}"}}')

    def refuse(self, *, at: int, actor: int, reason: str) -> None:
        self._act("refuse", actor, at, note=reason)

    def start_processing(self, *, at: int, actor: int) -> None:
        self._act("start_processing", actor, at)

    # -- supplements ----------------------------------------------------------------------------
    def request_supplement(self, *, at: int, actor: int, reason: str) -> None:
        key = ("request_supplement", self.state)
        if key not in TARGETS:
            raise IllegalAction(f"request_supplement from {self.state}")
        self.paused_at = at
        self.supplement_count += 1
        self._act(
            "request_supplement",
            actor,
            at,
            note=reason,
            data=f'{{"supplement_count": {self.supplement_count}}}',
        )

    def supplement(self, *, at: int, actor: int, documents: list[str]) -> None:
        if ("supplement", self.state) not in TARGETS:
            raise IllegalAction(f"supplement from {self.state}")
        clock = self._clock
        paused = clock.between(self.paused_at, at)
        before = self.due_at
        if paused:
            self.due_at = clock.add(self.due_at, paused)
            if self.rescheduled_due_at is not None:
                self.rescheduled_due_at = clock.add(self.rescheduled_due_at, paused)
        self.paused_minutes += paused
        self.paused_at = None
        self.presented_documents = self.presented_documents + list(documents)
        data = (
            f'{{"documents": {names_json(documents)}, "paused_minutes": {paused}, '
            f'"due_at_before": "{iso(before)}", "due_at": "{iso(self.due_at)}"}}'
        )
        self._act("supplement", actor, at, data=data)

    # -- payment ------------------------------------------------------------------------------
    def request_payment(self, *, at: int, actor: int) -> None:
        if self.payment_status == "paid" or not self.fee_vnd:
            raise IllegalAction("payment requested without a fee due")
        if ("request_payment", self.state) not in TARGETS:
            raise IllegalAction(f"request_payment from {self.state}")
        self.payment_status = "due"
        self._act("request_payment", actor, at, data=f'{{"amount_vnd": {self.fee_vnd}}}')

    def record_payment(self, *, at: int, actor, channel: str, reference: str) -> None:
        if not self.fee_vnd or self.payment_status == "paid":
            raise IllegalAction("payment of a dossier without a fee due")
        if ("record_payment", self.state) not in TARGETS:
            raise IllegalAction(f"record_payment from {self.state}")
        self.payment = (channel, self.fee_vnd, reference, at)
        self.payment_status = "paid"
        self.payment_channel = channel
        self.paid_at = at
        data = (
            f'{{"reference": "{reference}", "amount_vnd": {self.fee_vnd}, "channel": "{channel}"}}'
        )
        self._act("record_payment", actor, at, data=data)

    # -- delays -------------------------------------------------------------------------------
    def issue_apology(self, *, at: int, actor: int, reason: str, new_due_at: int) -> None:
        current = self.effective_due_at
        if new_due_at <= current:
            raise IllegalAction("apology: new due time not later")
        if not self._clock.is_working_day(new_due_at // DAY):
            raise IllegalAction("apology: new due time not on a working day")
        ahead = self._clock.between(at, current) if at < current else 0
        if ahead < WORKING_DAY:
            raise IllegalAction("apology less than one working day ahead")
        if ("issue_apology", self.state) not in TARGETS:
            raise IllegalAction(f"issue_apology from {self.state}")
        self.rescheduled_due_at = new_due_at
        self.apology_count += 1
        data = f'{{"previous_due_at": "{iso(current)}", "new_due_at": "{iso(new_due_at)}", "reason": {json.dumps(reason, ensure_ascii=False)}}}'
        self._act("issue_apology", actor, at, note=reason, data=data)

    # -- the end --------------------------------------------------------------------------------
    def finish(self, *, at: int, actor: int, electronic_result: bool) -> None:
        if self.payment_status == "due":
            raise IllegalAction("finished with the fee unpaid")
        if ("finish", self.state) not in TARGETS:
            raise IllegalAction(f"finish from {self.state}")
        self.finished_at = at
        self.electronic_result = bool(electronic_result)
        self.timeliness = timeliness(at, self.due_at)
        data = '{{"electronic_result": {}, "timeliness": "{}"}}'.format(
            "true" if self.electronic_result else "false",
            self.timeliness,
        )
        self._act("finish", actor, at, data=data)

    def return_result(self, *, at: int, actor: int) -> None:
        if ("return_result", self.state) not in TARGETS:
            raise IllegalAction(f"return_result from {self.state}")
        self.returned_at = at
        self._act("return_result", actor, at)

    def stop(self, *, at: int, actor: int, reason: str) -> None:
        if ("stop", self.state) not in TARGETS:
            raise IllegalAction(f"stop from {self.state}")
        self.timeliness = self._closing_timeliness(at)
        self.finished_at = at
        self.paused_at = None
        self._act("stop", actor, at, note=reason, data=f'{{"timeliness": "{self.timeliness}"}}')

    def withdraw(self, *, at: int, reason: str) -> None:
        if ("withdraw", self.state) not in TARGETS:
            raise IllegalAction(f"withdraw from {self.state}")
        if self.accepted_at is not None:
            self.timeliness = self._closing_timeliness(at)
            self.finished_at = at
            self.paused_at = None
        self._act("withdraw", self.applicant_id, at, note=reason)

    def rate(self, *, at: int, satisfied: bool, comment: str = "") -> None:
        """``dossier_rate``: once, after the result; a history row without a state change."""
        if self.state not in (S_PROCESSED, S_RETURNED) or self.rating is not None:
            raise IllegalAction("rating before the result or twice")
        if self.events and at < self.events[-1].at:
            raise IllegalAction("rating before the last change")
        self.rating = (bool(satisfied), comment, at)
        data = '{"satisfied": %s}' % ("true" if satisfied else "false")
        self.events.append(
            Event(RATE_ACTION, self.state, self.state, self.applicant_id, at, comment, data)
        )


_NAMES_CACHE: dict[tuple[str, ...], str] = {}


def names_json(names: list[str]) -> str:
    """A list of document names as JSON (cached: a few procedures' lists repeat)."""
    key = tuple(names)
    text = _NAMES_CACHE.get(key)
    if text is None:
        text = json.dumps(list(names), ensure_ascii=False)
        if len(_NAMES_CACHE) < 10_000:
            _NAMES_CACHE[key] = text
    return text


def _docs_json(names: list[str]) -> str:
    return f'{{"documents": {names_json(names)}}}'

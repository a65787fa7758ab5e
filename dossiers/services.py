"""Every write to dossiers and petitions. One keyword-only function per action.

Each action runs in a transaction, locks the dossier row (``select_for_update``), checks the
transition table (``dossiers.workflow``) and the actor's roles (``selectors.actor_roles``),
validates its inputs, writes a ``DossierEvent`` and queues the citizen's notification in the
outbox, dispatched after commit. A service that raises has written nothing.

All take ``at`` (default: now) so the simulator and the tests can set the time.
"""

from __future__ import annotations

import inspect
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dossiers import notifications
from dossiers.deadlines import (
    WORKING_DAY_MINUTES,
    add_working_minutes,
    compute_due_at,
    timeliness,
    working_minutes_between,
)
from dossiers.documents import DocumentIn, document_store, documents_in, validate_upload
from dossiers.errors import InvalidInput, NotPermitted, TransitionNotAllowed
from dossiers.models import (
    Channel,
    Document,
    Dossier,
    DossierCounter,
    DossierEvent,
    OnlineLevel,
    Payment,
    PaymentChannel,
    PaymentStatus,
    Petition,
    PetitionEvent,
    Procedure,
    ProcedureVersion,
    Rating,
    TimeUnit,
)
from dossiers.selectors import STAFF_ACTORS, action_label, actor_roles, allowed_actions_for
from dossiers.workflow import TERMINAL_STATES, Action, State, find_transition
from portal.calendar import working_calendar
from portal.models import ServiceCenter, citizen_id_validator

PETITION_DAYS = 15  # dossier-rules.md: a petition is answered within 15 working days
RATED_STATES = frozenset({State.PROCESSED, State.RETURNED})
RATE_ACTION = "rate"
RESULT_DOCUMENT_NAME = "Kết quả giải quyết thủ tục hành chính"
REASON_MAX = 2000


# --- Small helpers -------------------------------------------------------------------------
def _now(at: datetime | None) -> datetime:
    if at is None:
        return timezone.now()
    if timezone.is_naive(at):
        raise InvalidInput(_("Times must carry a time zone."), fields={"at": [_("Naive time.")]})
    return at


def _required_text(
    value, field: str, label: str, max_length: int = REASON_MAX, *, multiline: bool = False
) -> str:
    text = str(value or "").strip() if multiline else " ".join(str(value or "").split())
    if not text:
        raise InvalidInput(
            _("%(label)s is required.") % {"label": label}, fields={field: [_("Required.")]}
        )
    if len(text) > max_length:
        raise InvalidInput(
            _("%(label)s is longer than %(n)s characters.") % {"label": label, "n": max_length},
            fields={field: [_("Too long.")]},
        )
    return text


def next_number(*, center_id: int, day: date, series: str = DossierCounter.DOSSIER) -> int:
    """The next number for ``center_id`` on ``day``: one atomic upsert (INSERT ... ON CONFLICT
    DO UPDATE ... RETURNING, PostgreSQL and SQLite alike). Concurrent callers queue on the
    counter row until the first one's transaction ends, so no two get the same number."""
    table = connection.ops.quote_name(DossierCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (center_id, series, day, last) VALUES (%s, %s, %s, 1) "
            f"ON CONFLICT (center_id, series, day) DO UPDATE SET last = {table}.last + 1 "
            "RETURNING last",
            [center_id, series, day.isoformat()],
        )
        return cursor.fetchone()[0]


def dossier_code(center: ServiceCenter, day: date, number: int) -> str:
    """``C18073-260225-0001``: centre, local day, number of the day."""
    return f"{center.code}-{day:%y%m%d}-{number:04d}"


def current_version(procedure: Procedure, at: datetime) -> ProcedureVersion:
    """The rules in force on the local day of ``at``: the latest version valid from then."""
    version = (
        procedure.versions.filter(valid_from__lte=timezone.localdate(at))
        .order_by("-valid_from")
        .first()
    )
    if version is None:
        raise InvalidInput(
            _("Procedure %(code)s has no rules in force on %(day)s.")
            % {"code": procedure.code, "day": timezone.localdate(at)},
            code="no_version",
            fields={"procedure": [_("No version in force.")]},
        )
    return version


def due_at_for(version: ProcedureVersion, channel: int, accepted_at: datetime) -> datetime:
    """The legal due time from acceptance: the online limit for online dossiers if the
    procedure has one, else the general limit (deadline engine, working calendar)."""
    amount = version.limit_amount
    if channel == Channel.ONLINE and version.online_limit_amount:
        amount = version.online_limit_amount
    return compute_due_at(
        accepted_at=timezone.localtime(accepted_at),
        amount=amount,
        unit=version.limit_unit,
        calendar=working_calendar(),
    )


def _check_competence(procedure: Procedure, center: ServiceCenter) -> None:
    if procedure.level != center.level:
        raise InvalidInput(
            _("%(center)s is not competent for %(code)s (a %(level)s-level procedure).")
            % {
                "center": center.name,
                "code": procedure.code,
                "level": procedure.get_level_display(),
            },
            code="wrong_level",
            fields={"center": [_("Centre level does not match the procedure.")]},
        )


def _check_required_documents(procedure: Procedure, documents: list[DocumentIn]) -> None:
    from dossiers.catalogue import fold

    given = {fold(d.name) for d in documents}
    missing = [name for name in procedure.required_documents if fold(name) not in given]
    if missing:
        raise InvalidInput(
            _("Missing documents: %(names)s.") % {"names": "; ".join(missing)},
            code="missing_documents",
            fields={"documents": missing},
        )


def _validate_files(documents: list[DocumentIn]) -> None:
    """Check every upload before anything is written."""
    for doc in documents:
        if doc.file is not None:
            validate_upload(doc.file)


def _store_documents(dossier, documents, *, kind, actor, at) -> list[str]:
    """Store uploads; return the names of documents presented without a file."""
    paper = []
    for doc in documents:
        if doc.file is None:
            paper.append(doc.name)
        else:
            document_store(
                dossier=dossier, kind=kind, file=doc.file, actor=actor, at=at, name=doc.name
            )
    return paper


def _actor_user(actor):
    """The user to record on an event (None for the system)."""
    return actor if actor is not None and getattr(actor, "pk", None) else None


def _record(dossier: Dossier, *, action: str, from_state, actor, at, note="", data=None):
    event = DossierEvent.objects.create(
        dossier=dossier,
        action=str(action),
        from_state=from_state,
        to_state=dossier.state,
        actor=_actor_user(actor),
        at=at,
        note=note,
        data=data or {},
    )
    notifications.dossier_event_notify(dossier=dossier, event=event)
    return event


def _locked(dossier: Dossier | int) -> Dossier:
    pk = dossier if isinstance(dossier, int) else dossier.pk
    try:
        return (
            Dossier.objects.select_for_update(of=("self",))
            .select_related("center", "procedure_version__procedure", "applicant")
            .get(pk=pk)
        )
    except Dossier.DoesNotExist as exc:
        raise NotPermitted(_("No such dossier."), code="not_found") from exc


def _authorise(dossier: Dossier, actor, action: Action):
    """Check the actor's roles and the transition table; return the transition."""
    roles = actor_roles(actor, dossier.center_id, dossier)
    if not roles:
        raise NotPermitted(_("You have no role for dossier %(code)s.") % {"code": dossier.code})
    state = State(dossier.state)
    if state in TERMINAL_STATES:
        raise TransitionNotAllowed(
            _("Dossier %(code)s is %(state)s: no further action is possible.")
            % {"code": dossier.code, "state": dossier.get_state_display()},
            allowed=[],
        )
    transition = find_transition(action, state)
    if transition is None:
        raise TransitionNotAllowed(
            _("“%(action)s” is not possible for a dossier that is %(state)s.")
            % {"action": action_label(action), "state": dossier.get_state_display()},
            allowed=allowed_actions_for(actor, dossier, roles),
        )
    if not transition.actors & roles:
        raise NotPermitted(
            _("Your role does not allow “%(action)s” on dossier %(code)s.")
            % {"action": action_label(action), "code": dossier.code}
        )
    return transition


def _not_before_last_change(dossier: Dossier, at: datetime) -> None:
    last = dossier.events.order_by("-at").values_list("at", flat=True).first()
    if last is not None and at < last:
        raise InvalidInput(
            _("This action is dated before the dossier's last change (%(last)s).")
            % {"last": timezone.localtime(last).strftime("%Y-%m-%d %H:%M")},
            code="time_before_history",
            fields={"at": [_("Earlier than the history.")]},
        )


def _act(*, dossier, actor, action: Action, at, note: str = "", apply=None) -> Dossier:
    """The shape of every state-changing service: lock, authorise, validate and apply,
    move the state pointer, write history (+ notification in the outbox)."""
    at = _now(at)
    with transaction.atomic():
        locked = _locked(dossier)
        transition = _authorise(locked, actor, action)
        _not_before_last_change(locked, at)
        from_state = locked.state
        data = (apply(locked, at) if apply else None) or {}
        if transition.target is not None:
            locked.state = transition.target
        locked.save()
        _record(
            locked, action=action, from_state=from_state, actor=actor, at=at, note=note, data=data
        )
    return locked


def _iso(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def _closing_timeliness(dossier: Dossier, at: datetime) -> str:
    """Timeliness of a dossier whose processing ends at ``at`` by stop or withdrawal: one
    waiting for a supplement is judged at the request (dossier-rules.md)."""
    if dossier.due_at is None:
        return ""
    return timeliness(
        timezone.localtime(dossier.paused_at or at), timezone.localtime(dossier.due_at)
    )


# --- Creating dossiers ---------------------------------------------------------------------
def _new_dossier(
    *,
    center,
    version,
    citizen,
    channel,
    at,
    documents,
    actor,
    state,
    digitised,
    reused_data=False,
    integration: dict,
):
    number = next_number(center_id=center.pk, day=timezone.localdate(at))
    dossier = Dossier(
        code=dossier_code(center, timezone.localdate(at), number),
        center=center,
        procedure_version=version,
        applicant=citizen,
        channel=channel,
        state=state,
        submitted_at=at,
        fee_vnd=version.fee_vnd,
        payment_status=PaymentStatus.DUE if version.fee_vnd else PaymentStatus.NONE,
        digitised=digitised,
        # Named without a file: checked on paper at the desk, or reused from the citizen's
        # data store. Known before the INSERT, so the new row is written once.
        presented_documents=[d.name for d in documents if d.file is None],
        reused_data=reused_data,
        **integration,
    )
    if state == State.ACCEPTED:
        dossier.accepted_at = at
        dossier.due_at = due_at_for(version, channel, at)
    dossier.save()
    _store_documents(dossier, documents, kind=Document.Kind.INPUT, actor=actor, at=at)
    return dossier


def _check_citizen(citizen) -> None:
    if citizen is None or not getattr(citizen, "pk", None) or not citizen.citizen_id:
        raise InvalidInput(
            _("The applicant must be a registered citizen with a citizen ID."),
            code="no_citizen",
            fields={"citizen": [_("Citizen ID missing.")]},
        )


def _integration(population_data, personal_storage, synced) -> dict:
    """Facts the national systems report when a dossier is filed (index group 5): the
    applicant's data was checked against the national population database, the documents came
    from the citizen's personal data store, the dossier is synchronised to the national portal
    in real time. They come from those integrations (and the simulator), not from the forms."""
    return {
        "population_data": bool(population_data),
        "personal_storage": bool(personal_storage),
        "synced": bool(synced),
    }


def dossier_submit(
    *,
    citizen,
    center,
    procedure,
    documents=(),
    channel=Channel.ONLINE,
    at=None,
    population_data=False,
    personal_storage=False,
    synced=False,
) -> Dossier:
    """A citizen files a dossier online (or by post): state SUBMITTED, waiting for the desk.
    The fee, if any, is due from now."""
    at = _now(at)
    _check_citizen(citizen)
    if channel not in (Channel.ONLINE, Channel.POSTAL):
        raise InvalidInput(
            _("Walk-in dossiers are received at the desk, not submitted."),
            code="wrong_channel",
            fields={"channel": [_("Online or postal only.")]},
        )
    version = current_version(procedure, at)
    _check_competence(procedure, center)
    if channel == Channel.ONLINE and version.online_level == OnlineLevel.NONE:
        raise InvalidInput(
            _("Procedure %(code)s has no online service: file it at the desk.")
            % {"code": procedure.code},
            code="no_online_service",
            fields={"channel": [_("Not available online.")]},
        )
    docs = documents_in(documents)
    _check_required_documents(procedure, docs)
    _validate_files(docs)
    with transaction.atomic():
        dossier = _new_dossier(
            center=center,
            version=version,
            citizen=citizen,
            channel=channel,
            at=at,
            documents=docs,
            actor=citizen,
            state=State.SUBMITTED,
            digitised=any(d.file is not None for d in docs),
            # Documents named without a file come from the citizen's data store.
            reused_data=any(d.file is None for d in docs),
            integration=_integration(population_data, personal_storage, synced),
        )
        _record(
            dossier,
            action=Action.SUBMIT,
            from_state=None,
            actor=citizen,
            at=at,
            data={"documents": [d.name for d in docs]},
        )
    return dossier


def dossier_receive(
    *,
    actor,
    center,
    procedure,
    citizen,
    documents=(),
    channel=Channel.IN_PERSON,
    digitised=True,
    at=None,
    population_data=False,
    personal_storage=False,
    synced=False,
) -> Dossier:
    """The desk receives a complete dossier (walk-in or postal): it is accepted at once and
    its due time computed, to be printed on the appointment slip."""
    at = _now(at)
    roles = actor_roles(actor, center)
    if not roles & find_transition(Action.RECEIVE, None).actors:
        raise NotPermitted(
            _("Only the reception desk of %(center)s may receive dossiers there.")
            % {"center": center.name}
        )
    _check_citizen(citizen)
    if channel not in (Channel.IN_PERSON, Channel.POSTAL):
        raise InvalidInput(
            _("Online dossiers are submitted by the citizen and accepted by the desk."),
            code="wrong_channel",
            fields={"channel": [_("In person or postal only.")]},
        )
    version = current_version(procedure, at)
    _check_competence(procedure, center)
    docs = documents_in(documents)
    _check_required_documents(procedure, docs)
    _validate_files(docs)
    with transaction.atomic():
        dossier = _new_dossier(
            center=center,
            version=version,
            citizen=citizen,
            channel=channel,
            at=at,
            documents=docs,
            actor=actor,
            state=State.ACCEPTED,
            digitised=bool(digitised) or any(d.file is not None for d in docs),
            integration=_integration(population_data, personal_storage, synced),
        )
        _record(
            dossier,
            action=Action.RECEIVE,
            from_state=None,
            actor=actor,
            at=at,
            data={"documents": [d.name for d in docs], "due_at": _iso(dossier.due_at)},
        )
    return dossier


def citizen_get_or_create(*, citizen_id: str, full_name: str):
    """The citizen with this CCCD, created (without a password: they log in through the
    national identity service) when the desk meets them for the first time."""
    citizen_id = (citizen_id or "").strip()
    try:
        citizen_id_validator(citizen_id)
    except ValidationError as exc:
        raise InvalidInput(
            _("A citizen ID (CCCD) has exactly 12 digits."),
            code="bad_citizen_id",
            fields={"citizen_id": [_("12 digits.")]},
        ) from exc
    User = get_user_model()
    existing = User.objects.filter(citizen_id=citizen_id).first()
    if existing is not None:
        return existing
    full_name = _required_text(full_name, "full_name", _("The citizen's name"), 150)
    last, _sep, first = full_name.rpartition(" ")
    # Same account name as the national-identity login (portal.identity) gives.
    username = f"cccd-{citizen_id}"
    with transaction.atomic():
        user = User(username=username, citizen_id=citizen_id, first_name=first, last_name=last)
        user.set_unusable_password()
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            # Two desks registered the same person at once: the other one won.
            return User.objects.get(citizen_id=citizen_id)
        group = Group.objects.filter(name="Citizens").first()
        if group is not None:
            user.groups.add(group)
    return user


# --- Reception and processing --------------------------------------------------------------
def dossier_accept(*, dossier, actor, at=None) -> Dossier:
    """The desk accepts an online dossier: the clock starts, the due time is fixed."""

    def apply(d, at):
        if at < d.submitted_at:
            raise InvalidInput(_("A dossier cannot be accepted before it was submitted."))
        d.accepted_at = at
        d.due_at = due_at_for(d.procedure_version, d.channel, at)
        return {"due_at": _iso(d.due_at)}

    return _act(dossier=dossier, actor=actor, action=Action.ACCEPT, at=at, apply=apply)


def dossier_refuse(*, dossier, actor, reason, at=None) -> Dossier:
    """The desk refuses an online dossier (incomplete, not competent). Terminal."""
    reason = _required_text(reason, "reason", _("The reason"))
    return _act(dossier=dossier, actor=actor, action=Action.REFUSE, at=at, note=reason)


def dossier_start_processing(*, dossier, actor, at=None) -> Dossier:
    return _act(dossier=dossier, actor=actor, action=Action.START_PROCESSING, at=at)


def dossier_request_supplement(*, dossier, actor, reason, at=None) -> Dossier:
    """Ask the citizen for everything missing, in one request: the clock pauses."""
    reason = _required_text(reason, "reason", _("The list of what is missing"))

    def apply(d, at):
        d.paused_at = at
        d.supplement_count += 1
        return {"supplement_count": d.supplement_count}

    return _act(
        dossier=dossier,
        actor=actor,
        action=Action.REQUEST_SUPPLEMENT,
        at=at,
        note=reason,
        apply=apply,
    )


def dossier_supplement(*, dossier, actor, documents=(), at=None) -> Dossier:
    """The citizen (or the desk for them) brings the supplement: the clock resumes and the due
    time moves later by exactly the paused working time."""
    docs = documents_in(documents)
    if not docs:
        raise InvalidInput(
            _("A supplement needs at least one document."),
            code="missing_documents",
            fields={"documents": [_("Required.")]},
        )
    _validate_files(docs)

    def apply(d, at):
        calendar = working_calendar()
        paused = working_minutes_between(
            timezone.localtime(d.paused_at), timezone.localtime(at), calendar
        )
        before = d.due_at
        if paused:
            d.due_at = add_working_minutes(timezone.localtime(d.due_at), paused, calendar)
            if d.rescheduled_due_at:
                d.rescheduled_due_at = add_working_minutes(
                    timezone.localtime(d.rescheduled_due_at), paused, calendar
                )
        d.paused_minutes += paused
        d.paused_at = None
        paper = _store_documents(
            d, docs, kind=Document.Kind.SUPPLEMENT, actor=_actor_user(actor), at=at
        )
        d.presented_documents = list(d.presented_documents) + paper
        return {
            "documents": [doc.name for doc in docs],
            "paused_minutes": paused,
            "due_at_before": _iso(before),
            "due_at": _iso(d.due_at),
        }

    return _act(dossier=dossier, actor=actor, action=Action.SUPPLEMENT, at=at, apply=apply)


def dossier_request_payment(*, dossier, actor, amount_vnd: int | None = None, at=None) -> Dossier:
    """Ask for the fee (or, with ``amount_vnd``, the financial obligation set by the handling
    agency, e.g. land-use tax) before the result."""
    if amount_vnd is not None and (not isinstance(amount_vnd, int) or amount_vnd <= 0):
        raise InvalidInput(
            _("The amount must be a positive number of VND."),
            fields={"amount_vnd": [_("Invalid.")]},
        )

    def apply(d, at):
        if d.payment_status == PaymentStatus.PAID:
            raise InvalidInput(
                _("Dossier %(code)s is already paid.") % {"code": d.code}, code="already_paid"
            )
        if amount_vnd:
            d.fee_vnd = amount_vnd
        if not d.fee_vnd:
            raise InvalidInput(
                _("Dossier %(code)s has no fee to pay.") % {"code": d.code}, code="no_fee"
            )
        d.payment_status = PaymentStatus.DUE
        return {"amount_vnd": d.fee_vnd}

    return _act(dossier=dossier, actor=actor, action=Action.REQUEST_PAYMENT, at=at, apply=apply)


def dossier_record_payment(*, dossier, actor, channel, amount_vnd, reference, at=None) -> Payment:
    """Record a payment of the dossier's fee: from the gateway's signed callback (actor None =
    the system), by the citizen, or in cash at the desk. Idempotent on ``reference``: a
    repeated callback returns the payment already recorded."""
    at = _now(at)
    if channel not in PaymentChannel.values:
        raise InvalidInput(_("Unknown payment channel."), fields={"channel": [_("online or cash")]})
    reference = _required_text(reference, "reference", _("The payment reference"), 64)
    if not isinstance(amount_vnd, int) or isinstance(amount_vnd, bool) or amount_vnd <= 0:
        raise InvalidInput(
            _("The amount must be a positive number of VND."),
            fields={"amount_vnd": [_("Invalid.")]},
        )
    with transaction.atomic():
        locked = _locked(dossier)
        existing = Payment.objects.filter(reference=reference).first()
        if existing is not None:
            if existing.dossier_id == locked.pk and existing.amount_vnd == amount_vnd:
                return existing
            raise InvalidInput(
                _("Payment reference %(ref)s was already used for another payment.")
                % {"ref": reference},
                code="reference_reused",
                fields={"reference": [_("Already used.")]},
            )
        transition = _authorise(locked, actor, Action.RECORD_PAYMENT)
        _not_before_last_change(locked, at)
        if not locked.fee_vnd:
            raise InvalidInput(
                _("Dossier %(code)s has no fee to pay.") % {"code": locked.code}, code="no_fee"
            )
        if locked.payment_status == PaymentStatus.PAID:
            raise InvalidInput(
                _("Dossier %(code)s is already paid.") % {"code": locked.code}, code="already_paid"
            )
        if amount_vnd != locked.fee_vnd:
            raise InvalidInput(
                _("Wrong amount: %(given)s VND paid, %(due)s VND due.")
                % {"given": amount_vnd, "due": locked.fee_vnd},
                code="wrong_amount",
                fields={"amount_vnd": [_("Must equal the fee.")]},
            )
        try:
            with transaction.atomic():
                payment = Payment.objects.create(
                    dossier=locked,
                    channel=channel,
                    amount_vnd=amount_vnd,
                    reference=reference,
                    paid_at=at,
                )
        except IntegrityError as exc:
            raise InvalidInput(
                _("Payment reference %(ref)s was already used for another payment.")
                % {"ref": reference},
                code="reference_reused",
            ) from exc
        from_state = locked.state
        locked.payment_status = PaymentStatus.PAID
        locked.payment_channel = channel
        locked.paid_at = at
        if transition.target is not None:
            locked.state = transition.target
        locked.save()
        _record(
            locked,
            action=Action.RECORD_PAYMENT,
            from_state=from_state,
            actor=actor,
            at=at,
            data={"reference": reference, "amount_vnd": amount_vnd, "channel": channel},
        )
    return payment


def dossier_issue_apology(*, dossier, actor, reason, new_due_at, at=None) -> Dossier:
    """The apology slip: the agency will miss the due time, says why and sets a new date. It
    must come at least one working day before the due time. The original due time is kept
    (the index judges against it); the new one goes to ``rescheduled_due_at``."""
    reason = _required_text(reason, "reason", _("The reason"))
    if not isinstance(new_due_at, datetime) or timezone.is_naive(new_due_at):
        raise InvalidInput(
            _("The new due time must be a date and time with a time zone."),
            fields={"new_due_at": [_("Invalid.")]},
        )

    def apply(d, at):
        calendar = working_calendar()
        current = d.effective_due_at
        if new_due_at <= current:
            raise InvalidInput(
                _("The new due time must be later than the current one (%(due)s).")
                % {"due": timezone.localtime(current).strftime("%d/%m/%Y %H:%M")},
                code="apology_not_later",
                fields={"new_due_at": [_("Not later than the current due time.")]},
            )
        if not calendar.is_working_day(timezone.localdate(new_due_at)):
            raise InvalidInput(
                _("The new due time must fall on a working day."),
                code="apology_not_working_day",
                fields={"new_due_at": [_("Not a working day.")]},
            )
        ahead = (
            working_minutes_between(timezone.localtime(at), timezone.localtime(current), calendar)
            if at < current
            else 0
        )
        if ahead < WORKING_DAY_MINUTES:
            raise InvalidInput(
                _(
                    "An apology slip must be issued at least one working day before the due time (%(due)s)."
                )
                % {"due": timezone.localtime(current).strftime("%d/%m/%Y %H:%M")},
                code="apology_too_late",
                fields={"new_due_at": [_("Too late for an apology slip.")]},
            )
        d.rescheduled_due_at = new_due_at
        d.apology_count += 1
        return {"previous_due_at": _iso(current), "new_due_at": _iso(new_due_at), "reason": reason}

    return _act(
        dossier=dossier, actor=actor, action=Action.ISSUE_APOLOGY, at=at, note=reason, apply=apply
    )


def dossier_finish(
    *, dossier, actor, electronic_result: bool = False, result_document=None, at=None
) -> Dossier:
    """The result is ready (state PROCESSED), with or without an electronic result document.
    A fee still due blocks the result."""
    result = None
    if result_document is not None:
        # A bare file is named after the document every procedure issues: its result.
        if not isinstance(result_document, tuple | DocumentIn):
            result_document = (RESULT_DOCUMENT_NAME, result_document)
        result = documents_in([result_document])[0]
        if result.file is None:
            raise InvalidInput(
                _("The electronic result needs a file."),
                fields={"result_document": [_("Required.")]},
            )
        _validate_files([result])

    def apply(d, at):
        if d.payment_status == PaymentStatus.DUE:
            raise InvalidInput(
                _("The fee of dossier %(code)s is not paid yet.") % {"code": d.code},
                code="fee_unpaid",
            )
        d.finished_at = at
        d.electronic_result = bool(electronic_result) or result is not None
        d.timeliness = timeliness(timezone.localtime(at), timezone.localtime(d.due_at))
        if result is not None:
            document_store(
                dossier=d,
                kind=Document.Kind.RESULT,
                file=result.file,
                actor=_actor_user(actor),
                at=at,
                name=result.name,
            )
        return {"electronic_result": d.electronic_result, "timeliness": d.timeliness}

    return _act(dossier=dossier, actor=actor, action=Action.FINISH, at=at, apply=apply)


def dossier_return_result(*, dossier, actor, at=None) -> Dossier:
    def apply(d, at):
        d.returned_at = at
        return {}

    return _act(dossier=dossier, actor=actor, action=Action.RETURN_RESULT, at=at, apply=apply)


def dossier_stop(*, dossier, actor, reason, at=None) -> Dossier:
    """Refuse or stop an accepted dossier (terminal). Processing ends now."""
    reason = _required_text(reason, "reason", _("The reason"))

    def apply(d, at):
        d.timeliness = _closing_timeliness(d, at)
        d.finished_at = at
        d.paused_at = None
        return {"timeliness": d.timeliness}

    return _act(dossier=dossier, actor=actor, action=Action.STOP, at=at, note=reason, apply=apply)


def dossier_withdraw(*, dossier, actor, reason="", at=None) -> Dossier:
    """The citizen withdraws the dossier (terminal). After acceptance, processing ends now."""
    reason = " ".join(str(reason or "").split())[:REASON_MAX]

    def apply(d, at):
        if d.accepted_at is not None:
            d.timeliness = _closing_timeliness(d, at)
            d.finished_at = at
            d.paused_at = None
        return {}

    return _act(
        dossier=dossier, actor=actor, action=Action.WITHDRAW, at=at, note=reason, apply=apply
    )


SERVICES = {
    Action.ACCEPT: dossier_accept,
    Action.REFUSE: dossier_refuse,
    Action.START_PROCESSING: dossier_start_processing,
    Action.REQUEST_SUPPLEMENT: dossier_request_supplement,
    Action.SUPPLEMENT: dossier_supplement,
    Action.REQUEST_PAYMENT: dossier_request_payment,
    Action.RECORD_PAYMENT: dossier_record_payment,
    Action.ISSUE_APOLOGY: dossier_issue_apology,
    Action.FINISH: dossier_finish,
    Action.RETURN_RESULT: dossier_return_result,
    Action.STOP: dossier_stop,
    Action.WITHDRAW: dossier_withdraw,
}


def dossier_transition(*, dossier, action: str, actor, at=None, **params) -> Dossier:
    """Dispatch ``action`` to its service (API transitions endpoint, admin buttons). Returns
    the dossier after the change."""
    try:
        service = SERVICES[Action(action)]
    except (ValueError, KeyError) as exc:
        raise InvalidInput(
            _("Unknown action “%(action)s”.") % {"action": action},
            code="unknown_action",
            fields={"action": [_("Unknown.")]},
        ) from exc
    try:
        inspect.signature(service).bind(dossier=dossier, actor=actor, at=at, **params)
    except TypeError as exc:
        raise InvalidInput(
            _("Wrong parameters for “%(action)s”: %(error)s") % {"action": action, "error": exc},
            code="bad_parameters",
        ) from exc
    result = service(dossier=dossier, actor=actor, at=at, **params)
    if isinstance(result, Payment):
        return Dossier.objects.select_related(
            "center", "procedure_version__procedure", "applicant"
        ).get(pk=result.dossier_id)
    return result


# --- Ratings ---------------------------------------------------------------------------------
def dossier_rate(*, dossier, citizen, satisfied: bool, comment: str = "", at=None) -> Rating:
    """The applicant rates the handling, once, after the result."""
    at = _now(at)
    comment = str(comment or "").strip()
    if len(comment) > REASON_MAX:
        raise InvalidInput(_("The comment is too long."), fields={"comment": [_("Too long.")]})
    with transaction.atomic():
        locked = _locked(dossier)
        if citizen is None or locked.applicant_id != getattr(citizen, "pk", None):
            raise NotPermitted(
                _("Only the applicant may rate dossier %(code)s.") % {"code": locked.code}
            )
        if State(locked.state) not in RATED_STATES:
            raise TransitionNotAllowed(
                _("Dossier %(code)s can be rated once its result is ready.")
                % {"code": locked.code},
                code="not_finished",
            )
        if Rating.objects.filter(dossier=locked).exists():
            raise TransitionNotAllowed(
                _("Dossier %(code)s has already been rated.") % {"code": locked.code},
                code="already_rated",
            )
        rating = Rating.objects.create(
            dossier=locked, satisfied=bool(satisfied), comment=comment, rated_at=at
        )
        DossierEvent.objects.create(
            dossier=locked,
            action=RATE_ACTION,
            from_state=locked.state,
            to_state=locked.state,
            actor=citizen,
            at=at,
            note=comment,
            data={"satisfied": bool(satisfied)},
        )
    return rating


# --- Petitions -------------------------------------------------------------------------------
def _petition_event(petition, *, from_status, actor, at, note=""):
    PetitionEvent.objects.create(
        petition=petition,
        from_status=from_status,
        to_status=petition.status,
        actor=_actor_user(actor),
        at=at,
        note=note,
    )


def _locked_petition(petition) -> Petition:
    return (
        Petition.objects.select_for_update(of=("self",))
        .select_related("center", "citizen")
        .get(pk=petition.pk)
    )


def petition_file(*, citizen, center, subject, body, dossier=None, at=None) -> Petition:
    """A citizen's petition (phản ánh, kiến nghị) to a centre, due in 15 working days."""
    at = _now(at)
    if citizen is None or not getattr(citizen, "pk", None):
        raise InvalidInput(
            _("Only a registered citizen may file a petition."),
            fields={"citizen": [_("Required.")]},
        )
    subject = _required_text(subject, "subject", _("The subject"), 200)
    body = _required_text(body, "body", _("The text"), 5000, multiline=True)
    if dossier is not None and (
        dossier.applicant_id != citizen.pk or dossier.center_id != center.pk
    ):
        raise InvalidInput(
            _("The dossier must be one of yours, handled by this centre."),
            code="foreign_dossier",
            fields={"dossier": [_("Not yours or another centre's.")]},
        )
    with transaction.atomic():
        day = timezone.localdate(at)
        number = next_number(center_id=center.pk, day=day, series=DossierCounter.PETITION)
        petition = Petition.objects.create(
            code=f"PA-{dossier_code(center, day, number)}",
            center=center,
            citizen=citizen,
            dossier=dossier,
            subject=subject,
            body=body,
            received_at=at,
            due_at=compute_due_at(
                accepted_at=timezone.localtime(at),
                amount=PETITION_DAYS,
                unit=TimeUnit.WORKING_DAYS,
                calendar=working_calendar(),
            ),
        )
        _petition_event(petition, from_status="", actor=citizen, at=at)
        notifications.petition_notify(petition=petition)
    return petition


def _petition_staff(petition, actor) -> None:
    if not actor_roles(actor, petition.center_id) & STAFF_ACTORS:
        raise NotPermitted(
            _("Only staff of %(center)s handle petition %(code)s.")
            % {"center": petition.center.name, "code": petition.code}
        )


def petition_start_processing(*, petition, actor, at=None) -> Petition:
    at = _now(at)
    with transaction.atomic():
        locked = _locked_petition(petition)
        _petition_staff(locked, actor)
        if locked.status != Petition.Status.RECEIVED:
            raise TransitionNotAllowed(
                _("Petition %(code)s is already %(status)s.")
                % {"code": locked.code, "status": locked.get_status_display()},
                allowed=["answer"] if locked.status == Petition.Status.IN_PROCESS else [],
            )
        locked.status = Petition.Status.IN_PROCESS
        locked.save()
        _petition_event(locked, from_status=Petition.Status.RECEIVED, actor=actor, at=at)
    return locked


def petition_answer(*, petition, actor, answer, at=None) -> Petition:
    """Staff of the petition's centre answer it (once); the citizen is notified."""
    at = _now(at)
    answer = _required_text(answer, "answer", _("The answer"), 5000, multiline=True)
    with transaction.atomic():
        locked = _locked_petition(petition)
        _petition_staff(locked, actor)
        if locked.status == Petition.Status.ANSWERED:
            raise TransitionNotAllowed(
                _("Petition %(code)s has already been answered.") % {"code": locked.code},
                allowed=[],
            )
        if at < locked.received_at:
            raise InvalidInput(
                _("An answer cannot predate the petition."), fields={"at": [_("Too early.")]}
            )
        from_status = locked.status
        locked.status = Petition.Status.ANSWERED
        locked.answer = answer
        locked.answered_at = at
        locked.save()
        _petition_event(locked, from_status=from_status, actor=actor, at=at, note=answer)
        notifications.petition_notify(petition=locked)
    return locked


def _answered_petition_of(petition, citizen, not_theirs: str) -> Petition:
    """The petition, locked, if ``citizen`` filed it and it has its answer."""
    locked = _locked_petition(petition)
    if citizen is None or locked.citizen_id != getattr(citizen, "pk", None):
        raise NotPermitted(not_theirs)
    if locked.status != Petition.Status.ANSWERED:
        raise TransitionNotAllowed(
            _("Petition %(code)s has no answer yet.") % {"code": locked.code},
            code="not_answered",
        )
    return locked


def petition_rate(*, petition, citizen, satisfied: bool, at=None) -> Petition:
    """The citizen says whether the answer satisfied them (once)."""
    at = _now(at)
    with transaction.atomic():
        locked = _answered_petition_of(
            petition, citizen, _("Only the petitioner may rate the answer.")
        )
        if locked.satisfied is not None:
            raise TransitionNotAllowed(
                _("Petition %(code)s has already been rated.") % {"code": locked.code},
                code="already_rated",
            )
        locked.satisfied = bool(satisfied)
        locked.save()
        _petition_event(
            locked,
            from_status=locked.status,
            actor=citizen,
            at=at,
            note=_("satisfied") if satisfied else _("not satisfied"),
        )
    return locked


def petition_repeat(*, petition, citizen, at=None) -> Petition:
    """The citizen raises the answered petition again (phản ánh lặp lại): the answer did not
    settle the matter. Once per petition; the index counts it as not handled well."""
    at = _now(at)
    with transaction.atomic():
        locked = _answered_petition_of(
            petition, citizen, _("Only the petitioner may raise the petition again.")
        )
        if locked.repeated:
            raise TransitionNotAllowed(
                _("Petition %(code)s has already been raised again.") % {"code": locked.code},
                code="already_repeated",
            )
        if at < locked.answered_at:
            raise InvalidInput(
                _("A petition cannot be raised again before its answer."),
                fields={"at": [_("Too early.")]},
            )
        locked.repeated = True
        locked.save()
        _petition_event(
            locked, from_status=locked.status, actor=citizen, at=at, note=_("raised again")
        )
    return locked

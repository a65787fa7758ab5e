"""Reads. ``dossiers_visible_to(user)`` is the one answer to "which dossiers may this person
see": every page, admin screen, API endpoint, export and action starts from it.

Filters read stored columns only (``due_at``, ``paused_at``, ``timeliness``): the instants they
compare with are computed once per request, never per row."""

from __future__ import annotations

import operator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import reduce

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dossiers.models import Dossier, DossierEvent, Payment, PaymentStatus, Petition, Rating
from dossiers.workflow import OPEN_STATES, Action, Actor, State, allowed_actions
from portal.models import ServiceCenter, StaffMembership, User

STAFF_ACTORS = frozenset({Actor.RECEPTIONIST, Actor.OFFICER, Actor.LEADER})
DESK_ROLES = ("receptionist", "leader")
TIMELINE_LIMIT = 200


# --- Who may see what ---------------------------------------------------------------------
NATION = "nation"


@dataclass(frozen=True)
class _Access:
    """What one user's rights rest on, read in one query (see ``_access``)."""

    manager_province: str | None  # a province code, NATION, or None (not a manager)
    roles_by_center: dict[int, frozenset[str]]  # staff memberships
    has_filed: bool  # applicant of at least one dossier


def _access(user) -> _Access:
    """The user's manager scope, staff memberships and whether they have filed a dossier: one
    query (LEFT JOINs from the user), once per user object, i.e. once per request. Kept as
    an attribute: ``request.user`` is a lazy wrapper whose own ``__dict__`` is not the
    user's."""
    try:
        return user._dossier_access
    except AttributeError:
        pass
    rows = (
        User.objects.filter(pk=user.pk)
        .annotate(has_filed=Exists(Dossier.objects.filter(applicant_id=OuterRef("pk"))))
        .values_list(
            "manager_scope__id",
            "manager_scope__province_id",
            "memberships__center_id",
            "memberships__role",
            "has_filed",
        )
    )
    province, roles, has_filed = None, {}, False
    for scope_id, scope_province, center_id, role, filed in rows:
        if scope_id is not None:
            province = scope_province or NATION
        if center_id is not None:
            roles.setdefault(center_id, set()).add(role)
        has_filed = bool(filed)
    user._dossier_access = _Access(province, {c: frozenset(r) for c, r in roles.items()}, has_filed)
    return user._dossier_access


def _manager_province(user) -> str | None:
    """The province a manager oversees, ``NATION`` for a national manager, or None."""
    return _access(user).manager_province


def staff_roles_by_center(user) -> dict[int, frozenset[str]]:
    """The user's staff roles by centre id (read once per request with the rest of
    ``_access``, so scoping and roles cost one query whatever the number of calls)."""
    return _access(user).roles_by_center


def _scope_condition(user, *, center_field: str, owner_field: str | None) -> Q | None:
    """The condition for ``user`` on a model that has a centre and an owning citizen
    (``owner_field``; None when the user owns none of its rows); None means "everything"
    (superuser, national manager). Centres are literal ids, not a sub-select of the
    memberships: ``center_id IN (5)`` lets PostgreSQL walk the ``(center, -submitted_at)``
    index with LIMIT."""
    if user.is_superuser:
        return None
    province = _manager_province(user)
    if province == NATION:
        return None
    centers = sorted(staff_roles_by_center(user))
    branches = [Q(**{f"{center_field}__in": centers})] if centers else []
    if owner_field:
        branches.append(Q(**{owner_field: user.pk}))
    if province:
        branches.append(Q(**{f"{center_field}__province_id": province}))
    return reduce(operator.or_, branches) if branches else Q(pk__in=[])


def _may_have_filed(user) -> bool:
    """Whether the owner branch of the dossier scope (``applicant = user``) can match. Only
    citizens with a citizen ID may file (the services check it), so for staff without one
    (nearly all staff) it is dropped, unless they have filed all the same (a citizen ID
    removed since). Dropping it matters: an OR of the applicant and the centres defeats
    both indexes, and a page of a big centre becomes a scan of the whole table."""
    return bool(getattr(user, "citizen_id", None)) or _access(user).has_filed


def _is_anonymous(user) -> bool:
    return user is None or not user.is_authenticated or not user.is_active


def dossiers_visible_to(user) -> QuerySet[Dossier]:
    """Dossiers ``user`` may see: a citizen their own; staff those of their centres; a
    provincial manager the province's; a national manager and a superuser all of them.
    One person may be several of these at once: the rights add up."""
    if _is_anonymous(user):
        return Dossier.objects.none()
    owner = "applicant_id" if user.is_superuser or _may_have_filed(user) else None
    condition = _scope_condition(user, center_field="center_id", owner_field=owner)
    return Dossier.objects.all() if condition is None else Dossier.objects.filter(condition)


def petitions_visible_to(user) -> QuerySet[Petition]:
    """Petitions, scoped like dossiers (the citizen who filed it, the centre, the manager)."""
    if _is_anonymous(user):
        return Petition.objects.none()
    condition = _scope_condition(user, center_field="center_id", owner_field="citizen_id")
    return Petition.objects.all() if condition is None else Petition.objects.filter(condition)


def payments_visible_to(user) -> QuerySet[Payment]:
    return Payment.objects.filter(dossier__in=dossiers_visible_to(user).values("pk"))


def ratings_visible_to(user) -> QuerySet[Rating]:
    return Rating.objects.filter(dossier__in=dossiers_visible_to(user).values("pk"))


def dossier_get_for(user, code: str) -> Dossier | None:
    """The dossier with ``code`` if ``user`` may see it, else None (show it as "not found":
    a stranger must not learn that the code exists)."""
    return (
        dossiers_visible_to(user)
        .select_related("center", "procedure_version__procedure", "applicant")
        .filter(code=code)
        .first()
    )


def dossier_track(*, code: str, last4: str) -> Dossier | None:
    """The one read that is not scoped by a user (public tracking): a dossier matched by its
    code *and* the last four digits of its applicant's CCCD, in one query, so both misses
    look the same."""
    return (
        Dossier.objects.filter(code=code, applicant__citizen_id__endswith=last4)
        .only("code", "state", "due_at", "rescheduled_due_at")
        .first()
    )


def dossier_timeline(dossier: Dossier) -> list[DossierEvent]:
    """The history of one dossier, oldest first (bounded: a dossier has a few dozen events),
    each with its translated ``action_label``."""
    events = list(dossier.events.select_related("actor").order_by("at", "id")[:TIMELINE_LIMIT])
    for event in events:
        event.action_label = action_label(event.action)
    return events


def person_name(user) -> str:
    """ "Nguyễn Thị Hoa": family and middle names (``last_name``) before the given name, as
    Vietnamese names are written; the username when no name is known."""
    if user is None:
        return ""
    return " ".join(p for p in (user.last_name, user.first_name) if p) or user.get_username()


# --- Roles and actions --------------------------------------------------------------------
ACTION_LABELS = {
    Action.SUBMIT: _("submit"),
    Action.RECEIVE: _("receive at the desk"),
    Action.ACCEPT: _("accept"),
    Action.REFUSE: _("refuse"),
    Action.START_PROCESSING: _("start processing"),
    Action.REQUEST_SUPPLEMENT: _("request a supplement"),
    Action.SUPPLEMENT: _("supplement"),
    Action.REQUEST_PAYMENT: _("request payment"),
    Action.RECORD_PAYMENT: _("record payment"),
    Action.ISSUE_APOLOGY: _("issue an apology slip"),
    Action.FINISH: _("finish (result ready)"),
    Action.RETURN_RESULT: _("return the result"),
    Action.STOP: _("stop processing"),
    Action.WITHDRAW: _("withdraw"),
    "rate": _("rated"),
}


def action_label(action) -> str:
    """The translated name of an action (or of an event's action)."""
    try:
        return str(ACTION_LABELS[Action(action)])
    except ValueError:
        return str(ACTION_LABELS.get(action, action))


def actor_roles(user, center: ServiceCenter | int, dossier: Dossier | None = None) -> set[Actor]:
    """The workflow roles ``user`` holds for a dossier at ``center``: staff roles from
    memberships of that centre, CITIZEN for the applicant of ``dossier``, SYSTEM when there is
    no user (gateway callbacks, scheduled jobs). Superusers act as any staff role; managers
    hold no role (they see, they do not act)."""
    if user is None:
        return {Actor.SYSTEM}
    if _is_anonymous(user):
        return set()
    center_id = center if isinstance(center, int) else center.pk
    roles: set[Actor] = set()
    if user.is_superuser:
        roles |= STAFF_ACTORS
    else:
        roles |= {Actor(role) for role in staff_roles_by_center(user).get(center_id, ())}
    if dossier is not None and dossier.applicant_id == user.pk:
        roles.add(Actor.CITIZEN)
    return roles


def action_preconditions_met(dossier: Dossier, action: Action) -> bool:
    """Conditions beyond the state table that decide whether a button makes sense."""
    if action == Action.RECORD_PAYMENT:
        return dossier.payment_status == PaymentStatus.DUE
    if action == Action.REQUEST_PAYMENT:
        return dossier.payment_status != PaymentStatus.PAID
    if action == Action.FINISH:
        return dossier.payment_status != PaymentStatus.DUE
    return True


def allowed_actions_for(user, dossier: Dossier, roles: set[Actor] | None = None) -> list[str]:
    """Actions ``user`` may take on ``dossier`` now (state table x roles x preconditions)."""
    if roles is None:
        roles = actor_roles(user, dossier.center_id, dossier)
    actions = allowed_actions(State(dossier.state), roles)
    return [str(a) for a in dict.fromkeys(actions) if action_preconditions_met(dossier, Action(a))]


def receives_at_a_desk(user) -> bool:
    """Whether ``user`` may receive walk-in dossiers somewhere (``desk_centers_for`` is not
    empty), from the memberships already read for the request."""
    if _is_anonymous(user):
        return False
    if user.is_superuser:
        return True
    return any(roles & set(DESK_ROLES) for roles in staff_roles_by_center(user).values())


def desk_centers_for(user) -> QuerySet[ServiceCenter]:
    """Centres where ``user`` may receive walk-in dossiers (receptionist or leader there)."""
    if _is_anonymous(user):
        return ServiceCenter.objects.none()
    if user.is_superuser:
        return ServiceCenter.objects.all()
    return ServiceCenter.objects.filter(
        pk__in=StaffMembership.objects.filter(user_id=user.pk, role__in=DESK_ROLES).values(
            "center_id"
        )
    )


# --- Deadline filters (stored columns only) -----------------------------------------------
OPEN_STATE_VALUES = sorted(int(s) for s in OPEN_STATES)


def _local_day_bounds(day) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, start + timedelta(days=1)


def is_due_today(queryset: QuerySet[Dossier], *, today=None) -> QuerySet[Dossier]:
    """Running dossiers whose due time falls on ``today`` (local calendar day); a paused one
    is not due: its due time will move when the supplement comes."""
    start, end = _local_day_bounds(today or timezone.localdate())
    return queryset.filter(
        state__in=OPEN_STATE_VALUES, paused_at__isnull=True, due_at__gte=start, due_at__lt=end
    )


def overdue(queryset: QuerySet[Dossier], *, at: datetime | None = None) -> QuerySet[Dossier]:
    """Open dossiers past their due time. A dossier paused for a supplement before its due
    time is not overdue (its clock is stopped); one paused after it is."""
    at = at or timezone.now()
    return queryset.filter(state__in=OPEN_STATE_VALUES, due_at__lt=at).filter(
        Q(paused_at__isnull=True) | Q(paused_at__gt=F("due_at"))
    )


def overdue_soon(
    queryset: QuerySet[Dossier], *, at: datetime | None = None, calendar=None
) -> QuerySet[Dossier]:
    """Open, running dossiers that fall due within the next working day."""
    from dossiers.deadlines import WORKING_DAY_MINUTES, add_working_minutes
    from portal.calendar import working_calendar

    at = at or timezone.now()
    horizon = add_working_minutes(at, WORKING_DAY_MINUTES, calendar or working_calendar())
    return queryset.filter(
        state__in=OPEN_STATE_VALUES, paused_at__isnull=True, due_at__gte=at, due_at__lte=horizon
    )


def paused(queryset: QuerySet[Dossier]) -> QuerySet[Dossier]:
    """Dossiers whose clock is stopped, waiting for the citizen's supplement."""
    return queryset.filter(state=State.SUPPLEMENT_REQUESTED)


def with_timeliness(queryset: QuerySet[Dossier], value: str) -> QuerySet[Dossier]:
    """Finished dossiers classified ``early``, ``on_time`` or ``late`` (stored at finish)."""
    return queryset.filter(timeliness=value)

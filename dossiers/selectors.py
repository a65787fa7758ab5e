"""Reads. ``dossiers_visible_to(user)`` is the one answer to "which dossiers may this person
see": every page, admin screen, API endpoint, export and action starts from it.

Filters read stored columns only (``due_at``, ``paused_at``, ``timeliness``): the instants they
compare with are computed once per request, never per row."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dossiers.models import Dossier, DossierEvent, Payment, PaymentStatus, Petition, Rating
from dossiers.workflow import OPEN_STATES, Action, Actor, State, allowed_actions
from portal.models import ManagerScope, ServiceCenter, StaffMembership

STAFF_ACTORS = frozenset({Actor.RECEPTIONIST, Actor.OFFICER, Actor.LEADER})
DESK_ROLES = ("receptionist", "leader")
TIMELINE_LIMIT = 200


# --- Who may see what ---------------------------------------------------------------------
NATION = "nation"


def _manager_province(user) -> str | None:
    """The province a manager oversees, ``NATION`` for a national manager, or None (looked up
    once per user object, i.e. once per request)."""
    if "_dossier_manager_scope" not in user.__dict__:
        scope = ManagerScope.objects.filter(user_id=user.pk).values_list("province_id").first()
        user._dossier_manager_scope = None if scope is None else (scope[0] or NATION)
    return user._dossier_manager_scope


def _scope_condition(user, *, center_field: str, owner_field: str) -> Q | None:
    """The condition for ``user`` on a model that has a centre and an owning citizen;
    None means "everything" (superuser, national manager)."""
    if user.is_superuser:
        return None
    province = _manager_province(user)
    if province == NATION:
        return None
    condition = Q(**{owner_field: user.pk}) | Q(
        **{
            f"{center_field}__in": StaffMembership.objects.filter(user_id=user.pk).values(
                "center_id"
            )
        }
    )
    if province:
        condition |= Q(**{f"{center_field}__province_id": province})
    return condition


def _is_anonymous(user) -> bool:
    return user is None or not user.is_authenticated or not user.is_active


def dossiers_visible_to(user) -> QuerySet[Dossier]:
    """Dossiers ``user`` may see: a citizen their own; staff those of their centres; a
    provincial manager the province's; a national manager and a superuser all of them.
    One person may be several of these at once: the rights add up."""
    if _is_anonymous(user):
        return Dossier.objects.none()
    condition = _scope_condition(user, center_field="center_id", owner_field="applicant_id")
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
        roles |= {
            Actor(role)
            for role in StaffMembership.objects.filter(
                user_id=user.pk, center_id=center_id
            ).values_list("role", flat=True)
        }
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

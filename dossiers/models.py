"""Procedure catalogue (versioned rules), dossiers, their history, documents, payments,
ratings and petitions. Writes go through ``dossiers.services``; bulk update/delete is refused."""

from __future__ import annotations

import contextvars
from contextlib import contextmanager

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from dossiers.workflow import OPEN_STATES, State
from portal.models import ServiceCenter

_service_writes = contextvars.ContextVar("service_writes", default=False)


@contextmanager
def service_writes():
    """Open a scope in which bulk ``update()``/``delete()`` on guarded models is permitted.
    Only services (and the simulator's bulk writer) open it."""
    token = _service_writes.set(True)
    try:
        yield
    finally:
        _service_writes.reset(token)


class GuardedQuerySet(models.QuerySet):
    """Bulk writes bypass history: outside a service they are an error, not a silent change."""

    def update(self, **kwargs):
        if not _service_writes.get():
            raise PermissionError(f"bulk update of {self.model.__name__} outside a service")
        return super().update(**kwargs)

    def delete(self):
        if not _service_writes.get():
            raise PermissionError(f"bulk delete of {self.model.__name__} outside a service")
        return super().delete()


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError(f"{self.model.__name__} rows are append-only")

    def delete(self):
        if not _service_writes.get():
            raise PermissionError(f"{self.model.__name__} rows are append-only")
        return super().delete()


class Level(models.TextChoices):
    PROVINCIAL = "province", pgettext_lazy("level", "provincial")
    COMMUNE = "commune", pgettext_lazy("level", "commune")


class OnlineLevel(models.TextChoices):
    FULL = "full", _("fully online (toàn trình)")
    PARTIAL = "partial", _("partly online (một phần)")
    NONE = "none", _("in person only (trực tiếp)")


class TimeUnit(models.TextChoices):
    WORKING_HOURS = "working_hours", _("working hours")
    WORKING_DAYS = "working_days", _("working days")
    CALENDAR_DAYS = "calendar_days", _("calendar days")


class Field(models.Model):
    """A field of administration (lĩnh vực), e.g. Hộ tịch."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=120)

    class Meta:
        ordering = ["name"]
        verbose_name = _("field")
        verbose_name_plural = _("fields")

    def __str__(self):
        return self.name


class Procedure(models.Model):
    """An administrative procedure of the national catalogue (code such as ``1.001193``)."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name_vi = models.CharField(_("name (Vietnamese)"), max_length=1000)
    name_en = models.CharField(_("name (English)"), max_length=1000)
    search_name = models.TextField(editable=False)
    level = models.CharField(_("level"), max_length=8, choices=Level.choices)
    field = models.ForeignKey(Field, on_delete=models.PROTECT, related_name="procedures")
    agency = models.CharField(_("handling agency"), max_length=300, blank=True)
    required_documents = models.JSONField(_("required documents"), default=list, blank=True)
    source = models.TextField(_("source"), blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("procedure")
        verbose_name_plural = _("procedures")

    def __str__(self):
        return f"{self.code} {self.name_vi}"


class ProcedureVersion(models.Model):
    """The rules a dossier is filed under. Changing a limit adds a version; dossiers keep theirs."""

    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="versions")
    valid_from = models.DateField(_("valid from"))
    limit_amount = models.PositiveIntegerField(_("time limit"))
    limit_unit = models.CharField(_("unit"), max_length=16, choices=TimeUnit.choices)
    online_limit_amount = models.PositiveIntegerField(
        _("time limit for online dossiers"), null=True, blank=True
    )
    fee_vnd = models.PositiveIntegerField(_("fee (VND)"), default=0)
    online_level = models.CharField(_("online level"), max_length=8, choices=OnlineLevel.choices)

    class Meta:
        ordering = ["procedure_id", "-valid_from"]
        verbose_name = _("procedure version")
        verbose_name_plural = _("procedure versions")
        constraints = [
            models.UniqueConstraint(fields=["procedure", "valid_from"], name="one_version_per_day")
        ]

    def __str__(self):
        return f"{self.procedure.code} @ {self.valid_from}"


class Channel(models.IntegerChoices):
    IN_PERSON = 1, _("in person")
    ONLINE = 2, _("online")
    POSTAL = 3, _("postal")


class DossierState(models.IntegerChoices):
    SUBMITTED = State.SUBMITTED, _("submitted")
    ACCEPTED = State.ACCEPTED, _("accepted")
    REFUSED = State.REFUSED, _("refused at reception")
    IN_PROCESS = State.IN_PROCESS, _("in process")
    SUPPLEMENT_REQUESTED = State.SUPPLEMENT_REQUESTED, _("supplement requested")
    PAYMENT_REQUESTED = State.PAYMENT_REQUESTED, _("payment requested")
    WITHDRAWN = State.WITHDRAWN, _("withdrawn")
    STOPPED = State.STOPPED, _("stopped")
    PROCESSED = State.PROCESSED, _("processed")
    RETURNED = State.RETURNED, _("returned")


class PaymentStatus(models.TextChoices):
    NONE = "none", _("no fee")
    DUE = "due", _("due")
    PAID = "paid", _("paid")


class PaymentChannel(models.TextChoices):
    ONLINE = "online", _("online")
    CASH = "cash", _("cash at the desk")


class Timeliness(models.TextChoices):
    """dossier-rules.md: early = an earlier calendar day than the due day; on time = the due
    day, not after the due time; late = after the due time."""

    EARLY = "early", _("early")
    ON_TIME = "on_time", _("on time")
    LATE = "late", _("late")


OPEN_STATE_VALUES = sorted(int(s) for s in OPEN_STATES)


class Dossier(models.Model):
    """An administrative dossier (hồ sơ TTHC). ``state`` is the pointer to the current state;
    the history is in ``DossierEvent``."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    center = models.ForeignKey(ServiceCenter, on_delete=models.PROTECT, related_name="dossiers")
    procedure_version = models.ForeignKey(
        ProcedureVersion, on_delete=models.PROTECT, related_name="dossiers"
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="dossiers"
    )
    channel = models.PositiveSmallIntegerField(_("channel"), choices=Channel.choices)
    state = models.PositiveSmallIntegerField(_("state"), choices=DossierState.choices)

    submitted_at = models.DateTimeField(_("submitted at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    rescheduled_due_at = models.DateTimeField(_("rescheduled due at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    paused_at = models.DateTimeField(_("paused since"), null=True, blank=True)
    paused_minutes = models.PositiveIntegerField(_("paused working minutes"), default=0)
    supplement_count = models.PositiveSmallIntegerField(_("supplement requests"), default=0)
    apology_count = models.PositiveSmallIntegerField(_("apology slips"), default=0)

    fee_vnd = models.PositiveIntegerField(_("fee (VND)"), default=0)
    payment_status = models.CharField(
        _("payment"), max_length=6, choices=PaymentStatus.choices, default=PaymentStatus.NONE
    )
    payment_channel = models.CharField(
        _("payment channel"), max_length=6, choices=PaymentChannel.choices, blank=True
    )
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    digitised = models.BooleanField(_("documents digitised at intake"), default=False)
    electronic_result = models.BooleanField(_("electronic result issued"), default=False)
    reused_data = models.BooleanField(_("reused digitised data"), default=False)
    population_data = models.BooleanField(_("used population data"), default=False)
    personal_storage = models.BooleanField(_("linked to personal data store"), default=False)
    synced = models.BooleanField(_("synced to the national portal"), default=False)

    # Stored when processing ends (finish, stop, withdrawal after acceptance) so lists and the
    # index filter on a column instead of recomputing dates row by row.
    timeliness = models.CharField(
        _("timeliness"), max_length=8, choices=Timeliness.choices, blank=True
    )
    # Documents the desk checked on paper or the citizen reused from the data store (names from
    # the procedure's list); uploaded files are ``Document`` rows.
    presented_documents = models.JSONField(_("documents presented"), default=list, blank=True)

    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = GuardedQuerySet.as_manager()

    class Meta:
        verbose_name = _("dossier")
        verbose_name_plural = _("dossiers")
        indexes = [
            models.Index(fields=["center", "state", "due_at"], name="dossier_center_state_due"),
            models.Index(fields=["center", "accepted_at"], name="dossier_center_accepted"),
            models.Index(fields=["center", "-submitted_at"], name="dossier_center_submitted"),
            models.Index(fields=["applicant", "-submitted_at"], name="dossier_applicant_recent"),
            models.Index(fields=["finished_at"], name="dossier_finished"),
            models.Index(fields=["accepted_at"], name="dossier_accepted"),
            # The open stock of every centre, read each night by the index's daily facts:
            # covering (an index-only scan, no heap visit per open dossier).
            models.Index(
                fields=["center", "due_at"],
                name="dossier_open_due",
                condition=Q(state__in=OPEN_STATE_VALUES),
                include=[
                    "accepted_at",
                    "rescheduled_due_at",
                    "paused_at",
                    "state",
                    "supplement_count",
                    "synced",
                ],
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(due_at__isnull=True) | Q(accepted_at__isnull=False),
                name="dossier_due_needs_acceptance",
            ),
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True)
                | (Q(accepted_at__isnull=False) & Q(finished_at__gte=models.F("accepted_at"))),
                name="dossier_finished_after_acceptance",
            ),
            models.CheckConstraint(
                condition=Q(returned_at__isnull=True)
                | (Q(finished_at__isnull=False) & Q(returned_at__gte=models.F("finished_at"))),
                name="dossier_returned_after_finish",
            ),
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True)
                | Q(accepted_at__gte=models.F("submitted_at")),
                name="dossier_accepted_after_submission",
            ),
            models.CheckConstraint(
                condition=Q(state__gte=1) & Q(state__lte=10), name="dossier_state_known"
            ),
            models.CheckConstraint(
                condition=Q(paused_at__isnull=True) | Q(state=State.SUPPLEMENT_REQUESTED),
                name="dossier_paused_only_for_supplement",
            ),
            models.CheckConstraint(
                condition=Q(rescheduled_due_at__isnull=True) | Q(due_at__isnull=False),
                name="dossier_reschedule_needs_due",
            ),
            models.CheckConstraint(
                condition=Q(payment_status="paid", paid_at__isnull=False)
                | (~Q(payment_status="paid") & Q(paid_at__isnull=True)),
                name="dossier_paid_at_iff_paid",
            ),
        ]

    def __str__(self):
        return self.code

    @property
    def effective_due_at(self):
        return self.rescheduled_due_at or self.due_at


class DossierCounter(models.Model):
    """Last number issued per centre, series and day: codes are numbered by an atomic upsert
    (``dossiers.services.next_number``). Series ``D`` numbers dossiers, ``P`` petitions."""

    DOSSIER = "D"
    PETITION = "P"

    center = models.ForeignKey(ServiceCenter, on_delete=models.CASCADE)
    series = models.CharField(max_length=1, default=DOSSIER)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["center", "series", "day"], name="one_counter_per_series_day"
            )
        ]


class DossierEvent(models.Model):
    """Append-only history: one row for every change of a dossier."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=24)
    from_state = models.PositiveSmallIntegerField(
        _("from state"), choices=DossierState.choices, null=True, blank=True
    )
    to_state = models.PositiveSmallIntegerField(
        _("to state"), choices=DossierState.choices, null=True, blank=True
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(_("at"))
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["dossier_id", "at", "id"]
        verbose_name = _("dossier event")
        verbose_name_plural = _("dossier events")
        indexes = [models.Index(fields=["dossier", "at"], name="event_dossier_at")]

    def __str__(self):
        return f"{self.dossier_id} {self.action} @ {self.at:%Y-%m-%d %H:%M}"


class Document(models.Model):
    """A file attached to a dossier: an input document or the electronic result."""

    class Kind(models.TextChoices):
        INPUT = "input", _("input document")
        SUPPLEMENT = "supplement", _("supplement")
        RESULT = "result", _("electronic result")

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=50)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(max_length=64)
    file = models.FileField(upload_to="dossiers/%Y/%m/", max_length=300)
    uploaded_at = models.DateTimeField(_("uploaded at"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        ordering = ["dossier_id", "uploaded_at"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")


class Payment(models.Model):
    """A payment of a dossier's fee. ``reference`` is the gateway's transaction id: a repeated
    callback finds the existing row instead of paying twice."""

    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="payments")
    channel = models.CharField(_("channel"), max_length=6, choices=PaymentChannel.choices)
    amount_vnd = models.PositiveIntegerField(_("amount (VND)"))
    reference = models.CharField(_("reference"), max_length=64, unique=True)
    paid_at = models.DateTimeField(_("paid at"))

    class Meta:
        ordering = ["-paid_at"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")


class Rating(models.Model):
    """The citizen's rating of a dossier's handling, after the result."""

    dossier = models.OneToOneField(Dossier, on_delete=models.CASCADE, related_name="rating")
    satisfied = models.BooleanField(_("satisfied"))
    comment = models.TextField(_("comment"), blank=True, max_length=2000)
    rated_at = models.DateTimeField(_("rated at"))

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        indexes = [models.Index(fields=["rated_at"], name="rating_rated_at")]


class Petition(models.Model):
    """A petition (phản ánh, kiến nghị) about a dossier or an officer; due in 15 working days."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("received")
        IN_PROCESS = "in_process", _("in process")
        ANSWERED = "answered", _("answered")

    code = models.CharField(_("code"), max_length=40, unique=True)
    center = models.ForeignKey(ServiceCenter, on_delete=models.PROTECT, related_name="petitions")
    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="petitions"
    )
    dossier = models.ForeignKey(
        Dossier, on_delete=models.SET_NULL, null=True, blank=True, related_name="petitions"
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"), max_length=5000)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RECEIVED
    )
    received_at = models.DateTimeField(_("received at"))
    due_at = models.DateTimeField(_("due at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answer = models.TextField(_("answer"), blank=True)
    satisfied = models.BooleanField(_("satisfied with the answer"), null=True, blank=True)
    repeated = models.BooleanField(_("complaint repeated about the answer"), default=False)

    objects = GuardedQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("petition")
        verbose_name_plural = _("petitions")
        indexes = [
            models.Index(fields=["center", "received_at"], name="petition_center_received"),
            models.Index(fields=["answered_at"], name="petition_answered"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True) | Q(answered_at__gte=models.F("received_at")),
                name="petition_answer_after_receipt",
            )
        ]


class OutboxMessage(models.Model):
    """A notification written in the same transaction as the change it reports (transactional
    outbox): if the transaction rolls back, nothing is sent; if the broker is down at commit,
    the row waits for ``dossiers.tasks.outbox_sweep``. ``delivered_at`` makes sending
    idempotent: a delivered row is never sent again."""

    class Kind(models.TextChoices):
        EMAIL = "email", _("e-mail")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.EMAIL)
    dossier = models.ForeignKey(
        Dossier, on_delete=models.CASCADE, null=True, blank=True, related_name="messages"
    )
    petition = models.ForeignKey(
        "Petition", on_delete=models.CASCADE, null=True, blank=True, related_name="messages"
    )
    recipient = models.EmailField(_("recipient"))
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))
    created_at = models.DateTimeField(_("created at"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [
            models.Index(
                fields=["created_at"],
                name="outbox_pending",
                condition=Q(delivered_at__isnull=True),
            )
        ]

    def __str__(self):
        return f"{self.recipient}: {self.subject}"


class PetitionEvent(models.Model):
    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    at = models.DateTimeField()
    note = models.TextField(blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["petition_id", "at", "id"]


class IdempotencyKey(models.Model):
    """A client's retry key (``Idempotency-Key`` header) and the first answer given to it."""

    key = models.CharField(max_length=100)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=40)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "scope", "key"], name="unique_idempotency_key")
        ]

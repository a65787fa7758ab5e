"""The citizen-service index: inputs that do not come from dossiers, daily facts, snapshots.

Units (the things that are scored and ranked) and their keys, used everywhere (snapshots,
pages, API, exports):

- ``"42"``      the province, pooled: its provincial centre + every commune centre of it
                 (``unit_kind = "province"``; key = the 2-digit province code);
- ``"P42"``     the provincial public administration service centre itself
                 (``unit_kind = "provincial_center"``; key = ``ServiceCenter.code``);
- ``"C18073"``  a commune's service centre (``unit_kind = "commune"``; key =
                 ``ServiceCenter.code``).

34 + 34 + 3,321 = 3,389 units. A parent's score comes from pooled counts, never from
averaging its children.

Windows of a snapshot dated D (D included): ``"month"`` = first day of D's month .. D,
``"quarter"`` = first day of D's quarter .. D, ``"ytd"`` = 1 January .. D. Custom ranges are
computed on request from the daily facts (``scoring.snapshots.scores_for_range``).

Ranks: ``IndexSnapshot.rank`` / ``rank_of`` / ``group_ranks`` rank a province among the 34
provinces, and a centre (provincial or commune) among the units of its province (its
provincial centre + its communes). Ties share a rank (1, 2, 2, 4).

Publication: every computation is an ``IndexRun``; its snapshots become visible in one
transaction by upserting ``IndexPublication(date → run)``. Readers use
``scoring.selectors.current_snapshots()`` and never see a run in progress.
"""

from __future__ import annotations

import json
from functools import cached_property

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dossiers.models import OnlineLevel, Procedure
from portal.models import Commune, Province, ServiceCenter
from scoring import methodology as M


class UnitKind(models.TextChoices):
    PROVINCE = "province", _("province (pooled)")
    PROVINCIAL_CENTER = "provincial_center", _("provincial service centre")
    COMMUNE = "commune", _("commune")


class Window(models.TextChoices):
    MONTH = "month", _("month to date")
    QUARTER = "quarter", _("quarter to date")
    YTD = "ytd", _("year to date")


# --- Inputs that do not come from dossiers (editable in admin, written by scoring.services) --


class ProcedurePublication(models.Model):
    """A province's publication of a procedure (quyết định công bố TTHC) and when it was made
    public on the national procedure database: the transparency group's facts."""

    province = models.ForeignKey(
        Province, on_delete=models.CASCADE, related_name="publications", verbose_name=_("province")
    )
    procedure = models.ForeignKey(
        Procedure,
        on_delete=models.CASCADE,
        related_name="publications",
        verbose_name=_("procedure"),
    )
    decision_date = models.DateField(_("publication decision date"))
    effective_date = models.DateField(_("legal basis effective date"))
    public_date = models.DateField(_("made public on"), null=True, blank=True)
    components_complete = models.BooleanField(_("all mandatory components present"), default=True)

    class Meta:
        ordering = ["province_id", "-decision_date", "procedure_id"]
        verbose_name = _("procedure publication")
        verbose_name_plural = _("procedure publications")
        constraints = [
            models.UniqueConstraint(
                fields=["province", "procedure", "decision_date"],
                name="one_publication_per_decision",
            ),
            models.CheckConstraint(
                condition=Q(public_date__isnull=True)
                | Q(public_date__gte=models.F("decision_date")),
                name="publication_public_after_decision",
            ),
        ]
        indexes = [models.Index(fields=["province", "decision_date"], name="publication_prov_date")]

    def __str__(self):
        return f"{self.province_id} {self.procedure} @ {self.decision_date}"


class OnlineService(models.Model):
    """A procedure a centre offers online (the online public-service catalogue)."""

    center = models.ForeignKey(
        ServiceCenter,
        on_delete=models.CASCADE,
        related_name="online_services",
        verbose_name=_("centre"),
    )
    procedure = models.ForeignKey(
        Procedure,
        on_delete=models.CASCADE,
        related_name="online_services",
        verbose_name=_("procedure"),
    )
    online_level = models.CharField(
        _("online level"),
        max_length=8,
        choices=[
            (OnlineLevel.FULL, OnlineLevel.FULL.label),
            (OnlineLevel.PARTIAL, OnlineLevel.PARTIAL.label),
        ],
    )
    available_from = models.DateField(_("offered online since"))

    class Meta:
        ordering = ["center_id", "procedure_id"]
        verbose_name = _("online service")
        verbose_name_plural = _("online service catalogue")
        constraints = [
            models.UniqueConstraint(
                fields=["center", "procedure"], name="one_online_service_per_center"
            )
        ]

    def __str__(self):
        return f"{self.center} · {self.procedure}"


class CertifiedCopyService(models.Model):
    """A commune that offers electronic certified copies (chứng thực bản sao điện tử)."""

    commune = models.OneToOneField(
        Commune,
        on_delete=models.CASCADE,
        related_name="certified_copy_service",
        verbose_name=_("commune"),
    )
    available_from = models.DateField(_("offered since"))

    class Meta:
        ordering = ["commune_id"]
        verbose_name = _("electronic certified-copy service")
        verbose_name_plural = _("electronic certified-copy services")

    def __str__(self):
        return str(self.commune)


# --- Daily facts ------------------------------------------------------------------------------


class CentreRow(models.Model):
    """A row the index job derives for one service centre (its province kept for province
    filters) and rewrites: no per-row foreign-key triggers and no single-column indexes (each
    table's composite indexes serve its reads), so a night's write stays cheap."""

    center = models.ForeignKey(
        ServiceCenter,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    province = models.ForeignKey(
        Province, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )

    class Meta:
        abstract = True


def _count(label):
    return models.PositiveIntegerField(label, default=0)


class DailyFact(CentreRow):
    """Per service centre and local day: flows of the day and stocks at the day's end.

    Written only by ``scoring.facts.facts_compute`` (set-based SQL). Any window's counts are
    sums of the flows over the window plus the stocks at the day before its start and at its
    end. "On time" follows index-methodology.md: more than one supplement request → late; a
    dossier waiting for its only supplement counts as finished at the request time. Columns
    ending in ``_rs`` judge against the rescheduled due time (apology slip) instead of the
    original one — a methodology switch.
    """

    day = models.DateField(_("day"))

    # Flows: dossiers accepted (received) on the day.
    received = _count(_("received"))
    received_online = _count(_("received online"))
    received_digitised = _count(_("digitised at intake"))
    received_reused = _count(_("re-using digitised data"))
    received_population = _count(_("using population data"))
    received_personal_storage = _count(_("linked to the personal data store"))
    received_synced = _count(_("synced to the national portal"))
    fee_bearing = _count(_("fee-bearing"))
    # Flows: dossiers whose processing ended on the day (processed, stopped, withdrawn).
    finished = _count(_("finished"))
    finished_early = _count(_("finished early"))
    finished_on_time = _count(_("finished on the due day"))
    finished_late = _count(_("finished late"))
    finished_in_time_rs = _count(_("finished in time (rescheduled due time)"))
    finished_with_result = _count(_("finished with a result"))
    electronic_results = _count(_("electronic results issued"))
    # Fee-bearing dossiers paid online: counted on the acceptance day when paid by then,
    # otherwise on the finish day (a result is only issued after payment).
    paid_online = _count(_("paid online"))
    # Ratings given on the day, and dossiers not late whose first complaint or unsatisfied
    # rating came on the day.
    rated_satisfied = _count(_("rated satisfied"))
    rated_unsatisfied = _count(_("rated unsatisfied"))
    dissatisfied = _count(_("on-time dossiers with a complaint or unsatisfied rating"))
    dissatisfied_rs = _count(_("same, judged on the rescheduled due time"))
    # Petitions (phản ánh, kiến nghị).
    petitions_received = _count(_("petitions received"))
    petitions_answered = _count(_("petitions answered"))
    petitions_answered_on_time = _count(_("petitions answered on time"))
    petitions_failed = _count(_("petitions overdue, rated unsatisfied or repeated"))

    # Stocks at the end of the day.
    open_total = _count(_("open"))
    open_synced = _count(_("open and synced"))
    open_within_time = _count(_("in process within time"))
    open_within_time_rs = _count(_("in process within the rescheduled time"))
    open_paused = _count(_("waiting for their only supplement"))
    open_paused_early = _count(_("waiting, requested before the due day"))
    open_paused_on_time = _count(_("waiting, requested on the due day in time"))
    open_paused_in_time_rs = _count(_("waiting, requested before the rescheduled due time"))
    petitions_open = _count(_("petitions open"))
    petitions_open_within_time = _count(_("petitions open within time"))

    class Meta:
        verbose_name = _("daily fact")
        verbose_name_plural = _("daily facts")
        constraints = [
            models.UniqueConstraint(fields=["day", "center"], name="one_fact_per_center_day")
        ]
        indexes = [models.Index(fields=["province", "day"], name="fact_province_day")]

    def __str__(self):
        return f"{self.center_id} {self.day}"


class FactDay(models.Model):
    """A day whose facts have been computed (a day without activity has no ``DailyFact`` rows,
    so this is how a run knows which days of its windows are still missing)."""

    day = models.DateField(_("day"), unique=True)
    computed_at = models.DateTimeField(_("computed"))

    class Meta:
        ordering = ["-day"]
        verbose_name = _("computed fact day")
        verbose_name_plural = _("computed fact days")

    def __str__(self):
        return str(self.day)


FLOW_FIELDS = (
    "received",
    "received_online",
    "received_digitised",
    "received_reused",
    "received_population",
    "received_personal_storage",
    "received_synced",
    "fee_bearing",
    "finished",
    "finished_early",
    "finished_on_time",
    "finished_late",
    "finished_in_time_rs",
    "finished_with_result",
    "electronic_results",
    "paid_online",
    "rated_satisfied",
    "rated_unsatisfied",
    "dissatisfied",
    "dissatisfied_rs",
    "petitions_received",
    "petitions_answered",
    "petitions_answered_on_time",
    "petitions_failed",
)
STOCK_FIELDS = (
    "open_total",
    "open_synced",
    "open_within_time",
    "open_within_time_rs",
    "open_paused",
    "open_paused_early",
    "open_paused_on_time",
    "open_paused_in_time_rs",
    "petitions_open",
    "petitions_open_within_time",
)


class YearToDateFact(CentreRow):
    """Per service centre and day with flows: each flow summed since 1 January of that year.
    Written by ``scoring.facts.facts_compute`` after the daily facts. A standard window's flows
    are the difference of two rows whatever its length (the nightly run reads a few rows a
    centre, not the year); a centre without a row on a day has the totals of its last row of
    the year."""

    day = models.DateField(_("day"))

    class Meta:
        verbose_name = _("year-to-date fact")
        verbose_name_plural = _("year-to-date facts")
        constraints = [
            # A centre's last row on or before a day: one backward step of this index.
            models.UniqueConstraint(fields=["center", "day"], name="one_total_per_center_day")
        ]
        indexes = [models.Index(fields=["day"], name="total_day")]

    def __str__(self):
        return f"{self.center_id} {self.day}"


for _flow in FLOW_FIELDS:  # the same columns as the daily flows, as totals
    YearToDateFact.add_to_class(_flow, _count(DailyFact._meta.get_field(_flow).verbose_name))


class MonthlyProcedureFact(CentreRow):
    """Per centre, month and procedure: on which days of the month the procedure had an online
    dossier, a fee-bearing dossier, an online payment, a dossier using population data — one
    bit per day (bit 0 = the 1st). What the procedure-distinct indicators need, exactly for any
    window (a province counts each procedure once, whatever the number of its centres), in
    about one row per active centre and procedure a month instead of one per day."""

    month = models.DateField(_("month"))  # its first day
    procedure = models.ForeignKey(
        Procedure, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    online_days = models.IntegerField(_("days with an online dossier"), default=0)
    fee_days = models.IntegerField(_("days with a fee-bearing dossier"), default=0)
    paid_days = models.IntegerField(_("days with an online payment"), default=0)
    population_days = models.IntegerField(_("days with population data used"), default=0)

    class Meta:
        verbose_name = _("monthly procedure fact")
        verbose_name_plural = _("monthly procedure facts")
        constraints = [
            models.UniqueConstraint(
                fields=["month", "center", "procedure"], name="one_procedure_fact_per_month"
            )
        ]
        indexes = [models.Index(fields=["province", "month"], name="procmonth_province_month")]


PROCEDURE_DAY_FIELDS = ("online_days", "fee_days", "paid_days", "population_days")


class MonthlyProcedureSet(CentreRow):
    """Per centre, month and word of 64 procedures: which procedures had an online dossier, a
    fee-bearing dossier, an online payment, population data in the month — the monthly
    procedure facts ORed over the month's days (bit ``(procedure id − 1) % 64`` of word
    ``(procedure id − 1) // 64``; bit 63 is the sign). A year-to-date set on a date is then the
    OR of a few rows a centre for the months before the date's plus that month's day bits.
    Written by ``scoring.facts.facts_compute`` for the months of its range."""

    month = models.DateField(_("month"))  # its first day
    word = models.PositiveSmallIntegerField(_("word"))
    online = models.BigIntegerField(_("procedures with an online dossier"))
    fee = models.BigIntegerField(_("procedures with a fee-bearing dossier"))
    paid = models.BigIntegerField(_("procedures with an online payment"))
    population = models.BigIntegerField(_("procedures with population data used"))

    class Meta:
        verbose_name = _("monthly procedure set")
        verbose_name_plural = _("monthly procedure sets")
        constraints = [
            models.UniqueConstraint(
                fields=["month", "center", "word"], name="one_procedure_set_per_month"
            )
        ]


PROCEDURE_SET_FIELDS = dict(
    zip(PROCEDURE_DAY_FIELDS, ("online", "fee", "paid", "population"), strict=True)
)


# --- Runs, snapshots, publication ---------------------------------------------------------------


class IndexRun(models.Model):
    """One computation of facts and snapshots for a date or a date range."""

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        COMPLETE = "complete", _("complete")
        FAILED = "failed", _("failed")
        SKIPPED = "skipped", _("skipped (another run was in progress)")

    class Kind(models.TextChoices):
        NIGHTLY = "nightly", _("nightly")
        RECOMPUTE = "recompute", _("recompute")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    date_from = models.DateField(_("from"))
    date_to = models.DateField(_("to"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    # Only one run at a time: a partial unique index on the running row (works on SQLite and
    # PostgreSQL); on PostgreSQL the start is also serialised by an advisory lock.
    lane = models.CharField(max_length=10, default="index", editable=False)
    methodologies = models.JSONField(_("methodologies"), default=list)
    windows = models.JSONField(_("windows"), default=list)
    started_at = models.DateTimeField(_("started"))
    heartbeat_at = models.DateTimeField(_("last sign of life"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    fact_rows = models.PositiveIntegerField(_("fact rows"), default=0)
    rows = models.PositiveIntegerField(_("snapshot rows"), default=0)
    provinces_done = models.JSONField(_("provinces done"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)
    task_id = models.CharField(_("task"), max_length=64, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("index run")
        verbose_name_plural = _("index runs")
        constraints = [
            models.UniqueConstraint(
                fields=["lane"], condition=Q(status="running"), name="one_running_index_run"
            ),
            models.CheckConstraint(
                condition=Q(date_from__lte=models.F("date_to")), name="run_dates_ordered"
            ),
        ]
        indexes = [models.Index(fields=["status", "-started_at"], name="run_status_started")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.date_from}..{self.date_to} {self.get_status_display()}"


class IndexPublication(models.Model):
    """Which run's snapshots are current for a date. Switched in one transaction per run."""

    date = models.DateField(_("date"), unique=True)
    run = models.ForeignKey(IndexRun, on_delete=models.PROTECT, related_name="publications")
    published_at = models.DateTimeField(_("published"))
    # When the snapshots this publication superseded were deleted (``snapshots_cleanup`` visits
    # only the publications switched since, not the whole history).
    cleaned_at = models.DateTimeField(_("superseded snapshots deleted"), null=True, blank=True)

    class Meta:
        ordering = ["-date"]
        verbose_name = _("index publication")
        verbose_name_plural = _("index publications")

    def __str__(self):
        return f"{self.date} → run {self.run_id}"


class JSONText(models.TextField):
    """JSON stored as plain text. Snapshot rows are written 20,000 a night, always read whole
    and never queried inside, so ``jsonb``'s parse on every write buys nothing: a night's COPY
    took 1.9 s into ``jsonb`` columns and 0.5–0.9 s into ``text`` ones (same rows, same
    indexes)."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else json.loads(value)

    def to_python(self, value):
        return json.loads(value) if isinstance(value, str) else value

    def get_prep_value(self, value):
        return None if value is None else json.dumps(value)

    def value_to_string(self, obj):
        return self.get_prep_value(self.value_from_object(obj))


class IndexSnapshot(models.Model):
    """A unit's index for a date, a window and a methodology version, as computed by a run.

    ``counts`` = ``[numerator, denominator]`` or null (not counted) per indicator, in the
    methodology's indicator order; ``indicators`` scores them on read: {code: [numerator,
    denominator, ratio %, score]} (ratio and score null when not scored; ratio a percentage
    with 2 decimals). Storing only the counts cut a night's ``COPY`` text by more than half
    (20,334 rows of ≈ 920 → ≈ 180 characters of indicators);
    ``groups`` = {column key: score} in the methodology's display layout; ``group_ranks`` =
    {column key: rank} in the same scope as ``rank``.
    """

    # Derived rows written by the engine (20,000 a night, millions in a rebuild): no per-row
    # foreign-key triggers, and no index of ``run`` alone (the unique constraint starts with
    # it). Deletions still cascade through the ORM.
    run = models.ForeignKey(
        IndexRun,
        on_delete=models.CASCADE,
        related_name="snapshots",
        db_index=False,
        db_constraint=False,
    )
    date = models.DateField(_("date"))
    window = models.CharField(_("window"), max_length=8, choices=Window.choices)
    window_from = models.DateField(_("window start"))
    methodology = models.CharField(_("methodology"), max_length=10)
    unit = models.CharField(_("unit"), max_length=8)
    unit_kind = models.CharField(_("unit type"), max_length=18, choices=UnitKind.choices)
    province = models.ForeignKey(
        Province, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    center = models.ForeignKey(
        ServiceCenter,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    name = models.CharField(_("name"), max_length=200)
    total = models.DecimalField(_("total"), max_digits=5, decimal_places=2)
    groups = JSONText(_("groups"), default=dict)
    counts = JSONText(_("counts"), default=list)
    rank = models.PositiveIntegerField(_("rank"), null=True, blank=True)
    rank_of = models.PositiveIntegerField(_("of"), null=True, blank=True)
    group_ranks = JSONText(_("group ranks"), default=dict)

    class Meta:
        ordering = ["date", "window", "methodology", "unit_kind", "rank"]
        verbose_name = _("index snapshot")
        verbose_name_plural = _("index snapshots")
        constraints = [
            models.UniqueConstraint(
                fields=["run", "date", "window", "methodology", "unit"],
                name="one_snapshot_per_unit",
            )
        ]
        indexes = [
            models.Index(
                fields=["run", "date", "window", "methodology", "unit_kind", "rank"],
                name="snapshot_ranking",
            ),
            models.Index(
                fields=["run", "date", "window", "methodology", "province", "rank"],
                name="snapshot_province",
            ),
            # A unit's year-to-date trend (up to 365 dates). Shorter windows' trends (a month,
            # a quarter: at most 92 dates) are read date by date on the unique constraint
            # through the publications; a night's snapshots of those windows (two thirds of
            # its rows) then add no entry to this unit-ordered index, whose inserts land on
            # scattered pages.
            models.Index(
                fields=["unit", "methodology", "date"],
                condition=models.Q(window=Window.YTD),
                name="snapshot_trend_ytd",
            ),
            # Superseded snapshots of a date (cleanup) and a run's rows of a date.
            models.Index(fields=["date", "run"], name="snapshot_date_run"),
        ]

    def __str__(self):
        return f"{self.unit} {self.date} {self.window} {self.methodology}: {self.total}"

    @cached_property
    def indicators(self) -> dict[str, list]:
        return M.evaluate_stored(self.methodology, self.counts)

"""Admin of the index: published snapshots (read-only, ordered by rank), run history, the
"recompute for this date" action, and the editable non-dossier inputs."""

from __future__ import annotations

from celery import current_app
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from scoring import methodology as M
from scoring import services, tasks
from scoring.models import (
    CertifiedCopyService,
    DailyFact,
    IndexPublication,
    IndexRun,
    IndexSnapshot,
    OnlineService,
    ProcedurePublication,
    YearToDateFact,
)
from scoring.selectors import current_snapshots

RECOMPUTE_PERMISSION = "scoring.add_indexrun"


def recompute_dates(modeladmin, request, dates) -> None:
    """Recompute each date: queued for the workers, or here when Celery runs eagerly."""
    if not request.user.has_perm(RECOMPUTE_PERMISSION):
        modeladmin.message_user(
            request, _("You may not recompute the index."), level=messages.ERROR
        )
        return
    dates = sorted(set(dates))
    if not dates:
        return
    if current_app.conf.task_always_eager:
        for day in dates:
            summary = services.index_compute(date_from=day)
            level = messages.SUCCESS if summary.run else messages.WARNING
            modeladmin.message_user(request, str(summary), level=level)
        return
    for day in dates:
        tasks.recompute_index.delay(day.isoformat())
    modeladmin.message_user(
        request,
        ngettext(
            "Recomputation queued for %(dates)s.",
            "Recomputation queued for %(count)d dates: %(dates)s.",
            len(dates),
        )
        % {"count": len(dates), "dates": ", ".join(d.isoformat() for d in dates)},
    )


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PublishedDateFilter(admin.SimpleListFilter):
    """The dates with a published index, latest first (a bounded list)."""

    title = _("date")
    parameter_name = "date"

    def lookups(self, request, model_admin):
        dates = IndexPublication.objects.order_by("-date").values_list("date", flat=True)[:60]
        return [(d.isoformat(), d.strftime("%d/%m/%Y")) for d in dates]

    def queryset(self, request, queryset):
        return queryset.filter(date=self.value()) if self.value() else queryset


@admin.register(IndexSnapshot)
class IndexSnapshotAdmin(ReadOnlyAdmin):
    list_display = [
        "date",
        "window",
        "methodology",
        "rank",
        "rank_of",
        "unit",
        "name",
        "unit_kind",
        "total",
        "groups_shown",
    ]
    list_filter = [PublishedDateFilter, "window", "methodology", "unit_kind", "province"]
    ordering = ["-date", "window", "methodology", "unit_kind", "rank", "province"]
    search_fields = ["unit", "name"]
    show_full_result_count = False
    list_per_page = 100
    actions = ["recompute_for_date"]

    def get_queryset(self, request):
        # Only what readers see: the published run of each date.
        return current_snapshots().select_related(None)

    @admin.display(description=_("groups"))
    def groups_shown(self, obj):
        try:
            keys = [c.key for c in M.get(obj.methodology).columns]
        except M.MethodologyError:
            keys = sorted(obj.groups)
        return " · ".join(f"{key} {obj.groups[key]:.2f}" for key in keys if key in obj.groups)

    @admin.action(description=_("Recompute the index for the selected snapshots' dates"))
    def recompute_for_date(self, request, queryset):
        recompute_dates(self, request, queryset.values_list("date", flat=True).distinct())


@admin.register(IndexRun)
class IndexRunAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "kind",
        "date_from",
        "date_to",
        "status",
        "started_at",
        "finished_at",
        "duration",
        "fact_rows",
        "rows",
        "error_short",
    ]
    list_filter = ["status", "kind"]
    date_hierarchy = "started_at"
    ordering = ["-started_at"]
    show_full_result_count = False
    actions = ["recompute_for_date"]

    @admin.display(description=_("duration"))
    def duration(self, obj):
        if obj.finished_at is None:
            return "—"
        return f"{(obj.finished_at - obj.started_at).total_seconds():.1f} s"

    @admin.display(description=_("error"))
    def error_short(self, obj):
        return obj.error[:120]

    @admin.action(description=_("Recompute the index for the selected runs' dates"))
    def recompute_for_date(self, request, queryset):
        dates = []
        for date_from, date_to in queryset.values_list("date_from", "date_to"):
            dates.extend(services._dates(date_from, date_to))
        recompute_dates(self, request, dates)


@admin.register(IndexPublication)
class IndexPublicationAdmin(ReadOnlyAdmin):
    list_display = ["date", "run", "published_at"]
    ordering = ["-date"]
    date_hierarchy = "date"
    actions = ["recompute_for_date"]

    @admin.action(description=_("Recompute the index for the selected dates"))
    def recompute_for_date(self, request, queryset):
        recompute_dates(self, request, queryset.values_list("date", flat=True))


@admin.register(DailyFact)
class DailyFactAdmin(ReadOnlyAdmin):
    list_display = ["day", "center", "received", "finished", "open_total", "open_within_time"]
    list_filter = ["province"]
    list_select_related = ["center"]
    date_hierarchy = "day"
    ordering = ["-day", "center_id"]
    show_full_result_count = False
    search_fields = ["center__code"]


@admin.register(YearToDateFact)
class YearToDateFactAdmin(DailyFactAdmin):
    list_display = ["day", "center", "received", "finished", "finished_late", "paid_online"]


@admin.register(ProcedurePublication)
class ProcedurePublicationAdmin(admin.ModelAdmin):
    list_display = [
        "province",
        "procedure",
        "decision_date",
        "effective_date",
        "public_date",
        "components_complete",
    ]
    list_filter = ["province", "components_complete"]
    list_select_related = ["province", "procedure"]
    search_fields = ["procedure__code", "procedure__name_vi"]
    autocomplete_fields = ["province", "procedure"]
    date_hierarchy = "decision_date"
    show_full_result_count = False


@admin.register(OnlineService)
class OnlineServiceAdmin(admin.ModelAdmin):
    list_display = ["center", "procedure", "online_level", "available_from"]
    list_filter = ["online_level", "center__level", "center__province"]
    list_select_related = ["center", "procedure"]
    search_fields = ["center__code", "center__name", "procedure__code"]
    autocomplete_fields = ["center", "procedure"]
    show_full_result_count = False


@admin.register(CertifiedCopyService)
class CertifiedCopyServiceAdmin(admin.ModelAdmin):
    list_display = ["commune", "available_from"]
    list_filter = ["commune__province"]
    list_select_related = ["commune"]
    search_fields = ["commune__code", "commune__name"]
    autocomplete_fields = ["commune"]
    show_full_result_count = False

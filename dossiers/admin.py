"""Staff processing in Django admin.

Every dossier screen starts from ``dossiers_visible_to(request.user)``; objects are re-checked
(a foreign dossier is a 404, an action without a role a 403). Nothing is edited through admin
forms: every change is a button or a bulk action that calls a service."""

from __future__ import annotations

import re

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from dossiers import selectors, services
from dossiers.documents import DocumentIn
from dossiers.errors import DomainError, InvalidInput
from dossiers.models import (
    Channel,
    Dossier,
    Field,
    OutboxMessage,
    Payment,
    PaymentChannel,
    Petition,
    Procedure,
    ProcedureVersion,
    Rating,
    Timeliness,
)
from dossiers.selectors import STAFF_ACTORS, action_label
from dossiers.staff_forms import DeskReceiveForm, DeskStartForm, TransitionForm
from dossiers.workflow import Action
from portal.models import mask_citizen_id

CITIZEN_ID = re.compile(r"^\d{12}$")
BULK_LIMIT = 500
COUNT_CAP = 10_000


class CappedPaginator(Paginator):
    """Counts at most ``COUNT_CAP`` + 1 rows: a national changelist never runs COUNT(*) over
    millions of dossiers (beyond the cap the page links stop, the filters narrow)."""

    @cached_property
    def count(self):
        # Unordered: any COUNT_CAP + 1 rows will do, read from an index without sorting.
        return self.object_list.order_by()[: COUNT_CAP + 1].count()


# --- Catalogue --------------------------------------------------------------------------------
@admin.register(Field)
class FieldAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]


class ProcedureVersionInline(admin.TabularInline):
    model = ProcedureVersion
    extra = 0
    max_num = 20
    fields = [
        "valid_from",
        "limit_amount",
        "limit_unit",
        "online_limit_amount",
        "fee_vnd",
        "online_level",
    ]
    ordering = ["-valid_from"]

    def has_change_permission(self, request, obj=None):
        # Versions are never edited: a dossier keeps the rules it was filed under, so a new
        # limit is a new version (added below), not a change to an old one.
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Procedure)
class ProcedureAdmin(admin.ModelAdmin):
    list_display = ["code", "short_name", "level", "field"]
    list_filter = ["level", "field"]
    list_select_related = ["field"]
    search_fields = ["code", "search_name"]
    search_help_text = gettext_lazy("Code or name (accents optional)")
    inlines = [ProcedureVersionInline]
    readonly_fields = ["search_name"]
    show_full_result_count = False

    @admin.display(description=gettext_lazy("name"), ordering="name_vi")
    def short_name(self, obj):
        return obj.name_vi if len(obj.name_vi) <= 120 else obj.name_vi[:117] + "…"

    def get_search_results(self, request, queryset, search_term):
        from dossiers.catalogue import fold

        return super().get_search_results(request, queryset, fold(search_term))

    def save_model(self, request, obj, form, change):
        from dossiers.catalogue import fold

        obj.search_name = fold(f"{obj.code} {obj.name_vi} {obj.name_en}")
        super().save_model(request, obj, form, change)


@admin.register(ProcedureVersion)
class ProcedureVersionAdmin(admin.ModelAdmin):
    list_display = [
        "procedure",
        "valid_from",
        "limit_amount",
        "limit_unit",
        "fee_vnd",
        "online_level",
    ]
    list_filter = ["limit_unit", "online_level"]
    list_select_related = ["procedure"]
    search_fields = ["procedure__code"]
    autocomplete_fields = ["procedure"]
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.dossiers.exists():
            return False  # in use: add a new version instead
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj) and super().has_delete_permission(
            request, obj
        )


# --- Dossier list filters ---------------------------------------------------------------------
class ProcedureFilter(admin.SimpleListFilter):
    title = gettext_lazy("procedure")
    parameter_name = "procedure"

    def lookups(self, request, model_admin):
        # 53 procedures in the catalogue: a short list, one query, no per-dossier lookups.
        return [
            (str(pk), code)
            for pk, code in Procedure.objects.order_by("code").values_list("pk", "code")
        ]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(procedure_version__procedure_id=int(self.value()))
        return queryset


class DeadlineFilter(admin.SimpleListFilter):
    title = gettext_lazy("deadline")
    parameter_name = "deadline"

    def lookups(self, request, model_admin):
        return [
            ("due_today", gettext_lazy("due today")),
            ("overdue", gettext_lazy("overdue")),
            ("overdue_soon", gettext_lazy("due within one working day")),
            ("paused", gettext_lazy("paused (waiting for a supplement)")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "due_today":
            return selectors.is_due_today(queryset)
        if value == "overdue":
            return selectors.overdue(queryset)
        if value == "overdue_soon":
            return selectors.overdue_soon(queryset)
        if value == "paused":
            return selectors.paused(queryset)
        return queryset


class TimelinessFilter(admin.SimpleListFilter):
    title = gettext_lazy("timeliness")
    parameter_name = "timeliness"

    def lookups(self, request, model_admin):
        return Timeliness.choices

    def queryset(self, request, queryset):
        if self.value() in Timeliness.values:
            return selectors.with_timeliness(queryset, self.value())
        return queryset


# --- Dossiers ---------------------------------------------------------------------------------
DOSSIER_FIELDSETS = (
    (
        gettext_lazy("Dossier"),
        {"fields": ("code", "state", "center", "procedure_name", "applicant_display", "channel")},
    ),
    (
        gettext_lazy("Time"),
        {
            "fields": (
                "submitted_at",
                "accepted_at",
                "due_at",
                "rescheduled_due_at",
                "paused_at",
                "paused_minutes",
                "supplement_count",
                "apology_count",
                "finished_at",
                "returned_at",
                "timeliness",
            )
        },
    ),
    (
        gettext_lazy("Fee"),
        {"fields": ("fee_vnd", "payment_status", "payment_channel", "paid_at")},
    ),
    (
        gettext_lazy("Digitisation"),
        {
            "fields": (
                "presented_list",
                "digitised",
                "electronic_result",
                "reused_data",
                "population_data",
                "personal_storage",
                "synced",
            )
        },
    ),
)


@admin.register(Dossier)
class DossierAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "procedure_code",
        "center",
        "applicant_masked",
        "channel",
        "state",
        "accepted_at",
        "due_display",
    ]
    list_select_related = ["center", "procedure_version__procedure", "applicant"]
    list_filter = ["state", "channel", DeadlineFilter, TimelinessFilter, ProcedureFilter]
    search_fields = ["code"]  # the search itself is get_search_results: code or exact CCCD
    search_help_text = gettext_lazy("Dossier code (or its beginning) or a citizen ID (12 digits)")
    show_full_result_count = False
    paginator = CappedPaginator
    list_per_page = 50
    ordering = ["-submitted_at", "-id"]
    fieldsets = DOSSIER_FIELDSETS
    actions = ["bulk_accept", "bulk_start_processing", "bulk_finish", "bulk_return_result"]
    change_form_template = "admin/dossiers/dossier/change_form.html"
    change_list_template = "admin/dossiers/dossier/change_list.html"

    # -- scope and permissions
    def get_queryset(self, request):
        return selectors.dossiers_visible_to(request.user).select_related(
            "center", "procedure_version__procedure", "applicant"
        )

    def get_object(self, request, object_id, from_field=None):
        cache = request.__dict__.setdefault("_dossier_objects", {})
        if (object_id, from_field) not in cache:
            cache[object_id, from_field] = super().get_object(request, object_id, from_field)
        obj = cache[object_id, from_field]
        if obj is None:
            # Another centre's dossier looks exactly like one that does not exist.
            raise Http404(_("No such dossier."))
        return obj

    def _visible(self, request, obj) -> bool:
        cache = request.__dict__.setdefault("_dossier_visible", {})
        if obj.pk not in cache:
            cache[obj.pk] = selectors.dossiers_visible_to(request.user).filter(pk=obj.pk).exists()
        return cache[obj.pk]

    def _staff_roles(self, request, obj) -> set:
        """The user's staff roles at the dossier's centre (cached for the request)."""
        cache = request.__dict__.setdefault("_dossier_roles", {})
        if obj.center_id not in cache:
            cache[obj.center_id] = selectors.actor_roles(request.user, obj.center_id) & STAFF_ACTORS
        return cache[obj.center_id]

    def has_view_permission(self, request, obj=None):
        if not super().has_view_permission(request, obj):
            return False
        return obj is None or self._visible(request, obj)

    def has_change_permission(self, request, obj=None):
        """ "Change" means acting on the dossier: staff holding a role at its centre. Managers
        and citizens see it read-only."""
        if not super().has_change_permission(request, obj):
            return False
        if obj is None:
            return True
        return bool(self._staff_roles(request, obj))

    def has_add_permission(self, request):
        return False  # walk-ins come through the desk form (receive/), not the add form

    def has_delete_permission(self, request, obj=None):
        return False  # the history is the record

    def get_readonly_fields(self, request, obj=None):
        return [f for fieldset in DOSSIER_FIELDSETS for f in fieldset[1]["fields"]]

    def get_actions(self, request):
        if "_is_staff_member" not in request.__dict__:
            request._is_staff_member = request.user.is_superuser or bool(
                selectors.staff_roles_by_center(request.user)
            )
        if not request._is_staff_member:
            return {}  # managers see the lists read-only
        return super().get_actions(request)

    def changelist_view(self, request, extra_context=None):
        context = {"can_receive": selectors.receives_at_a_desk(request.user)}
        return super().changelist_view(request, {**context, **(extra_context or {})})

    # -- list columns
    @admin.display(
        description=gettext_lazy("procedure"), ordering="procedure_version__procedure__code"
    )
    def procedure_code(self, obj):
        return obj.procedure_version.procedure.code

    @admin.display(description=gettext_lazy("procedure"))
    def procedure_name(self, obj):
        procedure = obj.procedure_version.procedure
        return f"{procedure.code} · {procedure.name_vi} ({obj.procedure_version})"

    @admin.display(description=gettext_lazy("citizen ID"))
    def applicant_masked(self, obj):
        return mask_citizen_id(obj.applicant.citizen_id)

    @admin.display(description=gettext_lazy("applicant"))
    def applicant_display(self, obj):
        return (
            f"{selectors.person_name(obj.applicant)} · {mask_citizen_id(obj.applicant.citizen_id)}"
        )

    @admin.display(description=gettext_lazy("documents presented"))
    def presented_list(self, obj):
        return "; ".join(obj.presented_documents) or "—"

    @admin.display(description=gettext_lazy("due"), ordering="due_at")
    def due_display(self, obj):
        due = obj.effective_due_at
        if due is None:
            return "—"
        text = timezone.localtime(due).strftime("%d/%m/%Y %H:%M")
        if (
            obj.state in selectors.OPEN_STATE_VALUES
            and obj.paused_at is None
            and obj.due_at < timezone.now()
        ):
            return format_html('<strong class="overdue">{} ⚠</strong>', text)
        return text

    # -- search: code prefix or an exact CCCD (never a scan over names)
    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        if CITIZEN_ID.match(term):
            return queryset.filter(applicant__citizen_id=term), False
        return queryset.filter(Q(code=term.upper()) | Q(code__startswith=term.upper())), False

    # -- extra screens
    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("receive/", wrap(self.desk_view), name="dossiers_dossier_receive"),
            path("<path:object_id>/act/", wrap(self.transition_view), name="dossiers_dossier_act"),
        ] + super().get_urls()

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST":
            # No field is editable here; changes go through the buttons (act/).
            return HttpResponseNotAllowed(["GET"])
        return super().changeform_view(request, object_id, form_url, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        roles = self._staff_roles(request, obj)
        actions = selectors.allowed_actions_for(request.user, obj, roles) if roles else []
        context = {
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete": False,
            "timeline": selectors.dossier_timeline(obj),
            "documents": list(obj.documents.order_by("uploaded_at")[:100]),
            "payments": list(obj.payments.order_by("paid_at")[:20]),
            "staff_actions": [(a, action_label(a)) for a in actions],
            "act_url": reverse("admin:dossiers_dossier_act", args=[obj.pk]),
            "now_local": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "dossier": obj,
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, context)

    def transition_view(self, request, object_id):
        """One button: POST → the action's service → a message → back to the change page."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = self.get_object(request, unquote(object_id))
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        back = HttpResponseRedirect(reverse("admin:dossiers_dossier_change", args=[obj.pk]))
        form = TransitionForm(request.POST, request.FILES)
        if not form.is_valid():
            messages.error(
                request,
                _("The action could not be read: %(errors)s") % {"errors": form.errors.as_text()},
            )
            return back
        action = form.cleaned_data["action"]
        try:
            services.dossier_transition(
                dossier=obj, action=action, actor=request.user, **form.params_for(obj)
            )
        except DomainError as exc:
            messages.error(request, str(exc))
            return back
        messages.success(
            request,
            _("Dossier %(code)s: %(action)s — done.")
            % {"code": obj.code, "action": action_label(action)},
        )
        return back

    def desk_view(self, request):
        """The desk form: receive a walk-in dossier, then show its appointment slip."""
        if not selectors.receives_at_a_desk(request.user):
            raise PermissionDenied
        source = request.POST if request.method == "POST" else request.GET
        start = DeskStartForm(source or None, user=request.user)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Receive a walk-in dossier"),
            "start_form": start,
            "form": None,
        }
        if start.is_bound and start.is_valid():
            procedure = start.cleaned_data["procedure"]
            context["procedure"] = procedure
            context["version"] = procedure.versions.order_by("-valid_from").first()
            if request.method == "POST":
                form = DeskReceiveForm(
                    request.POST, request.FILES, user=request.user, procedure=procedure
                )
                if form.is_valid():
                    dossier = self._receive(request, form)
                    if dossier is not None:
                        return HttpResponseRedirect(
                            reverse("dossiers_staff:appointment_slip", args=[dossier.code])
                        )
            else:
                form = DeskReceiveForm(
                    initial={"center": start.cleaned_data["center"], "procedure": procedure},
                    user=request.user,
                    procedure=procedure,
                )
            context["form"] = form
        return TemplateResponse(request, "admin/dossiers/dossier/receive.html", context)

    def _receive(self, request, form) -> Dossier | None:
        data = form.cleaned_data
        documents = [DocumentIn(name) for name in data["documents"]]
        documents += [DocumentIn(f.name, f) for f in data["scans"]]
        try:
            with transaction.atomic():
                citizen = services.citizen_get_or_create(
                    citizen_id=data["citizen_id"], full_name=data["full_name"]
                )
                dossier = services.dossier_receive(
                    actor=request.user,
                    center=data["center"],
                    procedure=data["procedure"],
                    citizen=citizen,
                    documents=documents,
                    channel=Channel.IN_PERSON,
                    digitised=bool(data["scans"]),
                )
                if data["paid_cash"] and dossier.fee_vnd:
                    services.dossier_record_payment(
                        dossier=dossier,
                        actor=request.user,
                        channel=PaymentChannel.CASH,
                        amount_vnd=dossier.fee_vnd,
                        reference=data["receipt"] or f"CASH-{dossier.code}",
                    )
        except InvalidInput as exc:
            for field, errors in exc.fields.items():
                target = field if field in form.fields else None
                for error in errors:
                    form.add_error(target, error)
            form.add_error(None, str(exc))
            return None
        except DomainError as exc:
            form.add_error(None, str(exc))
            return None
        messages.success(request, _("Dossier %(code)s received.") % {"code": dossier.code})
        return dossier

    # -- bulk actions: each object re-checked by its service
    def _bulk(self, request, queryset, action: Action, **params):
        requested = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        across = request.POST.get("select_across") == "1"
        objects = list(queryset.order_by("pk")[:BULK_LIMIT])
        done, refused = 0, []
        for obj in objects:
            try:
                services.dossier_transition(
                    dossier=obj, action=action, actor=request.user, **params
                )
                done += 1
            except DomainError as exc:
                refused.append(f"{obj.code}: {exc}")
        label = action_label(action)
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(n)d dossier: %(action)s — done.", "%(n)d dossiers: %(action)s — done.", done
                )
                % {"n": done, "action": label},
                messages.SUCCESS,
            )
        if refused:
            shown = "; ".join(refused[:10]) + (" …" if len(refused) > 10 else "")
            self.message_user(
                request,
                ngettext(
                    "%(n)d dossier skipped: %(why)s",
                    "%(n)d dossiers skipped: %(why)s",
                    len(refused),
                )
                % {"n": len(refused), "why": shown},
                messages.WARNING,
            )
        unseen = 0 if across else len(set(requested) - {str(o.pk) for o in objects})
        if unseen:
            self.message_user(
                request,
                ngettext(
                    "%(n)d selected dossier was not found or is not yours.",
                    "%(n)d selected dossiers were not found or are not yours.",
                    unseen,
                )
                % {"n": unseen},
                messages.WARNING,
            )
        if across and queryset.count() > BULK_LIMIT:
            self.message_user(
                request,
                _("Only the first %(n)d dossiers were handled; run the action again for the rest.")
                % {"n": BULK_LIMIT},
                messages.WARNING,
            )

    @admin.action(description=gettext_lazy("Accept the selected dossiers"))
    def bulk_accept(self, request, queryset):
        self._bulk(request, queryset, Action.ACCEPT)

    @admin.action(description=gettext_lazy("Start processing the selected dossiers"))
    def bulk_start_processing(self, request, queryset):
        self._bulk(request, queryset, Action.START_PROCESSING)

    @admin.action(description=gettext_lazy("Finish the selected dossiers (paper result)"))
    def bulk_finish(self, request, queryset):
        self._bulk(request, queryset, Action.FINISH, electronic_result=False)

    @admin.action(description=gettext_lazy("Return the results of the selected dossiers"))
    def bulk_return_result(self, request, queryset):
        self._bulk(request, queryset, Action.RETURN_RESULT)


# --- Petitions, payments, ratings, outbox -------------------------------------------------------
@admin.register(Petition)
class PetitionAdmin(admin.ModelAdmin):
    list_display = ["code", "center", "subject", "status", "received_at", "due_at", "answered_at"]
    list_filter = ["status"]
    list_select_related = ["center"]
    search_fields = ["code"]
    show_full_result_count = False
    paginator = CappedPaginator
    ordering = ["-received_at"]
    readonly_fields = [
        "code",
        "center",
        "citizen_masked",
        "dossier",
        "subject",
        "body",
        "status",
        "received_at",
        "due_at",
        "answered_at",
        "answer",
        "satisfied",
        "repeated",
    ]
    fields = readonly_fields
    change_form_template = "admin/dossiers/petition/change_form.html"

    def get_queryset(self, request):
        return selectors.petitions_visible_to(request.user).select_related(
            "center", "citizen", "dossier"
        )

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(_("No such petition."))
        return obj

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("citizen ID"))
    def citizen_masked(self, obj):
        return mask_citizen_id(obj.citizen.citizen_id)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/answer/", wrap(self.answer_view), name="dossiers_petition_answer"
            )
        ] + super().get_urls()

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST":
            return HttpResponseNotAllowed(["GET"])
        extra = {
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
        }
        if object_id:
            obj = self.get_object(request, unquote(object_id))
            extra["petition_events"] = list(
                obj.events.select_related("actor").order_by("at", "id")[:100]
            )
            extra["can_answer"] = obj.status != Petition.Status.ANSWERED and bool(
                selectors.actor_roles(request.user, obj.center_id) & STAFF_ACTORS
            )
            extra["answer_url"] = reverse("admin:dossiers_petition_answer", args=[obj.pk])
        return super().changeform_view(
            request, object_id, form_url, {**extra, **(extra_context or {})}
        )

    def answer_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = self.get_object(request, unquote(object_id))
        try:
            services.petition_answer(
                petition=obj, actor=request.user, answer=request.POST.get("answer", "")
            )
            messages.success(request, _("Petition %(code)s answered.") % {"code": obj.code})
        except DomainError as exc:
            messages.error(request, str(exc))
        return HttpResponseRedirect(reverse("admin:dossiers_petition_change", args=[obj.pk]))


class ReadOnlyScopedAdmin(admin.ModelAdmin):
    """Payments and ratings: read-only, scoped through their dossier."""

    show_full_result_count = False
    paginator = CappedPaginator

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        return obj


@admin.register(Payment)
class PaymentAdmin(ReadOnlyScopedAdmin):
    list_display = ["reference", "dossier", "channel", "amount_vnd", "paid_at"]
    list_filter = ["channel"]
    list_select_related = ["dossier"]
    search_fields = ["reference"]
    ordering = ["-paid_at"]

    def get_queryset(self, request):
        return selectors.payments_visible_to(request.user).select_related("dossier")


@admin.register(Rating)
class RatingAdmin(ReadOnlyScopedAdmin):
    list_display = ["dossier", "satisfied", "rated_at"]
    list_filter = ["satisfied"]
    list_select_related = ["dossier"]
    ordering = ["-rated_at"]

    def get_queryset(self, request):
        return selectors.ratings_visible_to(request.user).select_related("dossier")


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyScopedAdmin):
    """Operators (superusers) check what was, or was not yet, sent."""

    list_display = ["created_at", "recipient", "subject", "attempts", "delivered_at"]
    list_filter = [("delivered_at", admin.EmptyFieldListFilter)]
    ordering = ["-created_at"]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

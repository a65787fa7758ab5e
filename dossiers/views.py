"""Citizen pages: the procedure catalogue, online submission, my dossiers and petitions,
tracking without login, and the mock payment gateway. Reads go through
``dossiers.selectors`` (dossiers only from ``dossiers_visible_to``), writes through
``dossiers.services``; a refused action comes back as a message on the page."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from rest_framework.exceptions import NotFound

from dossiers import forms, payments_gateway, selectors, services
from dossiers.api.throttling import tracking_allowed
from dossiers.api.views import document_response, procedures_with_current_version
from dossiers.catalogue import fold
from dossiers.errors import DomainError
from dossiers.models import Document, Level, OnlineLevel, Procedure
from dossiers.workflow import Action, State
from portal.models import ServiceCenter

PAGE_SIZE = 20
APOLOGY = "issue_apology"


def citizen_login_required(view):
    """Citizens log in through the identity provider, not the staff login."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("portal:login"))
        return view(request, *args, **kwargs)

    return wrapper


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _procedure_or_404(code: str) -> Procedure:
    procedure = procedures_with_current_version(Procedure.objects.filter(code=code)).first()
    if procedure is None:
        raise Http404(_("No such procedure."))
    procedure.version = procedure.current_versions[0] if procedure.current_versions else None
    return procedure


def _dossier_or_404(user, code: str):
    dossier = selectors.dossier_get_for(user, code)
    if dossier is None:
        raise Http404(_("No dossier with this code is visible to you."))
    return dossier


# --- Catalogue ------------------------------------------------------------------------------
def procedure_list(request):
    form = forms.CatalogueSearchForm(request.GET or None)
    procedures = Procedure.objects.all()
    if form.is_valid():
        key = fold(form.cleaned_data["q"] or "").strip()
        if key:
            procedures = procedures.filter(search_name__contains=key)
        if form.cleaned_data["level"]:
            procedures = procedures.filter(level=form.cleaned_data["level"])
        if form.cleaned_data["field"]:
            procedures = procedures.filter(field=form.cleaned_data["field"])
    page = _page(request, procedures_with_current_version(procedures).order_by("code"))
    for procedure in page:
        procedure.version = procedure.current_versions[0] if procedure.current_versions else None
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "dossiers/procedure_list.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


def procedure_detail(request, code):
    procedure = _procedure_or_404(code)
    online = procedure.version is not None and procedure.version.online_level != OnlineLevel.NONE
    return render(
        request,
        "dossiers/procedure_detail.html",
        {"procedure": procedure, "version": procedure.version, "online": online},
    )


def _centres_for(procedure, province, query: str):
    """Centres competent for the procedure's level in ``province``, filtered by an
    accent-insensitive search (a province has at most a few hundred communes)."""
    centres = ServiceCenter.objects.filter(province=province, level=procedure.level).order_by(
        "name"
    )
    key = fold(query or "").strip()
    if not key:
        return centres
    codes = [code for code, name in centres.values_list("code", "name") if key in fold(name)]
    return centres.filter(code__in=codes)


@citizen_login_required
@require_http_methods(["GET", "POST"])
def dossier_submit(request, code):
    procedure = _procedure_or_404(code)
    if procedure.version is None or procedure.version.online_level == OnlineLevel.NONE:
        messages.error(request, _("This procedure has no online service: file it at the desk."))
        return redirect("dossiers:procedure_detail", code=code)
    chooser = forms.CentreChoiceForm(request.GET or None)
    province = chooser.cleaned_data["province"] if chooser.is_valid() else None
    query = chooser.cleaned_data.get("q", "") if chooser.is_valid() else ""
    form = None
    if province is not None:
        centres = _centres_for(procedure, province, query)
        form = forms.SubmitForm(
            request.POST or None, request.FILES or None, procedure=procedure, centres=centres
        )
        if request.method == "POST" and form.is_valid():
            try:
                dossier = services.dossier_submit(
                    citizen=request.user,
                    center=form.cleaned_data["centre"],
                    procedure=procedure,
                    documents=form.documents(),
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    _("Dossier %(code)s was submitted. Keep its code to follow it.")
                    % {"code": dossier.code},
                )
                return redirect("dossiers:my_dossier", code=dossier.code)
    return render(
        request,
        "dossiers/submit.html",
        {
            "procedure": procedure,
            "version": procedure.version,
            "chooser": chooser,
            "province": province,
            "form": form,
            "provincial": procedure.level == Level.PROVINCIAL,
        },
        status=400 if request.method == "POST" else 200,
    )


# --- My dossiers ----------------------------------------------------------------------------
@citizen_login_required
def my_dossiers(request):
    dossiers = (
        selectors.dossiers_visible_to(request.user)
        .filter(applicant=request.user)
        .select_related("center", "procedure_version__procedure")
        .order_by("-submitted_at", "-id")
    )
    return render(request, "dossiers/my_dossiers.html", {"page": _page(request, dossiers)})


@citizen_login_required
def my_dossier(request, code):
    dossier = _dossier_or_404(request.user, code)
    timeline = selectors.dossier_timeline(dossier)
    documents = list(dossier.documents.all())
    allowed = selectors.allowed_actions_for(request.user, dossier)
    rating = selectors.ratings_visible_to(request.user).filter(dossier=dossier).first()
    expected_due = None
    if dossier.due_at is None and dossier.state == State.SUBMITTED:
        # Not accepted yet: the due time the desk would set if it accepted the dossier now.
        expected_due = services.due_at_for(
            dossier.procedure_version, dossier.channel, timezone.now()
        )
    context = {
        "dossier": dossier,
        "procedure": dossier.procedure_version.procedure,
        "timeline": timeline,
        "apologies": [
            (e, parse_datetime(str(e.data.get("new_due_at") or "")))
            for e in timeline
            if e.action == APOLOGY
        ],
        "inputs": [d for d in documents if d.kind != Document.Kind.RESULT],
        "results": [d for d in documents if d.kind == Document.Kind.RESULT],
        "payments": list(dossier.payments.all()),
        "rating": rating,
        "expected_due": expected_due,
        "can_supplement": Action.SUPPLEMENT in allowed,
        "can_pay": Action.RECORD_PAYMENT in allowed,
        "can_withdraw": Action.WITHDRAW in allowed,
        "can_rate": rating is None
        and dossier.applicant_id == request.user.pk
        and State(dossier.state) in services.RATED_STATES,
        "supplement_form": forms.SupplementForm(),
        "withdraw_form": forms.WithdrawForm(),
        "rating_form": forms.RatingForm(),
    }
    return render(request, "dossiers/my_dossier.html", context)


@citizen_login_required
def document_download(request, code, document_id):
    dossier = _dossier_or_404(request.user, code)
    try:
        return document_response(dossier, document_id)
    except NotFound as exc:
        raise Http404(str(exc.detail)) from exc


def _act(request, code, run):
    """Run a service for the citizen's action and come back to the dossier with a message."""
    dossier = _dossier_or_404(request.user, code)
    try:
        message = run(dossier)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, message)
    return redirect("dossiers:my_dossier", code=code)


@citizen_login_required
@require_POST
def dossier_supplement(request, code):
    _dossier_or_404(request.user, code)
    form = forms.SupplementForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose the document and its file."))
        return redirect("dossiers:my_dossier", code=code)

    def run(dossier):
        services.dossier_supplement(
            dossier=dossier,
            actor=request.user,
            documents=[(form.cleaned_data["name"], form.cleaned_data["file"])],
        )
        return _("Your supplement was sent; processing resumes.")

    return _act(request, code, run)


@citizen_login_required
@require_POST
def dossier_withdraw(request, code):
    form = forms.WithdrawForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""

    def run(dossier):
        services.dossier_withdraw(dossier=dossier, actor=request.user, reason=reason)
        return _("Your dossier was withdrawn.")

    return _act(request, code, run)


@citizen_login_required
@require_POST
def dossier_rate(request, code):
    _dossier_or_404(request.user, code)
    form = forms.RatingForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose satisfied or not satisfied."))
        return redirect("dossiers:my_dossier", code=code)

    def run(dossier):
        services.dossier_rate(
            dossier=dossier,
            citizen=request.user,
            satisfied=form.cleaned_data["satisfied"],
            comment=form.cleaned_data["comment"],
        )
        return _("Thank you for your rating.")

    return _act(request, code, run)


@citizen_login_required
@require_POST
def dossier_pay(request, code):
    dossier = _dossier_or_404(request.user, code)
    if Action.RECORD_PAYMENT not in selectors.allowed_actions_for(request.user, dossier):
        messages.error(request, _("No fee is due on this dossier now."))
        return redirect("dossiers:my_dossier", code=code)
    order = payments_gateway.order_create(dossier=dossier)
    return redirect(f"{reverse('dossiers:payment_gateway')}?order={order.token}")


# --- Mock payment gateway -------------------------------------------------------------------
@never_cache
@require_http_methods(["GET", "POST"])
def payment_gateway(request):
    """The national payment platform's page (mocked): the citizen confirms or cancels."""
    token = request.POST.get("order") or request.GET.get("order") or ""
    try:
        order = payments_gateway.order_read(token)
    except payments_gateway.CallbackRejected as exc:
        return render(request, "dossiers/gateway.html", {"error": exc.message}, status=400)
    if request.method == "POST":
        back = reverse("dossiers:my_dossier", kwargs={"code": order.dossier})
        if request.POST.get("decision") != "pay":
            messages.info(request, _("The payment was cancelled."))
            return redirect(back)
        try:
            payments_gateway.gateway_confirm(order)
        except payments_gateway.CallbackRejected as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("Payment %(ref)s of %(amount)s VND recorded.")
                % {"ref": order.reference, "amount": f"{order.amount_vnd:,}".replace(",", ".")},
            )
        return redirect(back)
    return render(request, "dossiers/gateway.html", {"order": order, "token": token})


# --- Petitions ------------------------------------------------------------------------------
@citizen_login_required
def my_petitions(request):
    petitions = (
        selectors.petitions_visible_to(request.user)
        .filter(citizen=request.user)
        .select_related("center", "dossier")
        .order_by("-received_at", "-id")
    )
    return render(request, "dossiers/my_petitions.html", {"page": _page(request, petitions)})


@citizen_login_required
@require_http_methods(["GET", "POST"])
def petition_new(request):
    dossier = None
    if request.GET.get("dossier"):
        dossier = _dossier_or_404(request.user, request.GET["dossier"])
    chooser = forms.CentreChoiceForm(request.GET or None)
    province = chooser.cleaned_data["province"] if chooser.is_valid() else None
    centres = (
        ServiceCenter.objects.filter(province=province).order_by("level", "name")
        if province
        else ServiceCenter.objects.none()
    )
    form = forms.PetitionForm(request.POST or None)
    if dossier is None:
        form.fields["centre"] = forms.CentreField(
            label=_("Service centre"), queryset=centres, to_field_name="code"
        )
    if request.method == "POST" and form.is_valid():
        try:
            petition = services.petition_file(
                citizen=request.user,
                center=dossier.center if dossier else form.cleaned_data["centre"],
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
                dossier=dossier,
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("Petition %(code)s was filed. The centre answers within 15 working days.")
                % {"code": petition.code},
            )
            return redirect("dossiers:my_petition", code=petition.code)
    return render(
        request,
        "dossiers/petition_new.html",
        {"form": form, "dossier": dossier, "chooser": chooser, "province": province},
        status=400 if request.method == "POST" else 200,
    )


def _petition_or_404(user, code):
    petition = (
        selectors.petitions_visible_to(user)
        .select_related("center", "dossier")
        .filter(code=code)
        .first()
    )
    if petition is None:
        raise Http404(_("No petition with this code is visible to you."))
    return petition


@citizen_login_required
def my_petition(request, code):
    petition = _petition_or_404(request.user, code)
    return render(
        request,
        "dossiers/my_petition.html",
        {
            "petition": petition,
            "events": list(petition.events.order_by("at", "id")[:100]),
            "can_rate": petition.answered_at is not None
            and petition.satisfied is None
            and petition.citizen_id == request.user.pk,
            "rating_form": forms.PetitionRatingForm(),
            "can_repeat": petition.answered_at is not None
            and not petition.repeated
            and petition.citizen_id == request.user.pk,
        },
    )


@citizen_login_required
@require_POST
def petition_rate(request, code):
    petition = _petition_or_404(request.user, code)
    form = forms.PetitionRatingForm(request.POST)
    if form.is_valid():
        try:
            services.petition_rate(
                petition=petition, citizen=request.user, satisfied=form.cleaned_data["satisfied"]
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Thank you for rating the answer."))
    return redirect("dossiers:my_petition", code=code)


@citizen_login_required
@require_POST
def petition_repeat(request, code):
    petition = _petition_or_404(request.user, code)
    try:
        services.petition_repeat(petition=petition, citizen=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Your petition has been raised again with the centre."))
    return redirect("dossiers:my_petition", code=code)


# --- Tracking without login -----------------------------------------------------------------
@never_cache
@require_http_methods(["GET", "POST"])
def track(request):
    form = forms.TrackingForm(request.POST or None)
    result, not_found, throttled = None, False, False
    if request.method == "POST":
        if not tracking_allowed(request):
            throttled = True
        elif form.is_valid():
            result = selectors.dossier_track(
                code=form.cleaned_data["code"].strip(),
                last4=form.cleaned_data["citizen_id_last4"],
            )
            not_found = result is None
    status = 429 if throttled else 404 if not_found else 200
    return render(
        request,
        "dossiers/track.html",
        {"form": form, "result": result, "not_found": not_found, "throttled": throttled},
        status=status,
    )

"""Citizen login through the national identity provider (mocked in development)."""

from __future__ import annotations

from django import forms
from django.contrib.auth import authenticate, login
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from portal.identity import IdentityError, identity_provider

SESSION_KEY = "identity_challenge"


class CitizenIdForm(forms.Form):
    citizen_id = forms.CharField(
        label=_("Citizen ID (CCCD, 12 digits)"),
        min_length=12,
        max_length=12,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "username", "pattern": r"\d{12}"}
        ),
    )

    def clean_citizen_id(self):
        value = self.cleaned_data["citizen_id"].strip()
        if not value.isdigit():
            raise forms.ValidationError(_("A citizen ID (CCCD) has exactly 12 digits."))
        return value


class OneTimeCodeForm(forms.Form):
    code = forms.CharField(
        label=_("One-time code"),
        min_length=6,
        max_length=6,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": r"\d{6}"}
        ),
    )


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("dossiers:my_dossiers")


@never_cache
@require_http_methods(["GET", "POST"])
def login_start(request):
    form = CitizenIdForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            challenge = identity_provider().start(citizen_id=form.cleaned_data["citizen_id"])
        except IdentityError as exc:
            form.add_error("citizen_id", str(exc))
        else:
            request.session[SESSION_KEY] = {"id": challenge.id, "citizen_id": challenge.citizen_id}
            # The code is shown once, in this answer; a reload does not show it again.
            return render(
                request,
                "portal/login_code.html",
                {
                    "form": OneTimeCodeForm(),
                    "challenge": challenge,
                    "next": _next_url(request),
                },
            )
    return render(request, "portal/login.html", {"form": form, "next": _next_url(request)})


@never_cache
@require_http_methods(["GET", "POST"])
def login_code(request):
    pending = request.session.get(SESSION_KEY)
    if not pending:
        return redirect(f"{reverse('portal:login')}?next={_next_url(request)}")
    form = OneTimeCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request,
            username=pending["citizen_id"],
            challenge_id=pending["id"],
            otp=form.cleaned_data["code"],
        )
        if user is not None:
            request.session.pop(SESSION_KEY, None)
            login(request, user)
            return redirect(_next_url(request))
        form.add_error("code", _("The code is wrong or has expired."))
    return render(
        request,
        "portal/login_code.html",
        {"form": form, "challenge": None, "next": _next_url(request)},
        status=400 if request.method == "POST" else 200,
    )

"""Forms of the staff screens in admin: the desk's walk-in form and the parameters of the
transition buttons. Forms only parse input; the services decide."""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dossiers.models import Procedure
from dossiers.selectors import desk_centers_for
from dossiers.workflow import Action
from portal.models import citizen_id_validator

STAFF_ACTIONS = [
    Action.ACCEPT,
    Action.REFUSE,
    Action.START_PROCESSING,
    Action.REQUEST_SUPPLEMENT,
    Action.SUPPLEMENT,
    Action.REQUEST_PAYMENT,
    Action.RECORD_PAYMENT,
    Action.ISSUE_APOLOGY,
    Action.FINISH,
    Action.RETURN_RESULT,
    Action.STOP,
]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class ProcedureChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        name = obj.name_vi if len(obj.name_vi) <= 110 else obj.name_vi[:107] + "…"
        return f"{obj.code} · {name}"


class DeskStartForm(forms.Form):
    """Step 1 at the desk: which centre and which procedure (decides the checklist)."""

    center = forms.ModelChoiceField(label=_("Service centre"), queryset=None)
    procedure = ProcedureChoiceField(label=_("Procedure"), queryset=None)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        centers = desk_centers_for(user).order_by("code")
        self.fields["center"].queryset = centers
        levels = set(centers.values_list("level", flat=True)[:50])
        self.fields["procedure"].queryset = (
            Procedure.objects.filter(level__in=levels).only("code", "name_vi").order_by("code")
        )
        if len(centers[:2]) == 1:
            self.fields["center"].initial = centers[0]


class DeskReceiveForm(DeskStartForm):
    """Step 2: the citizen, the documents checked on paper, optional scans, cash fee."""

    citizen_id = forms.CharField(
        label=_("Citizen ID (CCCD)"),
        max_length=12,
        min_length=12,
        validators=[citizen_id_validator],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    documents = forms.MultipleChoiceField(
        label=_("Documents checked"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        choices=(),
    )
    scans = MultipleFileField(label=_("Scans (PDF, JPEG, PNG)"), required=False)
    paid_cash = forms.BooleanField(label=_("Fee paid in cash now"), required=False)
    receipt = forms.CharField(label=_("Receipt number"), max_length=64, required=False)

    def __init__(self, *args, procedure: Procedure | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        names = procedure.required_documents if procedure else []
        self.fields["documents"].choices = [(n, n) for n in names]
        self.fields["center"].widget = forms.HiddenInput()
        self.fields["procedure"].widget = forms.HiddenInput()


def parse_local_datetime(value: str) -> datetime | None:
    """A ``datetime-local`` input (no zone) read in the centre's zone, Asia/Ho_Chi_Minh."""
    try:
        naive = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    if timezone.is_aware(naive):
        return naive
    return timezone.make_aware(naive, timezone.get_current_timezone())


class TransitionForm(forms.Form):
    """One button on the change page: the action and the parameters it needs."""

    action = forms.ChoiceField(choices=[(str(a), str(a)) for a in STAFF_ACTIONS])
    reason = forms.CharField(required=False, max_length=2000)
    new_due_at = forms.CharField(required=False, max_length=40)
    electronic_result = forms.BooleanField(required=False)
    result_document = forms.FileField(required=False)
    amount_vnd = forms.IntegerField(required=False, min_value=1)
    reference = forms.CharField(required=False, max_length=64)
    documents = forms.CharField(required=False, max_length=4000)

    def params_for(self, dossier) -> dict:
        """The keyword arguments of the action's service."""
        data = self.cleaned_data
        action = Action(data["action"])
        if action in (Action.REFUSE, Action.STOP, Action.REQUEST_SUPPLEMENT):
            return {"reason": data["reason"]}
        if action == Action.ISSUE_APOLOGY:
            return {
                "reason": data["reason"],
                "new_due_at": parse_local_datetime(data["new_due_at"]),
            }
        if action == Action.FINISH:
            params = {"electronic_result": data["electronic_result"]}
            if data["result_document"]:
                params["result_document"] = data["result_document"]
            return params
        if action == Action.REQUEST_PAYMENT:
            return {"amount_vnd": data["amount_vnd"]} if data["amount_vnd"] else {}
        if action == Action.RECORD_PAYMENT:
            return {
                "channel": "cash",
                "amount_vnd": data["amount_vnd"] or dossier.fee_vnd,
                # One cash receipt per dossier unless the desk types its receipt number:
                # a double click records the payment once.
                "reference": data["reference"] or f"CASH-{dossier.code}",
            }
        if action == Action.SUPPLEMENT:
            names = [line.strip() for line in data["documents"].splitlines() if line.strip()]
            return {"documents": names}
        return {}

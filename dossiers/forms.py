"""Forms of the citizen pages. They check shapes and sizes; the services check the rules."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from dossiers.models import Field, Level
from portal.models import Province

MAX_TEXT = 2000
ACCEPT = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"


class CatalogueSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Name or code"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("e.g. khai sinh")}),
    )
    level = forms.ChoiceField(
        label=_("Level"), required=False, choices=[("", _("All levels")), *Level.choices]
    )
    field = forms.ModelChoiceField(
        label=_("Field"),
        required=False,
        queryset=Field.objects.all(),
        to_field_name="code",
        empty_label=_("All fields"),
    )


class CentreChoiceForm(forms.Form):
    """Step 1 of submitting: the province, then (for commune procedures) a search box."""

    province = forms.ModelChoiceField(
        label=_("Province or city"),
        queryset=Province.objects.all(),
        empty_label=_("Choose a province"),
        required=False,
    )
    q = forms.CharField(
        label=_("Search a commune or ward"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "data-filter-target": "id_centre"}),
    )


class CentreField(forms.ModelChoiceField):
    def label_from_instance(self, centre):
        return centre.name


class SubmitForm(forms.Form):
    """Step 2: the centre and one upload per document the procedure requires."""

    def __init__(self, *args, procedure, centres, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["centre"] = CentreField(
            label=_("Service centre"),
            queryset=centres,
            to_field_name="code",
            empty_label=_("Choose a centre"),
        )
        self.document_names = list(procedure.required_documents or [])
        for index, name in enumerate(self.document_names):
            self.fields[f"document_{index}"] = forms.FileField(
                label=name,
                required=True,
                allow_empty_file=True,  # the service explains an empty file
                widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
                help_text=_("PDF, JPEG or PNG."),
            )

    def documents(self) -> list[tuple[str, object]]:
        return [
            (name, self.cleaned_data[f"document_{i}"]) for i, name in enumerate(self.document_names)
        ]


class SupplementForm(forms.Form):
    name = forms.CharField(label=_("Document"), max_length=200)
    file = forms.FileField(
        label=_("File"),
        allow_empty_file=True,
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
        help_text=_("PDF, JPEG or PNG."),
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"), required=False, max_length=MAX_TEXT, widget=forms.Textarea
    )


class RatingForm(forms.Form):
    satisfied = forms.TypedChoiceField(
        label=_("Are you satisfied with how your dossier was handled?"),
        choices=[("1", _("Satisfied")), ("0", _("Not satisfied"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment (optional)"), required=False, max_length=MAX_TEXT, widget=forms.Textarea
    )


class PetitionForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(label=_("Your petition"), max_length=5000, widget=forms.Textarea)


class PetitionRatingForm(forms.Form):
    satisfied = forms.TypedChoiceField(
        label=_("Are you satisfied with the answer?"),
        choices=[("1", _("Satisfied")), ("0", _("Not satisfied"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )


class TrackingForm(forms.Form):
    code = forms.CharField(label=_("Dossier code"), max_length=40)
    citizen_id_last4 = forms.RegexField(
        label=_("Last 4 digits of the applicant's citizen ID"),
        regex=r"^\d{4}$",
        max_length=4,
        error_messages={"invalid": _("Give the last 4 digits of the citizen ID.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

"""django-filter filter sets of the API (query parameters documented in the schema)."""

from __future__ import annotations

from datetime import UTC

import django_filters as filters
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError

from dossiers.catalogue import fold
from dossiers.models import (
    Channel,
    Dossier,
    DossierState,
    Level,
    OnlineLevel,
    PaymentStatus,
    Petition,
    Procedure,
)
from dossiers.selectors import is_due_today, overdue
from portal.models import Commune, ServiceCenter

MAX_QUERY = 100


class InstantFilter(filters.IsoDateTimeFilter):
    """An ISO 8601 instant, compared in UTC: PostgreSQL refuses offsets beyond ±15:59 that
    Python accepts (e.g. +23:43), and an instant near year 1 or 9999 may not convert at all."""

    def filter(self, qs, value):
        if value is not None:
            try:
                value = value.astimezone(UTC)
            except OverflowError as exc:
                raise ValidationError(
                    {self.field_name: [_("Date and time out of range.")]}
                ) from exc
        return super().filter(qs, value)


class ProcedureFilter(filters.FilterSet):
    q = filters.CharFilter(
        method="search", max_length=MAX_QUERY, label=_("Search by name or code (accents optional)")
    )
    level = filters.ChoiceFilter(choices=Level.choices)
    field = filters.CharFilter(field_name="field__code", max_length=60)
    online_level = filters.ChoiceFilter(
        method="by_online_level", choices=OnlineLevel.choices, label=_("Online level")
    )

    class Meta:
        model = Procedure
        fields = ["q", "level", "field", "online_level"]

    def search(self, queryset, name, value):
        key = fold(value).strip()
        return queryset.filter(search_name__contains=key) if key else queryset

    def by_online_level(self, queryset, name, value):
        return queryset.filter(versions__online_level=value).distinct()


class CommuneFilter(filters.FilterSet):
    province = filters.CharFilter(field_name="province_id", max_length=2)
    kind = filters.ChoiceFilter(choices=Commune.Kind.choices)
    q = filters.CharFilter(field_name="name", lookup_expr="icontains", max_length=MAX_QUERY)

    class Meta:
        model = Commune
        fields = ["province", "kind", "q"]


class CentreFilter(filters.FilterSet):
    province = filters.CharFilter(field_name="province_id", max_length=2)
    level = filters.ChoiceFilter(choices=ServiceCenter.Level.choices)
    q = filters.CharFilter(field_name="name", lookup_expr="icontains", max_length=MAX_QUERY)

    class Meta:
        model = ServiceCenter
        fields = ["province", "level", "q"]


class DossierFilter(filters.FilterSet):
    state = filters.MultipleChoiceFilter(choices=DossierState.choices)
    channel = filters.ChoiceFilter(choices=Channel.choices)
    payment_status = filters.ChoiceFilter(choices=PaymentStatus.choices)
    procedure = filters.CharFilter(field_name="procedure_version__procedure__code", max_length=20)
    centre = filters.CharFilter(field_name="center__code", max_length=8)
    submitted_after = InstantFilter(field_name="submitted_at", lookup_expr="gte")
    submitted_before = InstantFilter(field_name="submitted_at", lookup_expr="lt")
    due_today = filters.BooleanFilter(method="by_due_today", label=_("Due today"))
    overdue = filters.BooleanFilter(method="by_overdue", label=_("Overdue"))

    class Meta:
        model = Dossier
        fields = ["state", "channel", "payment_status", "procedure", "centre"]

    def by_due_today(self, queryset, name, value):
        if value is None:
            return queryset
        due = is_due_today(queryset)
        return due if value else queryset.exclude(pk__in=due.values("pk"))

    def by_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        late = overdue(queryset)
        return late if value else queryset.exclude(pk__in=late.values("pk"))


class PetitionFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=Petition.Status.choices)
    centre = filters.CharFilter(field_name="center__code", max_length=8)
    dossier = filters.CharFilter(field_name="dossier__code", max_length=40)

    class Meta:
        model = Petition
        fields = ["status", "centre", "dossier"]

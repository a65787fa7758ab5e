"""Serializers: shapes of the API's input and output. Input serializers only check types and
sizes; every rule of the domain is checked by the service they hand the data to."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from dossiers.models import (
    Document,
    Dossier,
    DossierEvent,
    DossierState,
    Field,
    OnlineLevel,
    Payment,
    PaymentChannel,
    Petition,
    Procedure,
    Rating,
    TimeUnit,
)
from dossiers.workflow import Action
from portal.models import Commune, Province, ServiceCenter

MAX_TEXT = 2000
MAX_DOCUMENTS = 20


# --- Reference data -----------------------------------------------------------------------------
# Integer model fields are declared explicitly: their derived maximum depends on the database
# backend, and the committed schema must not.
class ProvinceSerializer(serializers.ModelSerializer):
    area_km2 = serializers.IntegerField(read_only=True)

    class Meta:
        model = Province
        fields = ["code", "name", "short_name", "population_share", "area_km2"]


class CommuneSerializer(serializers.ModelSerializer):
    province = serializers.CharField(source="province_id", read_only=True)
    centre = serializers.SerializerMethodField()

    class Meta:
        model = Commune
        fields = ["code", "name", "short_name", "kind", "province", "centre"]

    @extend_schema_field(OpenApiTypes.STR)
    def get_centre(self, commune) -> str:
        return ServiceCenter.code_for(province_code=commune.province_id, commune_code=commune.code)


class CentreSerializer(serializers.ModelSerializer):
    province = serializers.CharField(source="province_id", read_only=True)
    commune = serializers.CharField(source="commune_id", read_only=True, allow_null=True)

    class Meta:
        model = ServiceCenter
        fields = ["code", "name", "level", "province", "commune"]


class FieldSerializer(serializers.ModelSerializer):
    class Meta:
        model = Field
        fields = ["code", "name"]


class TimeLimitSerializer(serializers.Serializer):
    amount = serializers.IntegerField()
    unit = serializers.ChoiceField(choices=TimeUnit.choices)
    online_amount = serializers.IntegerField(allow_null=True)


class ProcedureSerializer(serializers.ModelSerializer):
    field = FieldSerializer(read_only=True)
    time_limit = serializers.SerializerMethodField()
    fee_vnd = serializers.SerializerMethodField()
    online_level = serializers.SerializerMethodField()
    valid_from = serializers.SerializerMethodField()
    required_documents = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Procedure
        fields = [
            "code",
            "name_vi",
            "name_en",
            "level",
            "field",
            "agency",
            "required_documents",
            "time_limit",
            "fee_vnd",
            "online_level",
            "valid_from",
        ]

    @staticmethod
    def _version(procedure):
        versions = getattr(procedure, "current_versions", None)
        return versions[0] if versions else None

    @extend_schema_field(TimeLimitSerializer(allow_null=True))
    def get_time_limit(self, procedure):
        v = self._version(procedure)
        if v is None:
            return None
        return {
            "amount": v.limit_amount,
            "unit": v.limit_unit,
            "online_amount": v.online_limit_amount,
        }

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_fee_vnd(self, procedure):
        v = self._version(procedure)
        return v.fee_vnd if v else None

    @extend_schema_field(serializers.ChoiceField(choices=OnlineLevel.choices, allow_null=True))
    def get_online_level(self, procedure):
        v = self._version(procedure)
        return v.online_level if v else None

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_valid_from(self, procedure):
        v = self._version(procedure)
        return v.valid_from if v else None


# --- Dossiers -----------------------------------------------------------------------------------
class ProcedureRefSerializer(serializers.Serializer):
    code = serializers.CharField(source="procedure.code")
    name_vi = serializers.CharField(source="procedure.name_vi")
    name_en = serializers.CharField(source="procedure.name_en")


class CentreRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class DossierSerializer(serializers.ModelSerializer):
    procedure = ProcedureRefSerializer(source="procedure_version", read_only=True)
    centre = CentreRefSerializer(source="center", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    applicant = serializers.CharField(source="applicant.masked_citizen_id", read_only=True)
    payment_channel = serializers.ChoiceField(
        choices=PaymentChannel.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Dossier
        fields = [
            "code",
            "procedure",
            "centre",
            "applicant",
            "channel",
            "state",
            "state_label",
            "submitted_at",
            "accepted_at",
            "due_at",
            "rescheduled_due_at",
            "finished_at",
            "returned_at",
            "paused_at",
            "supplement_count",
            "apology_count",
            "fee_vnd",
            "payment_status",
            "payment_channel",
            "paid_at",
            "electronic_result",
        ]
        read_only_fields = fields

    def to_representation(self, dossier):
        """The declared fields, built directly: DRF's field-by-field path (attribute lookups
        through ``inspect.signature`` for every callable, one nested serializer per row)
        took more time than the query on a list page. ``tests/dossiers/api`` checks the
        result equals the declared serializer's, field for field."""
        procedure = dossier.procedure_version.procedure
        return {
            "code": dossier.code,
            "procedure": {
                "code": procedure.code,
                "name_vi": procedure.name_vi,
                "name_en": procedure.name_en,
            },
            "centre": {"code": dossier.center.code, "name": dossier.center.name},
            "applicant": dossier.applicant.masked_citizen_id,
            "channel": dossier.channel,
            "state": dossier.state,
            "state_label": str(dossier.get_state_display()),
            "submitted_at": _instant(dossier.submitted_at),
            "accepted_at": _instant(dossier.accepted_at),
            "due_at": _instant(dossier.due_at),
            "rescheduled_due_at": _instant(dossier.rescheduled_due_at),
            "finished_at": _instant(dossier.finished_at),
            "returned_at": _instant(dossier.returned_at),
            "paused_at": _instant(dossier.paused_at),
            "supplement_count": dossier.supplement_count,
            "apology_count": dossier.apology_count,
            "fee_vnd": dossier.fee_vnd,
            "payment_status": dossier.payment_status,
            "payment_channel": dossier.payment_channel,
            "paid_at": _instant(dossier.paid_at),
            "electronic_result": dossier.electronic_result,
        }


_INSTANT = serializers.DateTimeField()


def _instant(value) -> str | None:
    """A time as the API writes every time (DRF's DateTimeField: local time zone, ISO 8601)."""
    return None if value is None else _INSTANT.to_representation(value)


class EventSerializer(serializers.ModelSerializer):
    from_state = serializers.IntegerField(allow_null=True)
    to_state = serializers.IntegerField(allow_null=True)

    class Meta:
        model = DossierEvent
        fields = ["action", "from_state", "to_state", "at", "note"]


class DocumentSerializer(serializers.ModelSerializer):
    size = serializers.IntegerField(read_only=True)

    class Meta:
        model = Document
        fields = ["id", "kind", "name", "content_type", "size", "sha256", "uploaded_at"]


class PaymentSerializer(serializers.ModelSerializer):
    amount_vnd = serializers.IntegerField(read_only=True)

    class Meta:
        model = Payment
        fields = ["reference", "channel", "amount_vnd", "paid_at"]


class RatingSerializer(serializers.ModelSerializer):
    dossier = serializers.CharField(source="dossier.code", read_only=True)

    class Meta:
        model = Rating
        fields = ["dossier", "satisfied", "comment", "rated_at"]
        read_only_fields = ["dossier", "rated_at"]
        extra_kwargs = {"comment": {"max_length": MAX_TEXT, "required": False}}


class DossierDetailSerializer(DossierSerializer):
    events = EventSerializer(source="timeline", many=True, read_only=True)
    documents = DocumentSerializer(source="document_list", many=True, read_only=True)
    payments = PaymentSerializer(source="payment_list", many=True, read_only=True)
    allowed_actions = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta(DossierSerializer.Meta):
        fields = DossierSerializer.Meta.fields + [
            "events",
            "documents",
            "payments",
            "allowed_actions",
        ]
        read_only_fields = fields

    def to_representation(self, dossier):
        """Built directly like the rows (also checked against the declared fields): building
        the nested ModelSerializers' fields took longer than a submission's own queries."""
        return super().to_representation(dossier) | {
            "events": [
                {
                    "action": e.action,
                    "from_state": e.from_state,
                    "to_state": e.to_state,
                    "at": _instant(e.at),
                    "note": e.note,
                }
                for e in dossier.timeline
            ],
            "documents": [
                {
                    "id": d.id,
                    "kind": d.kind,
                    "name": d.name,
                    "content_type": d.content_type,
                    "size": d.size,
                    "sha256": d.sha256,
                    "uploaded_at": _instant(d.uploaded_at),
                }
                for d in dossier.document_list
            ],
            "payments": [
                {
                    "reference": p.reference,
                    "channel": p.channel,
                    "amount_vnd": p.amount_vnd,
                    "paid_at": _instant(p.paid_at),
                }
                for p in dossier.payment_list
            ],
            "allowed_actions": [str(a) for a in dossier.allowed_actions],
        }


class DossierCreateSerializer(serializers.Serializer):
    """Online submission. JSON (no files) or multipart; ``document_names[i]`` names
    ``documents[i]`` as the procedure lists it (e.g. "Giấy chứng sinh")."""

    procedure = serializers.SlugRelatedField(slug_field="code", queryset=Procedure.objects.all())
    centre = serializers.SlugRelatedField(slug_field="code", queryset=ServiceCenter.objects.all())
    document_names = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=MAX_DOCUMENTS
    )
    documents = serializers.ListField(
        child=serializers.FileField(max_length=200, allow_empty_file=True),
        required=False,
        max_length=MAX_DOCUMENTS,
    )

    def validate(self, attrs):
        names = attrs.get("document_names", [])
        files = attrs.get("documents", [])
        if files and len(files) != len(names):
            raise serializers.ValidationError(
                {"document_names": [_("Give one name for each uploaded document.")]}
            )
        return attrs

    def document_pairs(self):
        names = self.validated_data.get("document_names", [])
        files = self.validated_data.get("documents", [])
        return [(name, files[i] if i < len(files) else None) for i, name in enumerate(names)]


class OptionalBooleanField(serializers.BooleanField):
    """Absent from a multipart form means "not given", not False (DRF's checkbox default)."""

    default_empty_html = serializers.empty


class TransitionSerializer(serializers.Serializer):
    """An action on a dossier and its parameters (only those the action takes)."""

    action = serializers.ChoiceField(choices=[a.value for a in Action])
    reason = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True)
    new_due_at = serializers.DateTimeField(required=False)
    electronic_result = OptionalBooleanField(required=False)
    result_document = serializers.FileField(max_length=200, allow_empty_file=True, required=False)
    channel = serializers.ChoiceField(choices=PaymentChannel.choices, required=False)
    amount_vnd = serializers.IntegerField(min_value=0, max_value=10**12, required=False)
    reference = serializers.RegexField(r"^[A-Za-z0-9_.:-]{1,64}$", required=False)
    document_names = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=MAX_DOCUMENTS
    )
    documents = serializers.ListField(
        child=serializers.FileField(max_length=200, allow_empty_file=True),
        required=False,
        max_length=MAX_DOCUMENTS,
    )

    def params(self) -> dict:
        data = dict(self.validated_data)
        data.pop("action")
        names = data.pop("document_names", [])
        files = data.pop("documents", [])
        if files and len(files) != len(names):
            raise serializers.ValidationError(
                {"document_names": [_("Give one name for each uploaded document.")]}
            )
        if names:
            data["documents"] = [
                (name, files[i] if i < len(files) else None) for i, name in enumerate(names)
            ]
        return data


class RatingInSerializer(serializers.Serializer):
    satisfied = serializers.BooleanField()
    comment = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True)


class PaymentOrderSerializer(serializers.Serializer):
    reference = serializers.CharField()
    dossier = serializers.CharField()
    amount_vnd = serializers.IntegerField()
    gateway_url = serializers.CharField()
    order = serializers.CharField()


class PaymentCallbackSerializer(serializers.Serializer):
    status = serializers.CharField()
    reference = serializers.CharField()
    payment = PaymentSerializer()


class TrackingInSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=40)
    citizen_id_last4 = serializers.RegexField(
        r"^\d{4}$", error_messages={"invalid": _("Give the last 4 digits of the citizen ID.")}
    )


class TrackingSerializer(serializers.Serializer):
    code = serializers.CharField()
    state = serializers.ChoiceField(choices=DossierState.choices)
    state_label = serializers.CharField()
    due_at = serializers.DateTimeField(allow_null=True)


class PetitionSerializer(serializers.ModelSerializer):
    centre = serializers.CharField(source="center.code", read_only=True)
    dossier = serializers.CharField(source="dossier.code", read_only=True, allow_null=True)

    class Meta:
        model = Petition
        fields = [
            "code",
            "centre",
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
        read_only_fields = fields


class PetitionCreateSerializer(serializers.Serializer):
    centre = serializers.SlugRelatedField(
        slug_field="code", queryset=ServiceCenter.objects.all(), required=False
    )
    dossier = serializers.CharField(max_length=40, required=False)
    subject = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=5000)

    def validate(self, attrs):
        if not attrs.get("centre") and not attrs.get("dossier"):
            raise serializers.ValidationError(
                _("Name the centre or the dossier the petition is about.")
            )
        return attrs


class PetitionAnswerSerializer(serializers.Serializer):
    answer = serializers.CharField(max_length=5000)


class PetitionRatingSerializer(serializers.Serializer):
    satisfied = serializers.BooleanField()

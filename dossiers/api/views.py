"""REST API v1. Views are thin: they read through ``dossiers.selectors`` (dossiers only ever
from ``dossiers_visible_to``) and write through ``dossiers.services``."""

from __future__ import annotations

from pathlib import PurePath

from django.db.models import Prefetch
from django.http import FileResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from dossiers import payments_gateway, selectors, services
from dossiers.api import filters, serializers
from dossiers.api.exceptions import error_body
from dossiers.api.idempotency import run_idempotent
from dossiers.api.pagination import (
    ByCodePagination,
    NewestIdPagination,
    RecentFirstPagination,
)
from dossiers.api.throttling import TrackingThrottle
from dossiers.errors import TransitionNotAllowed
from dossiers.models import Field, Procedure, ProcedureVersion
from dossiers.workflow import Action
from portal.models import Commune, Province, ServiceCenter

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Retry key: a repeated request with the same key returns the first answer.",
)
WRITE_PARSERS = [JSONParser, MultiPartParser, FormParser]
# Token first, so an anonymous request gets 401 with ``WWW-Authenticate: Token``.
AUTHENTICATION = [TokenAuthentication, SessionAuthentication]


def procedures_with_current_version(queryset=None):
    """Procedures with ``current_versions`` (newest version in force today first)."""
    today = timezone.localdate()
    versions = ProcedureVersion.objects.filter(valid_from__lte=today).order_by("-valid_from")
    if queryset is None:
        queryset = Procedure.objects.all()
    return queryset.select_related("field").prefetch_related(
        Prefetch("versions", queryset=versions, to_attr="current_versions")
    )


# --- Public reference data ------------------------------------------------------------------
class PublicReadOnly(viewsets.ReadOnlyModelViewSet):
    permission_classes = [permissions.AllowAny]
    pagination_class = ByCodePagination
    lookup_field = "code"
    lookup_value_regex = r"[^/]+"


@extend_schema(tags=["catalogue"])
class ProcedureViewSet(PublicReadOnly):
    """The national procedure catalogue with the rules in force today."""

    serializer_class = serializers.ProcedureSerializer
    filterset_class = filters.ProcedureFilter

    def get_queryset(self):
        return procedures_with_current_version()


@extend_schema(tags=["catalogue"])
class FieldViewSet(PublicReadOnly):
    """Fields of administration (lĩnh vực)."""

    serializer_class = serializers.FieldSerializer
    queryset = Field.objects.all()


@extend_schema(tags=["units"])
class ProvinceViewSet(PublicReadOnly):
    """The 34 provinces and centrally-run cities (administrative units, official codes)."""

    serializer_class = serializers.ProvinceSerializer
    queryset = Province.objects.all()


@extend_schema(tags=["units"])
class CommuneViewSet(PublicReadOnly):
    """Communes, wards and special zones (administrative units, official codes)."""

    serializer_class = serializers.CommuneSerializer
    queryset = Commune.objects.all()
    filterset_class = filters.CommuneFilter


@extend_schema(tags=["units"])
class CentreViewSet(PublicReadOnly):
    """Public administration service centres: ``P42`` provincial, ``C18073`` commune."""

    serializer_class = serializers.CentreSerializer
    queryset = ServiceCenter.objects.all()
    filterset_class = filters.CentreFilter


# --- Dossiers -------------------------------------------------------------------------------
def dossier_or_404(user, code: str):
    dossier = selectors.dossier_get_for(user, code)
    if dossier is None:
        raise NotFound(_("No dossier with this code is visible to you."))
    return dossier


def dossier_detail(user, code: str):
    """The dossier with everything the detail shows, re-read after a change."""
    dossier = dossier_or_404(user, code)
    dossier.timeline = selectors.dossier_timeline(dossier)
    dossier.document_list = list(dossier.documents.all())
    dossier.payment_list = list(dossier.payments.all())
    dossier.allowed_actions = selectors.allowed_actions_for(user, dossier)
    return dossier


def submitted_detail(user, dossier):
    """The detail of a dossier ``user`` has just submitted, from the objects at hand rather
    than re-read (the same answer as ``dossier_detail``): its centre, rules and applicant are
    the ones the service used; the history is the one submit event; no payment exists yet;
    documents only if files were uploaded."""
    dossier.timeline = selectors.dossier_timeline(dossier)
    dossier.document_list = list(dossier.documents.all()) if dossier.digitised else []
    dossier.payment_list = []
    dossier.allowed_actions = selectors.allowed_actions_for(user, dossier)
    return dossier


@extend_schema(tags=["dossiers"])
class DossierViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Dossiers visible to you: a citizen's own, the dossiers of a staff member's centres."""

    authentication_classes = AUTHENTICATION
    permission_classes = [permissions.IsAuthenticated]
    pagination_class = RecentFirstPagination
    filterset_class = filters.DossierFilter
    lookup_field = "code"
    lookup_value_regex = r"[^/]+"
    parser_classes = WRITE_PARSERS

    def get_queryset(self):
        return selectors.dossiers_visible_to(self.request.user).select_related(
            "center", "procedure_version__procedure", "applicant"
        )

    def get_serializer_class(self):
        if self.action == "create":
            return serializers.DossierCreateSerializer
        if self.action == "retrieve":
            return serializers.DossierDetailSerializer
        return serializers.DossierSerializer

    def retrieve(self, request, *args, **kwargs):
        dossier = dossier_detail(request.user, kwargs["code"])
        return Response(serializers.DossierDetailSerializer(dossier).data)

    @extend_schema(
        summary="Submit a dossier online",
        parameters=[IDEMPOTENCY_PARAMETER],
        request={
            "application/json": serializers.DossierCreateSerializer,
            "multipart/form-data": serializers.DossierCreateSerializer,
        },
        responses={201: serializers.DossierDetailSerializer},
    )
    def create(self, request, *args, **kwargs):
        def submit():
            form = serializers.DossierCreateSerializer(data=request.data)
            form.is_valid(raise_exception=True)
            dossier = services.dossier_submit(
                citizen=request.user,
                center=form.validated_data["centre"],
                procedure=form.validated_data["procedure"],
                documents=form.document_pairs(),
            )
            data = serializers.DossierDetailSerializer(submitted_detail(request.user, dossier)).data
            return Response(data, status=status.HTTP_201_CREATED)

        return run_idempotent(request, "dossier_submit", submit)

    @extend_schema(
        summary="Run an action on the dossier (accept, refuse, supplement, withdraw...)",
        request={
            "application/json": serializers.TransitionSerializer,
            "multipart/form-data": serializers.TransitionSerializer,
        },
        responses={200: serializers.DossierDetailSerializer},
    )
    @action(detail=True, methods=["post"])
    def transitions(self, request, code=None):
        dossier = dossier_or_404(request.user, code)
        form = serializers.TransitionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        services.dossier_transition(
            dossier=dossier,
            action=form.validated_data["action"],
            actor=request.user,
            **form.params(),
        )
        return Response(
            serializers.DossierDetailSerializer(dossier_detail(request.user, code)).data
        )

    @extend_schema(
        summary="Documents of the dossier", responses=serializers.DocumentSerializer(many=True)
    )
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def documents(self, request, code=None):
        dossier = dossier_or_404(request.user, code)
        return Response(serializers.DocumentSerializer(dossier.documents.all(), many=True).data)

    @extend_schema(
        summary="Download one document (only people who may see the dossier)",
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            (200, "image/jpeg"): OpenApiTypes.BINARY,
            (200, "image/png"): OpenApiTypes.BINARY,
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"documents/(?P<document_id>[^/]+)/download",
        pagination_class=None,
        filterset_class=None,
    )
    def download(self, request, code=None, document_id=None):
        dossier = dossier_or_404(request.user, code)
        if not document_id.isdigit() or len(document_id) > 18:
            raise NotFound(_("No such document on this dossier."))
        return document_response(dossier, int(document_id))

    @extend_schema(
        summary="Payments of the dossier (GET) or start an online payment (POST)",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=None,
        responses={
            200: serializers.PaymentSerializer(many=True),
            201: serializers.PaymentOrderSerializer,
        },
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filterset_class=None)
    def payments(self, request, code=None):
        dossier = dossier_or_404(request.user, code)
        if request.method == "GET":
            return Response(serializers.PaymentSerializer(dossier.payments.all(), many=True).data)

        def start():
            allowed = selectors.allowed_actions_for(request.user, dossier)
            if Action.RECORD_PAYMENT not in allowed:
                raise TransitionNotAllowed(_("No fee is due on this dossier now."), allowed=allowed)
            order = payments_gateway.order_create(dossier=dossier)
            return Response(payment_order_data(request, order), status=status.HTTP_201_CREATED)

        return run_idempotent(request, f"payment:{dossier.code}", start)

    @extend_schema(
        summary="The citizen's rating (GET) or rate the service after the result (POST)",
        request=serializers.RatingInSerializer,
        responses={200: serializers.RatingSerializer, 201: serializers.RatingSerializer},
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filterset_class=None)
    def rating(self, request, code=None):
        dossier = dossier_or_404(request.user, code)
        if request.method == "GET":
            rating = selectors.ratings_visible_to(request.user).filter(dossier=dossier).first()
            if rating is None:
                raise NotFound(_("This dossier has not been rated."))
            return Response(serializers.RatingSerializer(rating).data)
        form = serializers.RatingInSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        rating = services.dossier_rate(
            dossier=dossier,
            citizen=request.user,
            satisfied=form.validated_data["satisfied"],
            comment=form.validated_data.get("comment", ""),
        )
        return Response(serializers.RatingSerializer(rating).data, status=status.HTTP_201_CREATED)


def document_response(dossier, document_id: int):
    """Stream one of the dossier's documents; the caller has checked the dossier's visibility."""
    document = dossier.documents.filter(pk=document_id).first()
    if document is None:
        raise NotFound(_("No such document on this dossier."))
    try:
        handle = document.file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise NotFound(_("The document's file is missing.")) from exc
    return FileResponse(
        handle,
        content_type=document.content_type,
        as_attachment=True,
        filename=PurePath(document.file.name).name,
    )


def payment_order_data(request, order) -> dict:
    url = f"{reverse('dossiers:payment_gateway')}?order={order.token}"
    return {
        "reference": order.reference,
        "dossier": order.dossier,
        "amount_vnd": order.amount_vnd,
        "gateway_url": request.build_absolute_uri(url),
        "order": order.token,
    }


@extend_schema(tags=["dossiers"])
class RatingViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Ratings of the dossiers visible to you."""

    authentication_classes = AUTHENTICATION
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = serializers.RatingSerializer
    pagination_class = NewestIdPagination

    def get_queryset(self):
        return selectors.ratings_visible_to(self.request.user).select_related("dossier")


# --- Petitions ------------------------------------------------------------------------------
def petition_or_404(user, code: str):
    petition = (
        selectors.petitions_visible_to(user)
        .select_related("center", "dossier")
        .filter(code=code)
        .first()
    )
    if petition is None:
        raise NotFound(_("No petition with this code is visible to you."))
    return petition


@extend_schema(tags=["petitions"])
class PetitionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Petitions (phản ánh, kiến nghị): a citizen's own, a centre's for its staff."""

    authentication_classes = AUTHENTICATION
    permission_classes = [permissions.IsAuthenticated]
    pagination_class = NewestIdPagination
    filterset_class = filters.PetitionFilter
    serializer_class = serializers.PetitionSerializer
    lookup_field = "code"
    lookup_value_regex = r"[^/]+"

    def get_queryset(self):
        return selectors.petitions_visible_to(self.request.user).select_related("center", "dossier")

    def retrieve(self, request, *args, **kwargs):
        return Response(self.get_serializer(petition_or_404(request.user, kwargs["code"])).data)

    @extend_schema(
        summary="File a petition about a centre or one of your dossiers",
        request=serializers.PetitionCreateSerializer,
        responses={201: serializers.PetitionSerializer},
    )
    def create(self, request, *args, **kwargs):
        form = serializers.PetitionCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        dossier = None
        if form.validated_data.get("dossier"):
            dossier = dossier_or_404(request.user, form.validated_data["dossier"])
        centre = form.validated_data.get("centre") or dossier.center
        petition = services.petition_file(
            citizen=request.user,
            center=centre,
            subject=form.validated_data["subject"],
            body=form.validated_data["body"],
            dossier=dossier,
        )
        data = self.get_serializer(petition_or_404(request.user, petition.code)).data
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Answer a petition (staff of its centre)",
        request=serializers.PetitionAnswerSerializer,
        responses={200: serializers.PetitionSerializer},
    )
    @action(detail=True, methods=["post"])
    def answer(self, request, code=None):
        petition = petition_or_404(request.user, code)
        form = serializers.PetitionAnswerSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        services.petition_answer(
            petition=petition, actor=request.user, answer=form.validated_data["answer"]
        )
        return Response(self.get_serializer(petition_or_404(request.user, code)).data)

    @extend_schema(
        summary="Rate the answer to your petition",
        request=serializers.PetitionRatingSerializer,
        responses={200: serializers.PetitionSerializer},
    )
    @action(detail=True, methods=["post"])
    def rating(self, request, code=None):
        petition = petition_or_404(request.user, code)
        form = serializers.PetitionRatingSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        services.petition_rate(
            petition=petition, citizen=request.user, satisfied=form.validated_data["satisfied"]
        )
        return Response(self.get_serializer(petition_or_404(request.user, code)).data)

    @extend_schema(
        summary="Raise your answered petition again (the answer did not settle it)",
        request=None,
        responses={200: serializers.PetitionSerializer},
    )
    @action(detail=True, methods=["post"])
    def repeat(self, request, code=None):
        petition = petition_or_404(request.user, code)
        services.petition_repeat(petition=petition, citizen=request.user)
        return Response(self.get_serializer(petition_or_404(request.user, code)).data)


# --- Without login: tracking and the gateway callback ---------------------------------------
@extend_schema(
    tags=["tracking"],
    summary="Track a dossier with its code and the last 4 digits of the applicant's CCCD",
    request=serializers.TrackingInSerializer,
    responses={200: serializers.TrackingSerializer},
)
class TrackingView(APIView):
    """State and due time only. A wrong code and wrong digits get the same "not found"."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [TrackingThrottle]

    def post(self, request):
        form = serializers.TrackingInSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        dossier = selectors.dossier_track(
            code=form.validated_data["code"], last4=form.validated_data["citizen_id_last4"]
        )
        if dossier is None:
            raise NotFound(_("No dossier matches this code and these digits."))
        return Response(tracking_data(dossier))


def tracking_data(dossier) -> dict:
    return {
        "code": dossier.code,
        "state": dossier.state,
        "state_label": str(dossier.get_state_display()),
        "due_at": serializers.serializers.DateTimeField().to_representation(
            dossier.effective_due_at
        )
        if dossier.effective_due_at
        else None,
    }


@extend_schema(
    tags=["payments"],
    summary="Payment gateway callback (server to server, HMAC-SHA256 signed)",
    parameters=[
        OpenApiParameter(
            payments_gateway.SIGNATURE_HEADER,
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            description="Hex HMAC-SHA256 of the raw body under the shared gateway secret.",
        )
    ],
    request=OpenApiTypes.OBJECT,
    responses={200: serializers.PaymentCallbackSerializer},
)
class PaymentCallbackView(APIView):
    """The national payment platform notifies a payment here. A replayed callback records
    nothing new; a forged, malformed or wrong-amount one is refused with 400."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = []

    def post(self, request):
        try:
            payment = payments_gateway.callback_handle(
                body=request.body,
                signature=request.headers.get(payments_gateway.SIGNATURE_HEADER, ""),
            )
        except payments_gateway.CallbackRejected as exc:
            return Response(error_body(exc.code, exc.message), status=status.HTTP_400_BAD_REQUEST)
        return Response(
            {
                "status": "recorded",
                "reference": payment.reference,
                "payment": serializers.PaymentSerializer(payment).data,
            }
        )

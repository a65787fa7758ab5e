"""/api/v1/ routes. Other areas add their own ``include`` under api/v1/ in portal/urls.py
(e.g. scoring's /api/v1/rankings/ and /api/v1/units/{id}/scores/)."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from dossiers.api import views

router = SimpleRouter()
router.register("procedures", views.ProcedureViewSet, basename="procedure")
router.register("fields", views.FieldViewSet, basename="field")
router.register("provinces", views.ProvinceViewSet, basename="province")
router.register("communes", views.CommuneViewSet, basename="commune")
router.register("centres", views.CentreViewSet, basename="centre")
router.register("dossiers", views.DossierViewSet, basename="dossier")
router.register("ratings", views.RatingViewSet, basename="rating")
router.register("petitions", views.PetitionViewSet, basename="petition")

app_name = "api"
urlpatterns = [
    path("tracking/", views.TrackingView.as_view(), name="tracking"),
    path("payments/callback/", views.PaymentCallbackView.as_view(), name="payment-callback"),
    path("", include(router.urls)),
]

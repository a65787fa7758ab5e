"""Citizen pages (namespace ``dossiers``)."""

from django.urls import path

from dossiers import views

app_name = "dossiers"
urlpatterns = [
    path("procedures/", views.procedure_list, name="procedure_list"),
    path("procedures/<str:code>/", views.procedure_detail, name="procedure_detail"),
    path("procedures/<str:code>/submit/", views.dossier_submit, name="submit"),
    path("my/dossiers/", views.my_dossiers, name="my_dossiers"),
    path("my/dossiers/<str:code>/", views.my_dossier, name="my_dossier"),
    path(
        "my/dossiers/<str:code>/documents/<int:document_id>/",
        views.document_download,
        name="document_download",
    ),
    path("my/dossiers/<str:code>/supplement/", views.dossier_supplement, name="supplement"),
    path("my/dossiers/<str:code>/withdraw/", views.dossier_withdraw, name="withdraw"),
    path("my/dossiers/<str:code>/rate/", views.dossier_rate, name="rate"),
    path("my/dossiers/<str:code>/pay/", views.dossier_pay, name="pay"),
    path("my/petitions/", views.my_petitions, name="my_petitions"),
    path("my/petitions/new/", views.petition_new, name="petition_new"),
    path("my/petitions/<str:code>/", views.my_petition, name="my_petition"),
    path("my/petitions/<str:code>/rate/", views.petition_rate, name="petition_rate"),
    path("my/petitions/<str:code>/repeat/", views.petition_repeat, name="petition_repeat"),
    path("track/", views.track, name="track"),
    path("payments/gateway/", views.payment_gateway, name="payment_gateway"),
]

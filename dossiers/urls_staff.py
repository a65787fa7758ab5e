from django.urls import path

from dossiers import views_staff

app_name = "dossiers_staff"

urlpatterns = [
    path("dossiers/<str:code>/slip/", views_staff.appointment_slip, name="appointment_slip"),
    path("dossiers/<str:code>/apology/", views_staff.apology_slip, name="apology_slip"),
    path(
        "dossiers/<str:code>/documents/<int:document_id>/",
        views_staff.document_download,
        name="document_download",
    ),
]

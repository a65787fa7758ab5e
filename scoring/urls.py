"""Manager pages (namespace ``scoring``), mounted under /rankings/."""

from django.urls import path

from scoring import views

app_name = "scoring"
urlpatterns = [
    path("", views.ranking, name="ranking"),
    path("provinces/<str:code>/", views.province, name="province"),
    path("units/<str:key>/", views.unit, name="unit"),
]

"""Index API routes, included under /api/v1/ by portal/urls.py."""

from django.urls import path

from scoring.api import views

app_name = "scoring_api"
urlpatterns = [
    path("rankings/", views.RankingsView.as_view(), name="rankings"),
    path("units/<str:id>/scores/", views.UnitScoresView.as_view(), name="unit-scores"),
]

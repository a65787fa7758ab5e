from django.urls import include, path

from benchmarks.http.views import bare

urlpatterns = [
    path("bench/bare/", bare),
    path("", include("portal.urls")),
]

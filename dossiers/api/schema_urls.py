"""/api/schema/ (OpenAPI 3) and /api/docs/ (Swagger UI from drf-spectacular-sidecar's static
files: no CDN, and the init script is a separate file so the CSP needs no 'unsafe-inline')."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="dossiers/api_docs.html"
        ),
        name="api-docs",
    ),
]

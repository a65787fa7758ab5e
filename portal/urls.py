from django.contrib import admin
from django.urls import include, path

from portal import login_views, views
from scoring import views as scoring_views

app_name_patterns = [
    path("", views.home, name="home"),
    path("logout/", views.logout_view, name="logout"),
    path("login/", login_views.login_start, name="login"),
    path("login/code/", login_views.login_code, name="login_code"),
]

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path(
        "admin/scoring/rankings/",
        scoring_views.admin_rankings,
        name="admin_scoring_rankings",
    ),
    path("admin/", admin.site.urls),
    path("staff/", include("dossiers.urls_staff")),
    path("", include((app_name_patterns, "portal"))),
    path("", include("dossiers.urls")),
    path("api/v1/", include("dossiers.api.urls")),
    path("rankings/", include("scoring.urls")),
    path("api/v1/", include("scoring.api.urls")),
    path("api/", include("dossiers.api.schema_urls")),
]

handler404 = "dossiers.api.exceptions.page_not_found"
handler400 = "dossiers.api.exceptions.bad_request"
handler500 = "dossiers.api.exceptions.server_error"

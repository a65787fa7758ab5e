from django.contrib import admin
from django.urls import include, path

from portal import login_views, views

app_name_patterns = [
    path("", views.home, name="home"),
    path("logout/", views.logout_view, name="logout"),
    path("login/", login_views.login_start, name="login"),
    path("login/code/", login_views.login_code, name="login_code"),
]

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include((app_name_patterns, "portal"))),
    path("", include("dossiers.urls")),
    path("api/v1/", include("dossiers.api.urls")),
    path("api/", include("dossiers.api.schema_urls")),
]

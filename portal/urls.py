from django.contrib import admin
from django.urls import include, path

from portal import views

app_name_patterns = [
    path("", views.home, name="home"),
    path("logout/", views.logout_view, name="logout"),
]

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include((app_name_patterns, "portal"))),
]

from django.contrib.auth import logout
from django.db.models import Count
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from portal.models import Province


def home(request):
    provinces = Province.objects.annotate(commune_count=Count("communes")).order_by("code")
    return render(request, "portal/home.html", {"provinces": provinces})


@require_POST
def logout_view(request):
    logout(request)
    return redirect("portal:home")

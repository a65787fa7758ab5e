from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from portal.calendar import invalidate_working_calendar
from portal.models import (
    CalendarOverride,
    Commune,
    ManagerScope,
    Province,
    ServiceCenter,
    StaffMembership,
    User,
)


@admin.register(Province)
class ProvinceAdmin(admin.ModelAdmin):
    list_display = ["code", "short_name", "name", "population_share", "area_km2"]
    search_fields = ["code", "name", "short_name"]


@admin.register(Commune)
class CommuneAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "province"]
    list_filter = ["kind", "province"]
    list_select_related = ["province"]
    search_fields = ["code", "name", "short_name"]
    autocomplete_fields = ["province"]
    show_full_result_count = False


@admin.register(ServiceCenter)
class ServiceCenterAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "province"]
    list_filter = ["level", "province"]
    list_select_related = ["province"]
    search_fields = ["code", "name", "commune__code", "commune__name"]
    autocomplete_fields = ["province", "commune"]
    show_full_result_count = False


class MembershipInline(admin.TabularInline):
    model = StaffMembership
    autocomplete_fields = ["center"]
    extra = 0
    max_num = 20


class ManagerScopeInline(admin.StackedInline):
    model = ManagerScope
    autocomplete_fields = ["province"]
    extra = 0


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = DjangoUserAdmin.fieldsets + ((_("Citizen"), {"fields": ("citizen_id", "phone")}),)
    list_display = ["username", "masked_citizen_id", "first_name", "last_name", "is_staff"]
    search_fields = ["username", "first_name", "last_name", "email", "citizen_id"]
    inlines = [MembershipInline, ManagerScopeInline]
    show_full_result_count = False

    @admin.display(description=_("citizen ID (CCCD)"))
    def masked_citizen_id(self, obj):
        return obj.masked_citizen_id


@admin.register(StaffMembership)
class StaffMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "center", "role"]
    list_filter = ["role"]
    list_select_related = ["user", "center"]
    autocomplete_fields = ["user", "center"]
    search_fields = ["user__username", "center__name", "center__code"]

    def get_queryset(self, request):
        # A leader reads who works in their own centres, not the staff list of the country.
        memberships = super().get_queryset(request)
        if request.user.is_superuser:
            return memberships
        own = StaffMembership.objects.filter(user=request.user).values("center")
        return memberships.filter(center__in=own)


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(admin.ModelAdmin):
    list_display = ["date", "kind", "reason"]
    list_filter = ["kind"]
    date_hierarchy = "date"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        invalidate_working_calendar()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        invalidate_working_calendar()

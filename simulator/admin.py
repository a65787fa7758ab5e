"""Simulation runs in admin, read-only: which scenario, seed and scale produced the data."""

from django.contrib import admin

from simulator.models import SimulationRun


@admin.register(SimulationRun)
class SimulationRunAdmin(admin.ModelAdmin):
    list_display = ["scenario", "seed", "scale", "date_from", "date_to", "status", "started_at"]
    list_filter = ["status", "scenario"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

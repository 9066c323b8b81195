from django.contrib import admin

from communes.models import DirtyWeek
from core.admin import ReadOnlyAdmin, ReadOnlyInline
from core.events import append_event
from reports.models import COUNTERS, ComputationRun, ComputedWeek, Target, TargetChange, WeeklyRate


@admin.register(WeeklyRate)
class WeeklyRateAdmin(admin.ModelAdmin):
    """Read-only: rows are computed (manage.py compute_weekly_rates), never typed in."""

    list_display = (
        "week_start",
        "unit",
        "received",
        "returned",
        "returned_bcci",
        "finished",
        "open_overdue",
        "computed_at",
    )
    list_filter = ("week_start", "unit__level")
    search_fields = ("unit__name", "unit__code")
    list_select_related = ("unit",)
    readonly_fields = ("unit", "week_start", *COUNTERS, "computed_at")
    date_hierarchy = "week_start"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TargetChangeInline(ReadOnlyInline):
    model = TargetChange
    readonly_fields = ("at", "actor", "old_value", "new_value")


@admin.register(TargetChange)
class TargetChangeAdmin(ReadOnlyAdmin):
    """The history of targets: read-only, appended by TargetAdmin.save_model."""

    list_display = ("at", "target", "old_value", "new_value", "actor")
    list_select_related = ("target", "target__unit", "actor")


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    list_display = ("year", "unit", "metric", "value", "updated_by", "updated_at")
    list_filter = ("year", "metric", "unit__level")
    search_fields = ("unit__name", "unit__code")
    autocomplete_fields = ()
    raw_id_fields = ("unit",)
    readonly_fields = ("updated_by", "updated_at")
    inlines = [TargetChangeInline]

    def save_model(self, request, obj, form, change):
        old = Target.objects.filter(pk=obj.pk).values_list("value", flat=True).first() if change else None
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
        if old != obj.value:
            append_event(obj, by=request.user, history="changes", old_value=old, new_value=obj.value)


@admin.register(ComputationRun)
class ComputationRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "requested_at",
        "requested_by",
        "first_week",
        "last_week",
        "status",
        "weeks_done",
        "weeks_total",
    )
    list_filter = ("status",)
    readonly_fields = [f.name for f in ComputationRun._meta.fields]


@admin.register(DirtyWeek)
class DirtyWeekAdmin(admin.ModelAdmin):
    list_display = ("week_start", "unit", "marked_at")
    list_select_related = ("unit",)


@admin.register(ComputedWeek)
class ComputedWeekAdmin(admin.ModelAdmin):
    list_display = ("week_start", "computed_at", "rows")
    readonly_fields = ("week_start", "computed_at", "rows")

    def has_add_permission(self, request):
        return False

from django.contrib import admin

from communes.models import AdministrativeUnit, NetworkAction, NetworkActionEvent, PostOffice, PostOfficeEvent
from core.admin import ReadOnlyAdmin


@admin.register(AdministrativeUnit)
class AdministrativeUnitAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "kind", "parent", "identifier", "valid_from", "valid_to")
    list_filter = ("level", "kind")
    search_fields = ("code", "name", "identifier")
    autocomplete_fields = ("parent",)


@admin.register(PostOffice)
class PostOfficeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "commune", "status", "condition", "staff_count")
    list_filter = ("kind", "status", "condition", "combined_with_desk")
    search_fields = ("code", "name", "commune__name")
    autocomplete_fields = ("commune", "parent")


@admin.register(NetworkAction)
class NetworkActionAdmin(ReadOnlyAdmin):
    """Read-only too: actions change through the network pages so that every change is recorded."""

    list_display = ("kind", "commune", "post_office", "responsible", "due_date", "status", "completed_on")
    list_filter = ("kind", "status", "responsible")
    search_fields = ("commune__name", "post_office__code", "post_office__name", "notes")
    list_select_related = ("commune", "post_office")


@admin.register(NetworkActionEvent)
class NetworkActionEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "network_action", "action", "from_status", "to_status", "actor")
    list_filter = ("action",)
    list_select_related = (
        "network_action",
        "network_action__commune",
        "network_action__post_office",
        "actor",
    )


@admin.register(PostOfficeEvent)
class PostOfficeEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "post_office", "action", "from_status", "to_status", "actor")
    list_filter = ("action",)
    search_fields = ("post_office__code",)
    list_select_related = ("post_office", "actor")

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from dvcqg.models import SyncAttempt, SyncEntry


class SyncAttemptInline(admin.TabularInline):
    model = SyncAttempt
    extra = 0
    can_delete = False
    fields = ["at", "ok", "http_status", "error", "duration_ms"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SyncEntry)
class SyncEntryAdmin(ReadOnlyAdmin):
    list_display = ["dossier", "seq", "action", "status", "attempts", "changed_at", "sent_at", "last_error"]
    list_filter = ["status"]
    search_fields = ["dossier__code"]
    list_select_related = ["dossier"]
    inlines = [SyncAttemptInline]

"""Admin bases shared by every app: history and records that change only through services."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Readable by administrators, never added, changed or deleted here: history is appended by
    the services, and records with a workflow change only through their pages so that every
    change is recorded."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """The same, for rows shown under their parent."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

from django.contrib import admin

from privacy.models import AnonymisedDossier, PersonalDataAccess


class ReadOnlyHistoryAdmin(admin.ModelAdmin):
    """Audit rows: readable by administrators, never added, changed or deleted here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(ReadOnlyHistoryAdmin):
    list_display = ("at", "actor", "field", "dossier", "item", "appointment")
    list_filter = ("field",)
    search_fields = ("dossier__code", "item__code", "actor__username")
    list_select_related = ("actor", "dossier", "item", "appointment")
    show_full_result_count = False


@admin.register(AnonymisedDossier)
class AnonymisedDossierAdmin(ReadOnlyHistoryAdmin):
    list_display = ("at", "dossier", "retention_years")
    search_fields = ("dossier__code",)
    list_select_related = ("dossier",)
    show_full_result_count = False

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from privacy.models import AnonymisedDossier, PersonalDataAccess


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor", "field", "dossier", "item", "appointment")
    list_filter = ("field",)
    search_fields = ("dossier__code", "item__code", "actor__username")
    list_select_related = ("actor", "dossier", "item", "appointment")
    show_full_result_count = False


@admin.register(AnonymisedDossier)
class AnonymisedDossierAdmin(ReadOnlyAdmin):
    list_display = ("at", "dossier", "retention_years")
    search_fields = ("dossier__code",)
    list_select_related = ("dossier",)
    show_full_result_count = False

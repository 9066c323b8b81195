"""Admin: the catalogue and calendar overrides are edited here; history is read-only."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin
from dossiers.models import (
    CalendarOverride,
    Dossier,
    DossierDocument,
    DossierEvent,
    ImportJob,
    Procedure,
    ProcedureField,
)
from dossiers.personal import mask_id_number, mask_phone


@admin.register(ProcedureField)
class ProcedureFieldAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Procedure)
class ProcedureAdmin(admin.ModelAdmin):
    list_display = [
        "national_code",
        "name",
        "field",
        "level",
        "processing_days",
        "fee",
        "bcci_intake_allowed",
        "bcci_return_allowed",
        "presence_required",
        "active",
    ]
    list_filter = ["field", "level", "active", "bcci_intake_allowed", "bcci_return_allowed"]
    search_fields = ["national_code", "name"]
    list_select_related = ["field"]


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(admin.ModelAdmin):
    list_display = ["date", "kind", "province", "reason"]
    list_filter = ["kind", "province"]
    date_hierarchy = "date"


@admin.register(DossierEvent)
class DossierEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "dossier", "action", "from_status", "to_status", "actor"]
    list_filter = ["action"]
    search_fields = ["dossier__code"]
    list_select_related = ["dossier", "actor"]
    show_full_result_count = False


class DocumentInline(admin.TabularInline):
    model = DossierDocument
    extra = 0
    can_delete = False
    readonly_fields = ["name", "form", "count", "returned"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Dossier)
class DossierAdmin(ReadOnlyAdmin):
    """Read-only: dossiers change through the workflow pages, which record every change."""

    list_display = ["code", "procedure", "receiving_unit", "status", "received_at", "due_date", "timeliness"]
    list_filter = ["status", "intake_channel", "return_channel", "timeliness"]
    search_fields = ["code"]
    list_select_related = ["procedure", "receiving_unit"]
    show_full_result_count = False
    inlines = [DocumentInline]
    # The identity number and phone appear masked only.
    exclude = ["applicant_id_number", "applicant_phone", "tracking_pin"]
    readonly_fields = ["masked_id_number", "masked_phone"]

    @admin.display(description=_("identity number"))
    def masked_id_number(self, obj):
        return mask_id_number(obj.applicant_id_number)

    @admin.display(description=_("phone"))
    def masked_phone(self, obj):
        return mask_phone(obj.applicant_phone)


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "original_name", "status", "total_rows", "created_count", "error_count"]
    list_filter = ["status"]

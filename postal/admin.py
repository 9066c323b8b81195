"""Admin: read-mostly views for administrators; history rows are never edited here."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from communes.weekmarks import mark_weeks
from core.admin import ReadOnlyAdmin, ReadOnlyInline
from dossiers.personal import mask_phone
from postal.models import (
    DeliveryAttempt,
    Handover,
    HandoverLine,
    ItemEvent,
    PickupAppointment,
    PostalItem,
    TaskTransfer,
    TaskTransferEvent,
)
from postal.services import item_weeks


class ItemEventInline(ReadOnlyInline):
    model = ItemEvent
    fields = ("at", "action", "from_status", "to_status", "actor", "details")
    readonly_fields = fields


class DeliveryAttemptInline(ReadOnlyInline):
    model = DeliveryAttempt
    fields = ("at", "outcome", "by", "note")
    readonly_fields = fields


@admin.register(PostalItem)
class PostalItemAdmin(admin.ModelAdmin):
    list_display = ("code", "direction", "status", "post_office", "handover_date", "target_date", "attempts")
    list_filter = ("direction", "status", "tier")
    search_fields = ("code", "dossier__code")
    raw_id_fields = ("dossier", "post_office", "created_by")
    # The recipient's phone appears masked only (docs/security.md).
    exclude = ("recipient_phone",)
    readonly_fields = ("code", "status", "version", "delivered_at", "attempts", "masked_recipient_phone")
    list_select_related = ("post_office",)
    inlines = [DeliveryAttemptInline, ItemEventInline]

    @admin.display(description=_("recipient phone"))
    def masked_recipient_phone(self, obj):
        return mask_phone(obj.recipient_phone)

    def save_model(self, request, obj, form, change):
        # An edit here can move a delivered item to another dossier or change its target date:
        # the weeks it counted in before and after are recounted.
        before = PostalItem.objects.filter(pk=obj.pk).first() if change else None
        super().save_model(request, obj, form, change)
        mark_weeks(item_weeks(before) | item_weeks(obj))


class HandoverLineInline(ReadOnlyInline):
    model = HandoverLine
    fields = ("item", "complete", "note")
    readonly_fields = fields


@admin.register(Handover)
class HandoverAdmin(admin.ModelAdmin):
    list_display = ("number", "direction", "status", "desk_unit", "post_office", "signed_at")
    list_filter = ("direction", "status")
    search_fields = ("number",)
    readonly_fields = (
        "number", "status", "prepared_by", "desk_signed_by", "desk_signed_at",
        "post_signed_by", "post_signed_at", "signed_at",
    )  # fmt: skip
    raw_id_fields = ("desk_unit", "post_office")
    inlines = [HandoverLineInline]


@admin.register(PickupAppointment)
class PickupAppointmentAdmin(admin.ModelAdmin):
    list_display = ("slot_start", "citizen_name", "commune", "post_office", "assigned_to", "status")
    list_filter = ("status",)
    raw_id_fields = ("commune", "procedure", "post_office", "assigned_to", "dossier", "created_by")
    # The citizen's phone appears masked only; it is entered on the appointment page.
    exclude = ("citizen_phone",)
    readonly_fields = ("masked_citizen_phone",)

    @admin.display(description=_("phone"))
    def masked_citizen_phone(self, obj):
        return mask_phone(obj.citizen_phone)

    def has_add_permission(self, request):
        # An appointment needs a phone number, which this form does not take.
        return False


class TaskTransferEventInline(ReadOnlyInline):
    model = TaskTransferEvent
    fields = ("at", "action", "actor", "details")
    readonly_fields = fields


@admin.register(TaskTransfer)
class TaskTransferAdmin(admin.ModelAdmin):
    list_display = ("unit", "field", "task", "planned_date", "done_date", "status")
    list_filter = ("status", "task", "field")
    raw_id_fields = ("unit",)
    filter_horizontal = ("staff",)
    inlines = [TaskTransferEventInline]


@admin.register(ItemEvent)
class ItemEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "item", "action", "from_status", "to_status", "actor")
    list_filter = ("action",)
    search_fields = ("item__code",)
    list_select_related = ("item", "actor")
    show_full_result_count = False


@admin.register(TaskTransferEvent)
class TaskTransferEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "transfer", "action", "actor")
    list_filter = ("action",)
    list_select_related = ("transfer", "actor")

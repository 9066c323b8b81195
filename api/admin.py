from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from api import webhooks
from api.models import ApiClient, CarrierEvent, WebhookAttempt, WebhookDelivery, WebhookSubscription


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "scope_list", "token_prefix", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "token_prefix"]
    readonly_fields = ["user", "token_prefix", "created_at", "last_used_at", "revoked_at"]
    fields = [
        "name",
        "user",
        "scopes",
        "rate_per_minute",
        "token_prefix",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # tokens are made by `manage.py create_api_client`, which shows them once

    @admin.display(description=_("scopes"))
    def scope_list(self, client):
        return ", ".join(client.scopes)

    @admin.action(description=_("Revoke the tokens of the selected clients"))
    def revoke(self, request, queryset):
        count = 0
        for client in queryset.filter(revoked_at__isnull=True):
            client.revoke()
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d client revoked.", "%(count)d clients revoked.", count) % {"count": count},
        )


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["client", "url", "is_active", "disabled_at", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["client__name", "url"]
    readonly_fields = ["secret", "created_at", "disabled_at", "disabled_note"]
    actions = ["enable_again"]

    @admin.action(description=_("Enable the selected subscriptions again"))
    def enable_again(self, request, queryset):
        for subscription in queryset:
            webhooks.enable_again(subscription=subscription)
        self.message_user(request, _("Enabled again. Send the failed messages again from the deliveries."))


class AttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["at", "status_code", "error", "duration_ms", "response_excerpt"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "message_id",
        "event_type",
        "subscription",
        "status",
        "attempts",
        "created_at",
        "next_attempt_at",
    ]
    list_filter = ["status", "event_type"]
    search_fields = ["message_id", "subscription__client__name"]
    readonly_fields = [
        "subscription",
        "message_id",
        "event_type",
        "payload",
        "status",
        "attempts",
        "created_at",
        "next_attempt_at",
        "delivered_at",
    ]
    inlines = [AttemptInline]
    actions = ["send_again"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Send the selected messages again"))
    def send_again(self, request, queryset):
        inactive = queryset.filter(subscription__is_active=False).count()
        if inactive:
            self.message_user(
                request, _("Enable the subscription again before sending its messages again."), messages.ERROR
            )
            return
        for delivery in queryset:
            webhooks.send_again(delivery=delivery)
        self.message_user(request, _("The messages are being sent again."))


@admin.register(CarrierEvent)
class CarrierEventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "client", "item", "kind", "at", "outcome", "received_at"]
    list_filter = ["outcome", "kind"]
    search_fields = ["event_id", "item__code"]
    readonly_fields = ["client", "event_id", "item", "kind", "at", "outcome", "received_at", "details"]

    def has_add_permission(self, request):
        return False

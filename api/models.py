"""Machine clients of the API, what they sent (idempotency keys, carrier events) and the
webhooks sent to them."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

TOKEN_PREFIX = "pdk_"  # noqa: S105 - a marker that tells tokens apart in logs and scanners


class Scope(models.TextChoices):
    DOSSIERS_READ = "dossiers:read", _("Read dossiers")
    DOSSIERS_WRITE = "dossiers:write", _("Create and update dossiers")
    DOSSIERS_PERSONAL = "dossiers:personal", _("See identity and phone numbers unmasked")
    ITEMS_WRITE = "items:write", _("Send tracking events of postal items")
    REPORTS_READ = "reports:read", _("Read weekly rates")
    WEBHOOKS_MANAGE = "webhooks:manage", _("Manage webhook subscriptions")


def hash_token(token: str) -> str:
    """Tokens are 32 random bytes: one SHA-256 is enough (no password stretching needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiClient(models.Model):
    """A provincial system, a carrier or another machine that calls the API.

    It acts through its own service user, whose role and unit or post office give it exactly the
    scope of a person in that place (communes.scoping): every selector and service works for it
    unchanged. The token is shown once and stored as a hash.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="api_client",
        verbose_name=_("acts as"),
    )
    scopes = models.JSONField(_("scopes"), default=list)
    token_prefix = models.CharField(_("token begins with"), max_length=16, unique=True)
    token_hash = models.CharField(max_length=64, unique=True)
    rate_per_minute = models.PositiveIntegerField(_("requests per minute"), default=600)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def new_token(self) -> str:
        """A fresh token for this client (the old one stops working when saved)."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.token_prefix = token[: len(TOKEN_PREFIX) + 8]
        self.token_hash = hash_token(token)
        return token

    def revoke(self) -> None:
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])


class IdempotencyRecord(models.Model):
    """The answer given to a POST with an ``Idempotency-Key``, replayed for the same key."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "key"], name="idempotency_client_key")]
        # The nightly clean-up deletes by age.
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_idx")]


class CarrierEvent(models.Model):
    """A tracking event as the carrier sent it; its id is unique per client, so a repeated
    event is recognised and answered with the first outcome."""

    class Outcome(models.TextChoices):
        APPLIED = "applied", _("Applied")
        UNCHANGED = "unchanged", _("Already in that status")
        STALE = "stale", _("Older than the item's status: kept, not applied")

    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="carrier_events")
    event_id = models.CharField(_("carrier's event id"), max_length=100)
    item = models.ForeignKey("postal.PostalItem", on_delete=models.CASCADE, related_name="carrier_events")
    kind = models.CharField(_("event"), max_length=20)
    at = models.DateTimeField(_("time at the carrier"))
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("carrier event")
        verbose_name_plural = _("carrier events")
        constraints = [
            models.UniqueConstraint(fields=["client", "event_id"], name="carrier_event_client_event_id")
        ]
        # The forward-only guard reads the item's latest applied event.
        indexes = [models.Index(fields=["item", "-at"], name="carrier_event_item_at_idx")]

    def __str__(self) -> str:
        return f"{self.event_id} {self.kind}"


class EventType(models.TextChoices):
    DOSSIER_STATUS_CHANGED = "dossier.status_changed", _("A dossier's status changed")
    DOSSIER_RESULT_READY = "dossier.result_ready", _("A dossier's result is ready")
    ITEM_STATUS_CHANGED = "item.status_changed", _("A postal item's status changed")
    HANDOVER_SIGNED = "handover.signed", _("A handover record was signed by both sides")
    WEEKLY_RATES_UPDATED = "weekly_rates.updated", _("Weekly rates were recomputed")


def new_webhook_secret() -> str:
    import base64

    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class WebhookSubscription(models.Model):
    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="subscriptions")
    url = models.URLField(_("address"), max_length=500)
    events = models.JSONField(_("events"), default=list)
    secret = models.CharField(_("signing secret"), max_length=100, default=new_webhook_secret)
    is_active = models.BooleanField(_("subscription is active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    disabled_at = models.DateTimeField(_("disabled"), null=True, blank=True)
    disabled_note = models.TextField(_("why it was disabled"), blank=True)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["client__name", "id"]

    def __str__(self) -> str:
        return f"{self.client} → {self.url}"


class WebhookDelivery(models.Model):
    """One message to one subscription, written in the same transaction as the change it
    announces (so none is lost), sent after commit and retried until it is accepted or 24 hours
    have passed."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        DELIVERED = "delivered", _("Accepted by the receiver")
        FAILED = "failed", _("Failed for 24 hours")

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    message_id = models.CharField(_("message id"), max_length=40, unique=True)
    event_type = models.CharField(_("event"), max_length=30, choices=EventType.choices)
    payload = models.JSONField()
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The sweeper: pending deliveries whose next attempt is due.
            models.Index(
                fields=["next_attempt_at"], name="webhook_delivery_due_idx", condition=Q(status="pending")
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.message_id}"


class WebhookAttempt(models.Model):
    """Every try of a delivery, with the receiver's answer."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(_("time"), default=timezone.now)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    response_excerpt = models.CharField(_("response (start)"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["at", "id"]

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WeeklyRatesAnnouncement(models.Model):
    """Up to which computation time the weekly rates were announced (one row)."""

    announced_until = models.DateTimeField()

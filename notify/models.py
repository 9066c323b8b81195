"""Notices to citizens (Zalo ZNS, SMS brandname), the templates administrators edit, and the
rating a citizen gives after delivery (docs/notifications.md)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from communes.models import AdministrativeUnit, PostOffice
from dossiers.models import Dossier

# A message is at most this long (SMS brandname: about three segments of unaccented text).
MAX_MESSAGE_LENGTH = 400


class Event(models.TextChoices):
    """The moments a citizen hears about, in the order they usually happen."""

    RECEIVED = "received", _("Dossier received")
    SUPPLEMENT = "supplement", _("Supplement requested")
    RESULT_READY = "result_ready", _("Result ready")
    HANDED_TO_POST = "handed_to_post", _("Result handed to the post")
    DELIVERY_FAILED = "delivery_failed", _("Delivery failed")
    DELIVERED = "delivered", _("Result delivered")
    BACK_AT_DESK = "back_at_desk", _("Result back at the desk")


class Channel(models.TextChoices):
    ZNS = "zns", _("Zalo ZNS")
    SMS = "sms", _("SMS brandname")


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    OUTBOX = "outbox", _("Sent to the outbox (no provider configured)")
    FAILED = "failed", _("Failed")
    OPTED_OUT = "opted_out", _("Not sent: the citizen declined messages")
    NO_PHONE = "no_phone", _("Not sent: no phone number")


class MessageTemplate(models.Model):
    """The Vietnamese text of one event's message, edited by administrators."""

    event = models.CharField(_("event"), max_length=16, choices=Event.choices, unique=True)
    text = models.TextField(_("text"), validators=[MaxLengthValidator(MAX_MESSAGE_LENGTH)])
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        ordering = ["event"]

    def __str__(self) -> str:
        return self.get_event_display()


class Message(models.Model):
    """One notice to one citizen on one channel: the outbox row, written in the transaction of the
    change it reports and sent after commit. Never two for the same dossier, event and channel."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="messages")
    event = models.CharField(_("event"), max_length=16, choices=Event.choices)
    channel = models.CharField(_("channel"), max_length=3, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    phone = models.CharField(_("phone"), max_length=15, blank=True)
    text = models.TextField(_("text"), blank=True)
    # The ZNS template's parameters (Zalo renders its own registered template with them).
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    provider_id = models.CharField(_("provider's message id"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("text message", "message")
        verbose_name_plural = pgettext_lazy("text message", "messages")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dossier", "event", "channel"], name="message_once_per_dossier_event_channel"
            ),
        ]
        indexes = [
            # The sender's sweep: queued messages whose attempt is due.
            models.Index(fields=["next_attempt_at"], name="message_due_idx", condition=Q(status="queued")),
        ]

    def __str__(self) -> str:
        return f"{self.dossier_id} {self.event} {self.channel}"

    @property
    def idempotency_key(self) -> str:
        """Sent with every attempt, so a provider drops a repeat after a timeout."""
        return f"postdesk-{self.pk}"


class Rating(models.Model):
    """The citizen's answer after delivery: one per dossier, through a one-time link."""

    dossier = models.OneToOneField(Dossier, on_delete=models.CASCADE, related_name="rating")
    token = models.CharField(max_length=32, unique=True)
    # Who is rated: the commune's desk, the office that delivered and the employee who did.
    unit = models.ForeignKey(AdministrativeUnit, on_delete=models.PROTECT, related_name="+")
    post_office = models.ForeignKey(
        PostOffice, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    employee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("invited at"), default=timezone.now)
    expires_at = models.DateTimeField(_("link valid until"))
    stars = models.PositiveSmallIntegerField(
        _("stars"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("comment"), blank=True, max_length=1000)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        ordering = ["-answered_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="rating_stars_1_to_5",
                condition=Q(stars__isnull=True) | Q(stars__gte=1, stars__lte=5),
            ),
            models.CheckConstraint(
                name="rating_answer_complete",
                condition=Q(stars__isnull=True, answered_at__isnull=True)
                | Q(stars__isnull=False, answered_at__isnull=False),
            ),
        ]
        indexes = [
            # Weekly counts: answers in a range of weeks.
            models.Index(fields=["answered_at"], name="rating_answered_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.dossier_id} {self.stars or '-'}"


class FollowUp(models.Model):
    """A low rating (≤ 2 stars) the commune must look into, shown on its officials' home page."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("follow-up", "Open")
        CLOSED = "closed", pgettext_lazy("follow-up", "Closed")

    rating = models.OneToOneField(Rating, on_delete=models.CASCADE, related_name="follow_up")
    unit = models.ForeignKey(AdministrativeUnit, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=6, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(_("opened at"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("what was done"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["created_at", "id"]
        indexes = [
            # The commune home page: its open follow-ups.
            models.Index(fields=["unit", "status"], name="followup_unit_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.rating_id}"

"""Postal items, handovers (biên bản giao nhận), deliveries, pickup appointments and task transfers."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from communes.models import AdministrativeUnit, PostOffice
from core.models import Event
from dossiers.models import Dossier, Procedure, ProcedureField


class Direction(models.TextChoices):
    INTAKE = "intake", _("Intake (citizen to desk)")
    RETURN = "return", _("Return (desk to citizen)")


class ItemStatus(models.TextChoices):
    CREATED = "created", _("Created")
    ACCEPTED = "accepted", _("Accepted by the post")
    IN_TRANSIT = "in_transit", _("In transit")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered")
    DELIVERY_FAILED = "delivery_failed", _("Delivery failed")
    RETURNED_TO_SENDER = "returned_to_sender", _("Returned to the agency")
    CANCELLED = "cancelled", _("Cancelled")


class DeliveryTier(models.TextChoices):
    """Delivery target J+n working days after the handover (settable per tier)."""

    LOCAL = "local", _("Within the locality (J+1)")
    PROVINCE = "province", _("Within the province (J+2)")
    NEAR_PROVINCE = "near_province", _("Neighbouring province (J+3)")
    FAR_PROVINCE = "far_province", _("Other province (J+4)")


class PostalItem(models.Model):
    code = models.CharField(_("item code (S10)"), max_length=13, unique=True)
    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="postal_items")
    direction = models.CharField(_("direction"), max_length=6, choices=Direction.choices)
    post_office = models.ForeignKey(
        PostOffice, on_delete=models.PROTECT, related_name="items", verbose_name=_("post office")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=ItemStatus.choices, default=ItemStatus.CREATED
    )
    tier = models.CharField(
        _("delivery tier"), max_length=14, choices=DeliveryTier.choices, default=DeliveryTier.LOCAL
    )
    handover_date = models.DateField(_("handover date (J)"), null=True, blank=True)
    target_date = models.DateField(_("target date"), null=True, blank=True)
    postage = models.PositiveIntegerField(_("postage (VND)"), default=0)
    fees_collected = models.PositiveIntegerField(_("fees collected for the agency (VND)"), default=0)
    recipient_name = models.CharField(_("recipient"), max_length=150, blank=True)
    recipient_address = models.CharField(_("delivery address"), max_length=300, blank=True)
    recipient_phone = models.CharField(_("recipient phone"), max_length=15, blank=True)
    recipient_is_proxy = models.BooleanField(_("received by a proxy"), default=False)
    proxy_authorisation = models.CharField(_("authorisation"), max_length=200, blank=True)
    id_checked = models.BooleanField(_("identity document checked"), default=False)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("delivery attempts"), default=0)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("postal item")
        verbose_name_plural = _("postal items")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="item_delivered_has_recipient_and_id_check",
                condition=~Q(status="delivered")
                | (Q(delivered_at__isnull=False) & ~Q(recipient_name="") & Q(id_checked=True)),
            ),
            models.CheckConstraint(
                name="item_proxy_has_authorisation",
                condition=~Q(status="delivered") | Q(recipient_is_proxy=False) | ~Q(proxy_authorisation=""),
            ),
            models.CheckConstraint(
                name="item_target_not_before_handover",
                condition=Q(target_date__isnull=True)
                | Q(handover_date__isnull=True)
                | Q(target_date__gte=F("handover_date")),
            ),
        ]
        indexes = [
            # An office's work list by status.
            models.Index(fields=["post_office", "status"], name="item_office_status_idx"),
            # Weekly rates: items delivered in a week.
            models.Index(fields=["delivered_at"], name="item_delivered_idx"),
        ]

    def __str__(self) -> str:
        return self.code


class ItemEvent(Event):
    """Append-only history of an item: one row per scan or change."""

    item = models.ForeignKey(PostalItem, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=20, choices=ItemStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=ItemStatus.choices, blank=True)

    class Meta:
        verbose_name = _("item event")
        verbose_name_plural = _("item events")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["item", "at"], name="item_event_timeline_idx"),
            # Weekly rates (reports.services.aggregation.returned_to_sender_counts): returns to
            # the agency in a range of weeks, a few rows among every scan of every item.
            models.Index(
                fields=["at", "item"],
                name="item_event_returned_idx",
                condition=Q(to_status=ItemStatus.RETURNED_TO_SENDER),
            ),
        ]


class DeliveryAttempt(models.Model):
    class Outcome(models.TextChoices):
        DELIVERED = "delivered", _("Delivered")
        NOT_HOME = "not_home", _("Nobody at home")
        REFUSED = "refused", pgettext_lazy("delivery outcome", "Refused")
        WRONG_ADDRESS = "wrong_address", _("Wrong address")

    item = models.ForeignKey(PostalItem, on_delete=models.CASCADE, related_name="delivery_attempts")
    at = models.DateTimeField(_("time"))
    outcome = models.CharField(_("outcome"), max_length=14, choices=Outcome.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["at", "id"]


class Handover(models.Model):
    """Biên bản giao nhận between the one-stop desk and the post; immutable once signed."""

    class Direction(models.TextChoices):
        POST_TO_DESK = "post_to_desk", _("Post hands dossiers to the desk")
        DESK_TO_POST = "desk_to_post", _("Desk hands results to the post")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SIGNED = "signed", _("Signed")

    number = models.CharField(_("number"), max_length=30, unique=True)
    direction = models.CharField(_("direction"), max_length=12, choices=Direction.choices)
    desk_unit = models.ForeignKey(
        AdministrativeUnit, on_delete=models.PROTECT, related_name="handovers", verbose_name=_("desk")
    )
    post_office = models.ForeignKey(
        PostOffice, on_delete=models.PROTECT, related_name="handovers", verbose_name=_("post office")
    )
    status = models.CharField(_("status"), max_length=6, choices=Status.choices, default=Status.DRAFT)
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    prepared_at = models.DateTimeField(_("prepared at"), auto_now_add=True)
    desk_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    desk_signed_at = models.DateTimeField(null=True, blank=True)
    post_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    post_signed_at = models.DateTimeField(null=True, blank=True)
    # When the second side signed: the legal submission time for dossiers handed to the desk.
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("handover record")
        verbose_name_plural = _("handover records")
        ordering = ["-prepared_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="handover_signed_has_both_signatures",
                condition=~Q(status="signed")
                | Q(signed_at__isnull=False, desk_signed_by__isnull=False, post_signed_by__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.number


class HandoverLine(models.Model):
    handover = models.ForeignKey(Handover, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(PostalItem, on_delete=models.PROTECT, related_name="handover_lines")
    complete = models.BooleanField(_("complete"), default=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("handover line")
        verbose_name_plural = _("handover lines")
        constraints = [models.UniqueConstraint(fields=["handover", "item"], name="handover_line_item_once")]


class PickupAppointment(models.Model):
    """Hẹn giờ: postal staff collect a dossier at the citizen's address."""

    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        DONE = "done", _("Done")
        MISSED = "missed", _("Missed")
        CANCELLED = "cancelled", _("Cancelled")

    citizen_name = models.CharField(_("citizen"), max_length=150)
    citizen_phone = models.CharField(_("phone"), max_length=15)
    address = models.CharField(_("address"), max_length=300)
    commune = models.ForeignKey(AdministrativeUnit, on_delete=models.PROTECT, related_name="+")
    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="+")
    post_office = models.ForeignKey(PostOffice, on_delete=models.PROTECT, related_name="appointments")
    slot_start = models.DateTimeField(_("from"))
    slot_end = models.DateTimeField(_("to"))
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.BOOKED)
    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("pickup appointment")
        verbose_name_plural = _("pickup appointments")
        ordering = ["slot_start"]
        constraints = [
            models.CheckConstraint(
                name="appointment_slot_ordered", condition=Q(slot_end__gt=F("slot_start"))
            ),
        ]
        indexes = [models.Index(fields=["assigned_to", "slot_start"], name="appointment_staff_day_idx")]


class TaskTransfer(models.Model):
    """Which task of a field is transferred to postal staff in a unit, and by when."""

    class Task(models.TextChoices):
        GUIDANCE = "guidance", _("Guidance")
        INTAKE = "intake", _("Receiving dossiers")
        DIGITISATION = "digitisation", _("Digitisation")
        RETURN = "return", _("Returning results")
        FEE_COLLECTION = "fee_collection", _("Fee collection")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    unit = models.ForeignKey(AdministrativeUnit, on_delete=models.PROTECT, related_name="task_transfers")
    field = models.ForeignKey(ProcedureField, on_delete=models.PROTECT, related_name="task_transfers")
    task = models.CharField(_("task"), max_length=16, choices=Task.choices)
    planned_date = models.DateField(_("planned date"))
    done_date = models.DateField(_("date done"), null=True, blank=True)
    staff = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PLANNED)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("task transfer")
        verbose_name_plural = _("task transfers")
        constraints = [
            models.UniqueConstraint(fields=["unit", "field", "task"], name="task_transfer_once"),
            models.CheckConstraint(
                name="task_transfer_done_has_date", condition=~Q(status="done") | Q(done_date__isnull=False)
            ),
        ]


class ItemCodeSequence(models.Model):
    """The last S10 serial number a post office issued: codes are never issued twice."""

    post_office = models.OneToOneField(PostOffice, on_delete=models.PROTECT, related_name="+")
    last_number = models.PositiveIntegerField(default=0)


class TaskTransferEvent(Event):
    """Append-only history of a task transfer: planned, changed, done, with who did it."""

    transfer = models.ForeignKey(TaskTransfer, on_delete=models.CASCADE, related_name="events")
    # Every transfer change is made by a signed-in user.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )

    class Meta:
        verbose_name = _("task transfer event")
        verbose_name_plural = _("task transfer events")
        ordering = ["at", "id"]

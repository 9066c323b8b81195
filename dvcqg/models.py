"""What is sent to the National Public Service Portal (Cổng Dịch vụ công quốc gia) and how each
attempt went (docs/dvcqg.md)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import AppendOnlyModel
from dossiers.models import Dossier


class SyncEntry(models.Model):
    """One change of one dossier to report: its creation or a status change. Entries of a
    dossier are sent strictly in ``seq`` order; the payload is fixed when the change commits."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("Synchronised")
        FAILED = "failed", _("Rejected by the portal")

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="sync_entries")
    seq = models.PositiveIntegerField(_("order within the dossier"))
    action = models.CharField(_("change"), max_length=50)
    payload = models.JSONField(_("payload"))
    status = models.CharField(_("status"), max_length=7, choices=Status.choices, default=Status.PENDING)
    changed_at = models.DateTimeField(_("changed at"))
    # A change counts as synchronised on time when sent by this moment (changed_at + 24 h).
    deadline_at = models.DateTimeField(_("to be synchronised by"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    sent_at = models.DateTimeField(_("synchronised at"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("portal sync entry")
        verbose_name_plural = _("portal sync entries")
        ordering = ["dossier_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["dossier", "seq"], name="sync_entry_dossier_seq"),
            models.CheckConstraint(
                name="sync_entry_sent_has_time", condition=~Q(status="sent") | Q(sent_at__isnull=False)
            ),
        ]
        indexes = [
            # The sweep: dossiers with an entry waiting, by when it is due.
            models.Index(
                fields=["next_attempt_at"], name="sync_entry_due_idx", condition=Q(status="pending")
            ),
            # Weekly sync rate: changes in a range of weeks.
            models.Index(fields=["changed_at", "dossier"], name="sync_entry_changed_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.dossier_id}#{self.seq} {self.action}"


class SyncAttempt(AppendOnlyModel):
    """Every attempt, successful or not: the log an operator reads when the portal complains."""

    entry = models.ForeignKey(SyncEntry, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(_("time"))
    ok = models.BooleanField(_("accepted"))
    http_status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    class Meta:
        verbose_name = _("portal sync attempt")
        verbose_name_plural = _("portal sync attempts")
        ordering = ["at", "id"]

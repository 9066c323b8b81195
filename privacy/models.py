"""Personal data: who looked at an unmasked phone or identity number, and which dossiers were
anonymised under the retention rule (docs/security.md).

This app sits on top of the others (it reads dossiers and postal items); nothing imports it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.models import AppendOnlyModel
from dossiers.models import Dossier
from postal.models import PickupAppointment, PostalItem


class PersonalField(models.TextChoices):
    APPLICANT_PHONE = "applicant_phone", _("Applicant's phone")
    APPLICANT_ID_NUMBER = "applicant_id_number", _("Applicant's identity number")
    RECIPIENT_PHONE = "recipient_phone", _("Recipient's phone")
    CITIZEN_PHONE = "citizen_phone", _("Citizen's phone (appointment)")


class PersonalDataAccess(AppendOnlyModel):
    """One "show" of an unmasked value: who, when, which record, which field. Never edited."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(_("time"))
    field = models.CharField(
        pgettext_lazy("personal data", "field"), max_length=20, choices=PersonalField.choices
    )
    dossier = models.ForeignKey(
        Dossier, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("dossier")
    )
    item = models.ForeignKey(
        PostalItem,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("postal item"),
    )
    appointment = models.ForeignKey(
        PickupAppointment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("pickup appointment"),
    )

    class Meta:
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data accesses")
        ordering = ["-at", "-id"]
        indexes = [
            # "Who looked at this dossier's data?" — the audit question.
            models.Index(fields=["dossier", "at"], name="pd_access_dossier_idx"),
            # "What did this user look at?"
            models.Index(fields=["actor", "at"], name="pd_access_actor_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                name="pd_access_names_a_record",
                condition=models.Q(dossier__isnull=False)
                | models.Q(item__isnull=False)
                | models.Q(appointment__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.actor_id} {self.field} {self.at:%Y-%m-%d %H:%M}"


class AnonymisedDossier(AppendOnlyModel):
    """Marks a dossier whose applicant data was erased under the retention rule: the command
    skips it next time (idempotent), and the counts the reports need stay on the dossier."""

    dossier = models.OneToOneField(Dossier, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("anonymised at"))
    retention_years = models.PositiveSmallIntegerField(_("retention (years)"))

    class Meta:
        verbose_name = _("anonymised dossier")
        verbose_name_plural = _("anonymised dossiers")

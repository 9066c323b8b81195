from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COMMUNE_OFFICIAL = "commune_official", _("Commune official")
    POSTAL_STAFF = "postal_staff", _("Postal staff")
    POST_MANAGER = "post_manager", _("Post manager")
    LEADER = "leader", _("Leader")
    ADMINISTRATOR = "administrator", _("Administrator")


class User(AbstractUser):
    """A PostDesk user: who they are, their role, and the unit or post office they act for."""

    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    phone = models.CharField(_("phone"), max_length=15, blank=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.COMMUNE_OFFICIAL)
    unit = models.ForeignKey(
        "communes.AdministrativeUnit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("administrative unit"),
    )
    post_office = models.ForeignKey(
        "communes.PostOffice",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("post office"),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            # A user acts for something: officials and leaders for a unit, postal roles for an
            # office. Administrators and superusers may have neither.
            models.CheckConstraint(
                name="user_official_or_leader_has_unit",
                condition=~Q(role__in=["commune_official", "leader"]) | Q(unit__isnull=False),
            ),
            models.CheckConstraint(
                name="user_postal_role_has_post_office",
                condition=~Q(role__in=["postal_staff", "post_manager"]) | Q(post_office__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.username

    def get_full_name(self) -> str:
        return self.full_name or super().get_full_name() or self.username

    @property
    def is_administrator(self) -> bool:
        return self.is_superuser or self.role == Role.ADMINISTRATOR

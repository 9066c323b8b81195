"""Administrative units and the post office network they are served by."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class AdministrativeUnit(models.Model):
    """A province, a district grouping or a commune, with the dates it is valid for.

    Since 1 July 2025 there are no districts; a "district" row is a grouping of communes that
    leaders (and older data) still use. Its communes point to it as their parent.
    """

    class Level(models.TextChoices):
        PROVINCE = "province", _("Province")
        DISTRICT = "district", _("District")
        COMMUNE = "commune", _("Commune")

    class Kind(models.TextChoices):
        PROVINCE = "tinh", _("Province (tỉnh)")
        CITY = "thanh_pho", _("Centrally governed city")
        DISTRICT = "huyen", _("District (huyện)")
        URBAN_DISTRICT = "quan", _("Urban district (quận)")
        TOWN = "thi_xa", _("Town (thị xã)")
        COMMUNE = "xa", _("Commune (xã)")
        WARD = "phuong", _("Ward (phường)")
        SPECIAL_ZONE = "dac_khu", _("Special zone (đặc khu)")

    code = models.CharField(_("official code"), max_length=20, unique=True)
    # Electronic identifier of the receiving agency (mã định danh), used in dossier codes,
    # e.g. 000.06.16.G09. Optional: units without one fall back to their official code.
    identifier = models.CharField(_("agency identifier"), max_length=30, blank=True)
    name = models.CharField(_("name"), max_length=200)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent unit"),
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    class Meta:
        verbose_name = _("administrative unit")
        verbose_name_plural = _("administrative units")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                name="unit_valid_dates_ordered",
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gte=models.F("valid_from")),
            ),
            models.CheckConstraint(
                name="unit_province_has_no_parent",
                condition=~Q(level="province") | Q(parent__isnull=True),
            ),
        ]
        indexes = [
            # Scoping walks the tree: children of a set of units.
            models.Index(fields=["parent", "level"], name="unit_parent_level_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def dossier_prefix(self) -> str:
        return self.identifier or self.code


class PostOffice(models.Model):
    """A post office, commune cultural post office (BĐVHX) or postal agent."""

    class Kind(models.TextChoices):
        PROVINCE_POST = "province_post", _("Province post office")
        DISTRICT_POST = "district_post", _("District post office")
        POST_OFFICE = "post_office", _("Post office")
        CULTURAL = "cultural", _("Commune cultural post office (BĐVHX)")
        AGENT = "agent", _("Postal agent")

    class Status(models.TextChoices):
        OPERATING = "operating", _("Operating")
        SUSPENDED = "suspended", _("Suspended")
        PLANNED = "planned", _("Planned")
        CLOSED = "closed", _("Closed")

    class Premises(models.TextChoices):
        OWNED = "owned", _("Owned by the post")
        LENT = "lent", _("Lent by the commune")
        RENTED = "rented", _("Rented")
        NONE = "none", _("No premises yet")

    class Condition(models.TextChoices):
        GOOD = "good", _("Good")
        NEEDS_REPAIR = "needs_repair", _("Needs repair")
        DEGRADED = "degraded", _("Degraded")

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    commune = models.ForeignKey(
        AdministrativeUnit,
        on_delete=models.PROTECT,
        related_name="post_offices",
        verbose_name=_("commune"),
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent office"),
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPERATING)
    premises = models.CharField(
        _("premises"), max_length=10, choices=Premises.choices, default=Premises.OWNED
    )
    floor_area_m2 = models.DecimalField(
        _("floor area (m²)"), max_digits=7, decimal_places=1, null=True, blank=True
    )
    condition = models.CharField(
        _("condition"), max_length=14, choices=Condition.choices, default=Condition.GOOD
    )
    staff_count = models.PositiveSmallIntegerField(_("staff"), default=0)
    combined_with_desk = models.BooleanField(_("combined with the one-stop desk"), default=False)
    offers_bcci_intake = models.BooleanField(_("BCCI intake"), default=True)
    offers_bcci_return = models.BooleanField(_("BCCI return"), default=True)
    offers_online_assistance = models.BooleanField(_("online-service assistance"), default=False)
    offers_digitisation = models.BooleanField(_("digitisation"), default=False)
    opening_hours = models.CharField(_("opening hours"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("post office")
        verbose_name_plural = _("post offices")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                name="post_office_floor_area_plausible",
                condition=Q(floor_area_m2__isnull=True)
                | (Q(floor_area_m2__gt=0) & Q(floor_area_m2__lte=100000)),
            ),
            models.CheckConstraint(
                name="post_office_latitude_range",
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
            ),
            models.CheckConstraint(
                name="post_office_longitude_range",
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
            ),
        ]
        indexes = [
            # Scoping: the offices under a set of parent offices.
            models.Index(fields=["parent"], name="post_office_parent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"

"""Administrative units and the post office network they are served by."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.models import Event


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
    # Where citizens reach the commune's one-stop desk: printed on the receipt (Form 01) and
    # shown by the public lookup.
    desk_address = models.CharField(_("one-stop desk address"), max_length=300, blank=True)
    desk_phone = models.CharField(_("one-stop desk phone"), max_length=20, blank=True)

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

    # The word official documents put before a unit's name (Tỉnh Quảng Trị, Xã Hoàn Lão).
    # Vietnamese in every language: it is part of the name on a letterhead.
    KIND_WORDS = {
        "tinh": "Tỉnh",
        "thanh_pho": "Thành phố",
        "huyen": "Huyện",
        "quan": "Quận",
        "thi_xa": "Thị xã",
        "xa": "Xã",
        "phuong": "Phường",
        "dac_khu": "Đặc khu",
    }

    @property
    def titled_name(self) -> str:
        """The name with its kind in front, as on a letterhead: the official list writes
        provinces without it ("Quảng Trị") and communes with it ("Xã Hoàn Lão")."""
        word = self.KIND_WORDS.get(self.kind, "")
        if not word or self.name.lower().startswith(word.lower()):
            return self.name
        return f"{word} {self.name}"

    @property
    def province(self) -> AdministrativeUnit | None:
        """The province above the unit (through a district grouping if there is one): official
        forms since 1 July 2025 name the commune and its province, no district."""
        unit, hops = self, 0
        while unit is not None and unit.level != self.Level.PROVINCE and hops < 4:
            unit, hops = unit.parent, hops + 1
        return unit

    @property
    def dossier_prefix(self) -> str:
        return self.identifier or self.code


# The largest provincial post centre is a few thousand m²; anything above this is a typing error.
MAX_FLOOR_AREA_M2 = 10_000
FLOOR_AREA_MESSAGE = _("Floor area must be more than 0 and at most 10,000 m².")


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

    code = models.CharField(
        _("code"),
        max_length=20,
        unique=True,
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                _("A code may contain only letters without accents, digits, “.”, “-” and “_”."),
            )
        ],
        error_messages={"unique": _("Another post office already has this code.")},
    )
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
                | (Q(floor_area_m2__gt=0) & Q(floor_area_m2__lte=MAX_FLOOR_AREA_M2)),
                violation_error_message=FLOOR_AREA_MESSAGE,
            ),
            models.CheckConstraint(
                name="post_office_latitude_range",
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                violation_error_message=_("Latitude must be between -90 and 90."),
            ),
            models.CheckConstraint(
                name="post_office_longitude_range",
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                violation_error_message=_("Longitude must be between -180 and 180."),
            ),
        ]
        indexes = [
            # Scoping: the offices under a set of parent offices.
            models.Index(fields=["parent"], name="post_office_parent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"


class ActionKind(models.TextChoices):
    FIND_PREMISES = "find_premises", _("Find premises")
    REPAIR = "repair", _("Repair")
    REFURBISH = "refurbish", _("Refurbish")
    ENLARGE = "enlarge", _("Enlarge")
    OPEN_POINT = "open_point", _("Open a new point")
    ASSIGN_STAFF = "assign_staff", _("Assign staff")


class ActionResponsible(models.TextChoices):
    POST = "post", pgettext_lazy("responsible", "Post")
    COMMUNE = "commune", pgettext_lazy("responsible", "Commune")


class ActionStatus(models.TextChoices):
    PLANNED = "planned", pgettext_lazy("action status", "Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class NetworkAction(models.Model):
    """One improvement of the network, decided for an office or a commune.

    ``commune`` is always set (from the office when there is one), so that plans are scoped and
    counted per commune even when the action is about a commune without any office yet.
    """

    Kind = ActionKind
    Responsible = ActionResponsible
    Status = ActionStatus

    OPEN_STATUSES = (Status.PLANNED, Status.IN_PROGRESS)

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    commune = models.ForeignKey(
        AdministrativeUnit,
        on_delete=models.PROTECT,
        related_name="network_actions",
        verbose_name=_("commune"),
    )
    post_office = models.ForeignKey(
        PostOffice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="network_actions",
        verbose_name=_("post office"),
    )
    responsible = models.CharField(_("responsible"), max_length=10, choices=Responsible.choices)
    due_date = models.DateField(pgettext_lazy("network action", "due date"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PLANNED)
    completed_on = models.DateField(_("completion date"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # Empty for actions created by the system (demo data, imports without a user).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("network action")
        verbose_name_plural = _("network actions")
        ordering = ["due_date", "id"]
        constraints = [
            models.CheckConstraint(name="network_action_kind_valid", condition=Q(kind__in=ActionKind.values)),
            models.CheckConstraint(
                name="network_action_status_valid", condition=Q(status__in=ActionStatus.values)
            ),
            models.CheckConstraint(
                name="network_action_responsible_valid", condition=Q(responsible__in=ActionResponsible.values)
            ),
            # A completion date exactly when the action is done.
            models.CheckConstraint(
                name="network_action_done_has_completion_date",
                condition=Q(status="done", completed_on__isnull=False)
                | (~Q(status="done") & Q(completed_on__isnull=True)),
            ),
        ]
        indexes = [
            # Network page and plan list: open actions of a set of communes, by due date.
            models.Index(fields=["commune", "status", "due_date"], name="network_action_commune_idx"),
            models.Index(fields=["post_office", "status"], name="network_action_office_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} – {self.post_office.name if self.post_office else self.commune}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_date < timezone.localdate()


class NetworkEvent(Event):
    """What the network's history rows share: the event fields and from/to status."""

    from_status = models.CharField(_("from status"), max_length=12, blank=True)
    to_status = models.CharField(_("to status"), max_length=12, blank=True)

    class Meta:
        abstract = True


class NetworkActionEvent(NetworkEvent):
    """What happened to a network action: created, edited, started, done, cancelled."""

    network_action = models.ForeignKey(
        NetworkAction, on_delete=models.PROTECT, related_name="events", verbose_name=_("network action")
    )

    class Meta:
        verbose_name = _("network action event")
        verbose_name_plural = _("network action events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["network_action", "at"], name="network_action_event_idx")]


class PostOfficeEvent(NetworkEvent):
    """A change to a post office's record, with the fields that changed (``{field: [old, new]}``)."""

    post_office = models.ForeignKey(
        PostOffice, on_delete=models.PROTECT, related_name="events", verbose_name=_("post office")
    )

    class Meta:
        verbose_name = _("post office event")
        verbose_name_plural = _("post office events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["post_office", "at"], name="post_office_event_idx")]


class DirtyWeek(models.Model):
    """A (unit, week) whose weekly figures a write changed: the next recount run
    (``reports.process_dirty_weeks``) recounts it. Written only through
    ``communes.weekmarks.mark_weeks``; it lives with the units so that every app that writes
    dossiers, items or deliveries can mark without importing the reports.

    A log, not a set: a pair marked again gets another row (a burst of intakes at one desk adds
    a row each). With one row per pair under a unique key, a write marking a pair whose mark a
    recount was deleting had to wait for the recount's transaction to end; without it, a write
    never waits for a recount. The recount deletes the rows it read (reports.services.recount)."""

    unit = models.ForeignKey(AdministrativeUnit, on_delete=models.CASCADE, related_name="+")
    week_start = models.DateField()
    marked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("week to recompute")
        verbose_name_plural = _("weeks to recompute")
        indexes = [models.Index(fields=["week_start", "unit"], name="dirty_week_week_unit_idx")]

"""Procedures, dossiers and their history.

Statuses and channels carry the national public service portal's codes, so exports match it. "Overdue" and
"nearly due" are derived from due_date, never stored as statuses.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Func, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from communes.models import AdministrativeUnit
from core import uploads
from core.models import Event
from dossiers import statuses
from dossiers.statuses import Status


class ProcedureField(models.Model):
    """A field of administrative procedures (lĩnh vực): civil status, certification, land…"""

    code = models.CharField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("procedure field")
        verbose_name_plural = _("procedure fields")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Procedure(models.Model):
    class Level(models.TextChoices):
        # "Cấp xã" here, "Xã" for a unit: the context keeps the two apart.
        COMMUNE = "commune", pgettext_lazy("procedure level", "Commune")
        DISTRICT = "district", pgettext_lazy("procedure level", "District")
        PROVINCE = "province", pgettext_lazy("procedure level", "Province")

    national_code = models.CharField(_("national code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=400)
    field = models.ForeignKey(
        ProcedureField, on_delete=models.PROTECT, related_name="procedures", verbose_name=_("field")
    )
    level = models.CharField(
        pgettext_lazy("procedure level", "level"), max_length=10, choices=Level.choices, default=Level.COMMUNE
    )
    processing_days = models.PositiveSmallIntegerField(_("processing time (working days)"))
    fee = models.PositiveIntegerField(_("fee (VND)"), default=0)
    bcci_intake_allowed = models.BooleanField(_("BCCI intake allowed"), default=True)
    bcci_return_allowed = models.BooleanField(_("BCCI return allowed"), default=True)
    presence_required = models.BooleanField(_("applicant must be present"), default=False)
    # One document a line, as listed in the procedure; the intake form offers them.
    required_documents = models.TextField(_("required documents"), blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("procedure")
        verbose_name_plural = _("procedures")
        ordering = ["field__name", "name"]

    def __str__(self) -> str:
        return f"{self.national_code} – {self.name}"

    @property
    def document_list(self) -> list[str]:
        return [line.strip() for line in self.required_documents.splitlines() if line.strip()]


class CalendarOverride(models.Model):
    """A local exception to the national calendar: an extra day off or a make-up working day,
    nationwide or decided by one province (it does not apply in the others)."""

    class Kind(models.TextChoices):
        DAY_OFF = "day_off", _("Day off")
        WORKING_DAY = "working_day", _("Working day")

    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    reason = models.CharField(_("reason"), max_length=200)
    province = models.ForeignKey(
        AdministrativeUnit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"level": AdministrativeUnit.Level.PROVINCE},
        verbose_name=_("province"),
        help_text=_("Empty: the whole country. A province: only the dossiers of its communes."),
    )

    class Meta:
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["date"], condition=Q(province__isnull=True), name="calendar_override_national_date"
            ),
            models.UniqueConstraint(fields=["date", "province"], name="calendar_override_province_date"),
        ]

    def __str__(self) -> str:
        return f"{self.date:%d/%m/%Y} – {self.get_kind_display()}"


class IntakeChannel(models.IntegerChoices):
    IN_PERSON = 1, _("In person")
    ONLINE = 2, _("Online")
    BCCI = 3, _("By post (BCCI)")


class ReturnChannel(models.TextChoices):
    DESK = "desk", _("At the desk")
    ONLINE = "online", _("Online")
    BCCI = "bcci", _("By post (BCCI)")


class DeclineReason(models.TextChoices):
    """Why a citizen did not choose postal return: what leaders act on."""

    IN_PERSON = "in_person", _("Prefers to collect in person")
    WORRIED_PAPERS = "worried_papers", _("Worried about entrusting papers to the post")
    FEE = "fee", _("Postage fee")
    UNAWARE = "unaware", _("Did not know about the service")
    URGENT = "urgent", _("Needs the result urgently")
    OTHER = "other", _("Other")


class Timeliness(models.TextChoices):
    EARLY = "early", _("Early")
    ON_TIME = "on_time", _("On time")
    LATE = "late", _("Late")


class Dossier(models.Model):
    code = models.CharField(_("dossier code"), max_length=40, unique=True)
    procedure = models.ForeignKey(
        Procedure, on_delete=models.PROTECT, related_name="dossiers", verbose_name=_("procedure")
    )
    receiving_unit = models.ForeignKey(
        AdministrativeUnit,
        on_delete=models.PROTECT,
        related_name="dossiers",
        verbose_name=_("receiving unit"),
        db_index=False,  # three indexes below lead with the unit; a fourth would only slow writes
    )
    applicant_name = models.CharField(_("applicant"), max_length=150)
    applicant_phone = models.CharField(_("phone"), max_length=15, blank=True)
    applicant_address = models.CharField(_("address"), max_length=300, blank=True)
    # The name as the search compares it (lower case, no diacritics, đ → d: dossiers.search),
    # computed and stored by the database on every write, whatever writes the row (forms,
    # imports with COPY, the generator): a plain column the trigram index reads directly, which
    # measured faster than indexing the expression itself (docs/performance.md).
    applicant_name_folded = models.GeneratedField(
        expression=Func(F("applicant_name"), function="postdesk_fold", output_field=models.TextField()),
        output_field=models.TextField(),
        db_persist=True,
        verbose_name=_("applicant (for search)"),
    )
    # Personal data: optional, masked on screens and exports, never in URLs or logs.
    applicant_id_number = models.CharField(_("identity number"), max_length=12, blank=True)
    # Second factor for the public lookup, printed on the receipt.
    tracking_pin = models.CharField(_("lookup PIN"), max_length=6)

    intake_channel = models.PositiveSmallIntegerField(
        _("intake channel"), choices=IntakeChannel.choices, default=IntakeChannel.IN_PERSON
    )
    return_channel = models.CharField(
        _("return channel"), max_length=6, choices=ReturnChannel.choices, default=ReturnChannel.DESK
    )
    decline_reason = models.CharField(
        _("reason for declining postal return"), max_length=16, choices=DeclineReason.choices, blank=True
    )
    decline_note = models.CharField(_("note on the reason"), max_length=300, blank=True)
    received_by_post = models.BooleanField(_("received by postal staff under a task transfer"), default=False)
    # Asked at intake ("không nhận tin nhắn"); the stop link of any message sets it too.
    messages_declined = models.BooleanField(_("does not want text messages"), default=False)

    status = models.PositiveSmallIntegerField(_("status"), choices=Status.choices, default=Status.REGISTERED)
    # Legal submission time; empty for a BCCI intake until the handover to the desk is signed.
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    original_due_date = models.DateField(_("original due date"), null=True, blank=True)
    finished_at = models.DateTimeField(_("processing ended at"), null=True, blank=True)
    returned_at = models.DateTimeField(_("result returned at"), null=True, blank=True)
    timeliness = models.CharField(_("timeliness"), max_length=8, choices=Timeliness.choices, blank=True)

    version = models.PositiveIntegerField(_("version"), default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("dossier")
        verbose_name_plural = _("dossiers")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="dossier_finished_after_received",
                condition=Q(finished_at__isnull=True)
                | Q(received_at__isnull=False, finished_at__gte=F("received_at")),
            ),
            models.CheckConstraint(
                name="dossier_returned_after_received",
                condition=Q(returned_at__isnull=True)
                | Q(received_at__isnull=False, returned_at__gte=F("received_at")),
            ),
            models.CheckConstraint(
                name="dossier_due_not_before_original",
                condition=Q(due_date__isnull=True)
                | Q(original_due_date__isnull=True)
                | Q(due_date__gte=F("original_due_date")),
            ),
            models.CheckConstraint(
                name="dossier_decline_reason_only_without_bcci",
                condition=~Q(return_channel="bcci") | Q(decline_reason=""),
            ),
            models.CheckConstraint(
                name="dossier_status_code_valid", condition=Q(status__gte=1, status__lte=10)
            ),
            models.CheckConstraint(
                name="dossier_intake_channel_valid", condition=Q(intake_channel__in=[1, 2, 3])
            ),
        ]
        indexes = [
            # The scoped list: one unit's dossiers, newest first.
            models.Index(fields=["receiving_unit", "-received_at", "-id"], name="dossier_unit_received_idx"),
            # Status filters and the "overdue / nearly due" lists of a unit.
            models.Index(fields=["receiving_unit", "status", "due_date"], name="dossier_unit_status_due_idx"),
            # The dashboard's "late / nearly due" lists: dossiers whose clock runs, by due date.
            models.Index(
                fields=["receiving_unit", "due_date", "id"],
                name="dossier_running_due_idx",
                condition=Q(status__in=statuses.RUNNING),
            ),
            # The dashboard's late and nearly-due lists over the whole country (no unit to lead
            # with): the running dossiers in due-date order, a few thousand at 1 M; without it
            # the planner walks dossier_due_idx through the ended dossiers (0.45 s at 1 M).
            models.Index(
                fields=["due_date", "id"],
                name="dossier_running_by_due_idx",
                condition=Q(status__in=statuses.RUNNING),
            ),
            # The list filtered to dossiers running against their deadline (the overdue and
            # nearly-due filters, a running status), newest first: a walk of the small set of
            # running dossiers, however few of them match and however old they are.
            models.Index(
                fields=["-received_at", "-id"],
                name="dossier_running_received_idx",
                condition=Q(status__in=statuses.RUNNING),
            ),
            # Weekly rates (reports.services.aggregation), one per grouped query. Each carries
            # every column its query reads, so the year of rows is read from the index alone
            # (index-only scan) instead of one table page per row.
            # received_counts: received_at in the weeks, GROUP BY unit, week, channels, reason.
            # It also serves the list's newest-first walk over several communes (a backward scan)
            # and received_at ranges in general.
            models.Index(
                fields=[
                    "received_at",
                    "receiving_unit",
                    "intake_channel",
                    "return_channel",
                    "decline_reason",
                ],
                name="dossier_week_received_idx",
            ),
            # finished_counts: finished_at in the weeks, status <> withdrawn, GROUP BY unit, week,
            # timeliness; overdue_counts: finished_at >= the first week's end (or NULL), received
            # and due before the end, returned after the first week's end.
            models.Index(
                fields=[
                    "finished_at",
                    "receiving_unit",
                    "status",
                    "timeliness",
                    "received_at",
                    "due_date",
                    "returned_at",
                ],
                name="dossier_week_finished_idx",
            ),
            # returned_counts: returned_at in the weeks, GROUP BY unit, week, return channel.
            models.Index(
                fields=["returned_at", "receiving_unit", "return_channel"], name="dossier_week_returned_idx"
            ),
            # The list sorted by due date (soonest or latest first), keyset-paged on (due_date, id).
            models.Index(fields=["due_date", "id"], name="dossier_due_idx"),
            # Search by phone (dossiers.search): exact digits on the normalised column.
            models.Index(
                fields=["applicant_phone"], name="dossier_phone_idx", condition=~Q(applicant_phone="")
            ),
            # Search by name without diacritics and by part of a code: trigram indexes on
            # PostgreSQL only (migration 0004_search_without_diacritics).
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def status_badge(self) -> str:
        return statuses.BADGES.get(self.status, statuses.DEFAULT_BADGE)

    @property
    def is_open(self) -> bool:
        return self.status in statuses.OPEN


class DossierCodeSequence(models.Model):
    """The last number used for a unit on a day: a code is never handed out twice, even when
    its dossier was refused or withdrawn."""

    unit = models.ForeignKey(AdministrativeUnit, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "day"], name="dossier_sequence_unit_day")]


class DossierDocument(models.Model):
    """A paper handed in: the custody record that lets citizens trust the post with originals."""

    class Form(models.TextChoices):
        ORIGINAL = "original", _("Original")
        CERTIFIED_COPY = "certified_copy", _("Certified copy")
        COPY = "copy", _("Copy")

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="documents")
    name = models.CharField(_("document"), max_length=300)
    form = models.CharField(_("original or copy"), max_length=14, choices=Form.choices, default=Form.COPY)
    count = models.PositiveSmallIntegerField(_("number of copies"), default=1)
    returned = models.BooleanField(_("returned to the citizen"), default=False)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        constraints = [models.CheckConstraint(name="document_count_positive", condition=Q(count__gte=1))]

    def __str__(self) -> str:
        return self.name


class DossierEvent(Event):
    """Append-only history: one row per change, never edited."""

    dossier = models.ForeignKey(
        Dossier,
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,  # dossier_event_timeline_idx leads with it; a second index only slows writes
    )
    from_status = models.PositiveSmallIntegerField(choices=Status.choices, null=True, blank=True)
    to_status = models.PositiveSmallIntegerField(choices=Status.choices, null=True, blank=True)

    class Meta:
        verbose_name = _("dossier event")
        verbose_name_plural = _("dossier events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["dossier", "at"], name="dossier_event_timeline_idx")]

    def __str__(self) -> str:
        return f"{self.dossier_id} {self.action}"


class SupplementRequest(models.Model):
    """Form 02: the citizen is asked to complete the dossier; the deadline restarts on completion."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="supplement_requests")
    requested_at = models.DateTimeField(_("requested at"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    items = models.TextField(_("documents to supplement"))
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("supplement request")
        verbose_name_plural = _("supplement requests")
        constraints = [
            models.CheckConstraint(
                name="supplement_completed_after_requested",
                condition=Q(completed_at__isnull=True) | Q(completed_at__gte=F("requested_at")),
            ),
        ]


class Extension(models.Model):
    """Form 04: apology and new date — at most once per dossier."""

    dossier = models.OneToOneField(Dossier, on_delete=models.CASCADE, related_name="extension")
    issued_at = models.DateTimeField(_("issued at"))
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"))
    previous_due_date = models.DateField(_("previous due date"))
    new_due_date = models.DateField(_("new due date"))

    class Meta:
        verbose_name = _("extension")
        verbose_name_plural = _("extensions")
        constraints = [
            models.CheckConstraint(
                name="extension_moves_due_date_later", condition=Q(new_due_date__gt=F("previous_due_date"))
            ),
        ]


class ImportJob(models.Model):
    """One uploaded file of dossiers from a provincial one-stop system, and its progress.

    Progress lives here (not in the task result) so a status fragment can poll it from any web
    process; the rows themselves are streamed from the stored file.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Imported")
        REJECTED = "rejected", _("Rejected: nothing imported")
        FAILED = "failed", _("Failed")

    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all", _("Import only if every row is valid")
        GOOD_ROWS = "good", _("Import the valid rows, report the others")

    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    mode = models.CharField(_("mode"), max_length=4, choices=Mode.choices, default=Mode.ALL_OR_NOTHING)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    phase = models.CharField(_("phase"), max_length=20, blank=True)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    created_count = models.PositiveIntegerField(_("dossiers created"), default=0)
    updated_count = models.PositiveIntegerField(_("dossiers updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("dossiers unchanged"), default=0)
    error_count = models.PositiveIntegerField(_("bad rows"), default=0)
    # [{"line": 12, "message": "…"}, …], the first MAX_REPORTED_ERRORS of them.
    errors = models.JSONField(_("errors"), default=list, blank=True)
    message = models.CharField(_("message"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # Last sign of life of the process running the job: a running job that stops reporting
    # has lost its worker (dossiers.importing.fail_stalled_jobs).
    heartbeat_at = models.DateTimeField(_("last progress"), null=True, blank=True)

    MAX_REPORTED_ERRORS = uploads.MAX_REPORTED_ERRORS

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="import_processed_not_above_total",
                condition=Q(processed_rows__lte=F("total_rows")) | Q(total_rows=0),
            ),
        ]

    def __str__(self) -> str:
        return self.original_name

    @property
    def percent(self) -> int:
        """Checking the rows is the first half of the bar, writing them the second."""
        if self.is_finished:
            return 100
        if not self.total_rows:
            return 0
        share = min(1.0, self.processed_rows / self.total_rows)
        return int(50 * share) + (50 if self.phase == "writing" else 0)

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.REJECTED, self.Status.FAILED)


class LookupWindow(models.Model):
    """How many /track/ lookups one client address made in one window: the rate limit, shared
    by every web process and independent of Redis (dossiers.tracking)."""

    client = models.CharField(max_length=64)  # a keyed hash of the address, never the address
    window = models.BigIntegerField()  # seconds since the epoch // WINDOW
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "window"], name="lookup_window_client_window_unique")
        ]
        indexes = [
            # Old windows are deleted in one range scan (tracking.forget_old_windows).
            models.Index(fields=["window"], name="lookup_window_window_idx"),
        ]


class IntakeSubmission(models.Model):
    """The one-time key an intake form carries: posting the same form again (a double click, a
    reload, a retry after a timeout) finds the dossier the first post created instead of
    creating another."""

    key = models.UUIDField(unique=True)
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

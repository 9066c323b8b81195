"""Weekly snapshots of the reform-index counts, the targets they are read against, and the
bookkeeping of their computation (docs/reports.md gives every definition)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from communes.models import AdministrativeUnit
from core.models import AppendOnlyModel

# Counters of a WeeklyRate row, in the order reports show them. Rollups and period sums add
# exactly these fields.
COUNTERS = (
    "received",
    "received_bcci",
    "received_online",
    "returned",
    "returned_bcci",
    "finished",
    "finished_early",
    "finished_on_time",
    "finished_late",
    "open_overdue",
    "items_delivered",
    "items_on_target",
    "items_returned_to_sender",
    "declined_in_person",
    "declined_worried_papers",
    "declined_fee",
    "declined_unaware",
    "declined_urgent",
    "declined_other",
    "declined_unrecorded",
    # Citizens' ratings after delivery and the national portal sync (counted by notify and
    # dvcqg, which register their measures with reports.services.aggregation).
    "ratings",
    "ratings_satisfied",
    "rating_stars",
    "ratings_low",
    "portal_changed",
    "portal_synced_on_time",
)
# Stocks: counted at a moment (the end of the week). Over several weeks a stock is its value in
# the last week of the period, never a sum; every other counter is a flow, summed over the weeks.
STOCKS = ("open_overdue",)
FLOWS = tuple(name for name in COUNTERS if name not in STOCKS)
# dossiers.DeclineReason value -> counter; a blank reason is "unrecorded".
DECLINE_COUNTERS = {
    "in_person": "declined_in_person",
    "worried_papers": "declined_worried_papers",
    "fee": "declined_fee",
    "unaware": "declined_unaware",
    "urgent": "declined_urgent",
    "other": "declined_other",
    "": "declined_unrecorded",
}


def _counter(label):
    return models.PositiveIntegerField(label, default=0)


class WeeklyRate(models.Model):
    """One unit's counts for one ISO week (Monday 00:00 to Monday 00:00, local time).

    A commune's row counts the dossiers it received; a district's or province's row is the sum of
    the rows of the units under it. Rows are replaced a whole week at a time, in one transaction.
    """

    unit = models.ForeignKey(
        AdministrativeUnit, on_delete=models.CASCADE, related_name="weekly_rates", verbose_name=_("unit")
    )
    week_start = models.DateField(_("week (Monday)"))
    received = _counter(_("dossiers received"))
    received_bcci = _counter(_("received by BCCI"))
    received_online = _counter(_("received online"))
    returned = _counter(_("results returned"))
    returned_bcci = _counter(_("returned by BCCI"))
    finished = _counter(_("finished"))
    finished_early = _counter(_("finished early"))
    finished_on_time = _counter(_("finished on time"))
    finished_late = _counter(_("finished late"))
    open_overdue = _counter(_("open and overdue at week end"))
    items_delivered = _counter(_("postal items delivered"))
    items_on_target = _counter(_("delivered within the J+n target"))
    items_returned_to_sender = _counter(_("items returned to the agency"))
    declined_in_person = _counter(_("declined: prefers to collect in person"))
    declined_worried_papers = _counter(_("declined: worried about papers"))
    declined_fee = _counter(_("declined: postage fee"))
    declined_unaware = _counter(_("declined: did not know the service"))
    declined_urgent = _counter(_("declined: needs the result urgently"))
    declined_other = _counter(_("declined: other reason"))
    declined_unrecorded = _counter(_("declined: reason not recorded"))
    # Satisfaction: answers in the week, their stars added up (mean = stars / answers), low ones.
    ratings = _counter(_("ratings received"))
    ratings_satisfied = _counter(_("ratings of 4 or 5 stars"))
    rating_stars = _counter(_("stars given, added up"))
    ratings_low = _counter(_("ratings of 2 stars or fewer"))
    # National portal sync rate = synchronised within 24 h / dossiers changed in the week.
    portal_changed = _counter(_("dossiers changed (to synchronise)"))
    portal_synced_on_time = _counter(_("dossiers synchronised within 24 h"))
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("weekly rate")
        verbose_name_plural = _("weekly rates")
        ordering = ["-week_start", "unit__name"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "week_start"], name="weekly_rate_unit_week"),
        ]
        indexes = [
            # Replacing a week deletes by week; the freshness line reads max(computed_at).
            models.Index(fields=["week_start"], name="weekly_rate_week_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.week_start:%d/%m/%Y}"


class ComputedWeek(models.Model):
    """When a week was last computed, even when it had nothing to count: the freshness line.

    ``computed_at``: the last recount of the week, whole or of the units writes marked
    (reports.services.recount); ``counted_whole_at``: the last recount of every unit, which the
    week in progress needs every 15 minutes (dossiers become overdue without a write)."""

    week_start = models.DateField(_("week (Monday)"), unique=True)
    computed_at = models.DateTimeField(_("computed at"))
    counted_whole_at = models.DateTimeField(_("counted whole at"), null=True, blank=True)
    rows = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("computed week")
        verbose_name_plural = _("computed weeks")
        ordering = ["-week_start"]

    def __str__(self) -> str:
        return f"{self.week_start:%d/%m/%Y}"


class Metric(models.TextChoices):
    BCCI_RETURN_RATE = "bcci_return_rate", _("BCCI return rate")
    BCCI_INTAKE_RATE = "bcci_intake_rate", _("BCCI intake rate")
    ON_TIME_RATE = "on_time_rate", _("On-time rate")
    ONLINE_RATE = "online_rate", _("Online rate")
    JN_COMPLIANCE = "jn_compliance", _("J+n delivery compliance")
    SATISFACTION_RATE = "satisfaction_rate", _("Citizens satisfied (4–5 stars)")
    PORTAL_SYNC_RATE = "portal_sync_rate", _("Synchronised to the national portal within 24 h")


class Target(models.Model):
    """A unit's target for one metric in one year, in percent. Units without one inherit the
    nearest target set above them (a district's target applies to its communes)."""

    unit = models.ForeignKey(
        AdministrativeUnit, on_delete=models.CASCADE, related_name="report_targets", verbose_name=_("unit")
    )
    year = models.PositiveSmallIntegerField(
        _("year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    metric = models.CharField(_("metric"), max_length=20, choices=Metric.choices)
    value = models.DecimalField(
        _("target (%)"),
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["-year", "unit__name", "metric"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "year", "metric"], name="target_unit_year_metric"),
            models.CheckConstraint(
                name="target_value_is_a_percentage", condition=Q(value__gte=0, value__lte=100)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.year} {self.get_metric_display()}: {self.value} %"


class TargetChange(AppendOnlyModel):
    """Append-only history of targets: who set what, when."""

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="changes")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(_("time"))
    old_value = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    new_value = models.DecimalField(max_digits=5, decimal_places=1)

    class Meta:
        verbose_name = _("target change")
        verbose_name_plural = _("target changes")
        ordering = ["at", "id"]


class ComputationRun(models.Model):
    """A recomputation somebody asked for: what it covers, how far it got, how it ended."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the queue")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    first_week = models.DateField(_("first week"))
    last_week = models.DateField(_("last week"))
    weeks_total = models.PositiveSmallIntegerField(default=0)
    weeks_done = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    # When it was last handed to the queue: a run queued much longer than its task can wait was
    # lost with a worker, and the periodic task sends it again (reports.services.runs).
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("recomputation")
        verbose_name_plural = _("recomputations")
        ordering = ["-requested_at", "-id"]
        indexes = [
            # The periodic task picks up runs that could not be queued while Redis was down.
            models.Index(fields=["status"], name="computation_run_status_idx"),
        ]

    @property
    def percent(self) -> int:
        return round(100 * self.weeks_done / self.weeks_total) if self.weeks_total else 0

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.QUEUED, self.Status.RUNNING)

"""Scoped reads for dashboards and exports. Every read here is a fixed number of queries,
whatever the number of weeks, communes or dossiers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Max, Q, QuerySet, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts import scoping
from accounts.models import Role
from communes.models import AdministrativeUnit
from dossiers import statuses
from dossiers.models import Dossier
from reports.models import COUNTERS, ComputationRun, ComputedWeek, Metric, Target, WeeklyRate
from reports.rates import RATES, all_rates, gap, sum_counts

Level = AdministrativeUnit.Level
NEARLY_DUE_DAYS = 2
LIST_LIMIT = 20


# --- units -------------------------------------------------------------------------------------


def dashboard_unit(user, unit_id: int | None) -> AdministrativeUnit:
    """The unit a dashboard shows: the one asked for (404 outside the scope) or the user's own."""
    units = scoping.units_visible_to(user).select_related("parent")
    if unit_id is not None:
        return get_object_or_404(units, pk=unit_id)
    if user.unit_id:
        return get_object_or_404(units, pk=user.unit_id)
    # Administrators without a unit: the first province (or anything) that has figures.
    with_rows = units.filter(weekly_rates__isnull=False).distinct()
    unit = (
        with_rows.filter(level=Level.PROVINCE).order_by("name").first()
        or with_rows.order_by("level", "name").first()
        or units.filter(level=Level.PROVINCE).order_by("name").first()
    )
    if unit is None:
        raise Http404
    return unit


def unit_choices(user, unit: AdministrativeUnit) -> QuerySet[AdministrativeUnit]:
    """Units offered in the dashboard's unit picker: provinces and districts in scope, and the
    communes of the unit shown."""
    units = scoping.units_visible_to(user)
    if user.role == Role.COMMUNE_OFFICIAL and not user.is_administrator:
        return units.order_by("name")
    return units.filter(
        Q(level__in=[Level.PROVINCE, Level.DISTRICT]) | Q(parent=unit) | Q(pk=unit.pk)
    ).order_by("level", "name")


def subtree_filter(unit: AdministrativeUnit, prefix: str = "") -> Q:
    """The unit and every unit under it (provinces, district groupings, communes: 3 levels)."""
    return (
        Q(**{f"{prefix}pk": unit.pk})
        | Q(**{f"{prefix}parent": unit.pk})
        | Q(**{f"{prefix}parent__parent": unit.pk})
    )


def communes_of(unit: AdministrativeUnit) -> QuerySet[AdministrativeUnit]:
    return AdministrativeUnit.objects.filter(subtree_filter(unit), level=Level.COMMUNE).order_by("name")


# --- counts ------------------------------------------------------------------------------------


def _sums() -> dict:
    return {name: Sum(name) for name in COUNTERS}


def period_counts(unit: AdministrativeUnit, first: date, last: date) -> dict[str, int]:
    """The unit's counts summed over the weeks first..last (Mondays)."""
    totals = WeeklyRate.objects.filter(unit=unit, week_start__gte=first, week_start__lte=last).aggregate(
        **_sums()
    )
    return {name: totals[name] or 0 for name in COUNTERS}


def weekly_series(unit: AdministrativeUnit, first: date, last: date) -> list[tuple[date, dict]]:
    """One entry per week first..last, zero counts for weeks without a row."""
    rows = {
        row["week_start"]: row
        for row in WeeklyRate.objects.filter(unit=unit, week_start__gte=first, week_start__lte=last).values(
            "week_start", *COUNTERS
        )
    }
    series, monday = [], first
    while monday <= last:
        series.append((monday, rows.get(monday) or dict.fromkeys(COUNTERS, 0)))
        monday += timedelta(weeks=1)
    return series


def computed_at(first: date, last: date) -> datetime | None:
    """When the figures of the weeks shown were last computed (a week is computed for all units
    at once), or None when they never were."""
    return ComputedWeek.objects.filter(week_start__gte=first, week_start__lte=last).aggregate(
        at=Max("computed_at")
    )["at"]


# --- targets -----------------------------------------------------------------------------------


def _ancestor_map(unit_ids: set[int]) -> dict[int, int | None]:
    parents: dict[int, int | None] = {}
    frontier = set(unit_ids)
    while frontier:
        found = dict(AdministrativeUnit.objects.filter(pk__in=frontier).values_list("pk", "parent_id"))
        parents.update(found)
        frontier = {p for p in found.values() if p is not None and p not in parents}
    return parents


def targets_for(unit_ids: list[int], year: int) -> dict[int, dict[str, Decimal]]:
    """Each unit's targets for the year; a unit without its own inherits the nearest above."""
    parents = _ancestor_map(set(unit_ids))
    own: dict[int, dict[str, Decimal]] = {}
    for unit_id, metric, value in Target.objects.filter(unit_id__in=parents, year=year).values_list(
        "unit_id", "metric", "value"
    ):
        own.setdefault(unit_id, {})[metric] = value
    result: dict[int, dict[str, Decimal]] = {}
    for unit_id in unit_ids:
        resolved: dict[str, Decimal] = {}
        node: int | None = unit_id
        seen: set[int] = set()
        while node is not None and node not in seen:
            seen.add(node)
            for metric, value in own.get(node, {}).items():
                resolved.setdefault(metric, value)
            node = parents.get(node)
        result[unit_id] = resolved
    return result


def targets_visible_to(user) -> QuerySet[Target]:
    return scoping.filter_by_unit(Target.objects.select_related("unit", "updated_by"), user).order_by(
        "-year", "unit__name", "metric"
    )


# --- figures against targets --------------------------------------------------------------------


@dataclass
class RateFigure:
    metric: str
    label: str
    value: Decimal | None
    numerator: int
    denominator: int
    target: Decimal | None
    gap: Decimal | None


def figures(counts: dict[str, int], targets: dict[str, Decimal]) -> list[RateFigure]:
    rates = all_rates(counts)
    return [
        RateFigure(
            metric=definition.metric,
            label=Metric(definition.metric).label,
            value=rates[definition.metric],
            numerator=sum(counts[f] for f in definition.numerator),
            denominator=counts[definition.denominator],
            target=targets.get(definition.metric),
            gap=gap(rates[definition.metric], targets.get(definition.metric)),
        )
        for definition in RATES
    ]


@dataclass
class UnitRow:
    unit: AdministrativeUnit
    counts: dict[str, int]
    rates: dict[str, Decimal | None]
    targets: dict[str, Decimal]
    figures: list[RateFigure] = field(default_factory=list)

    @property
    def bcci_return_rate(self) -> Decimal | None:
        return self.rates[Metric.BCCI_RETURN_RATE]

    @property
    def declined(self) -> int:
        return sum(self.counts[name] for name in COUNTERS if name.startswith("declined_"))


def unit_rows(units: list[AdministrativeUnit], first: date, last: date, year: int) -> list[UnitRow]:
    """Counts, rates and targets of each unit over the period: three queries for any number."""
    ids = [u.pk for u in units]
    sums = {
        row["unit_id"]: row
        for row in WeeklyRate.objects.filter(unit_id__in=ids, week_start__gte=first, week_start__lte=last)
        .order_by()
        .values("unit_id")
        .annotate(**_sums())
    }
    targets = targets_for(ids, year)
    rows = []
    for unit in units:
        counts = sum_counts([sums[unit.pk]]) if unit.pk in sums else dict.fromkeys(COUNTERS, 0)
        rows.append(
            UnitRow(
                unit=unit,
                counts=counts,
                rates=all_rates(counts),
                targets=targets[unit.pk],
                figures=figures(counts, targets[unit.pk]),
            )
        )
    return rows


def ranking(rows: list[UnitRow]) -> list[UnitRow]:
    """Best BCCI return rate first; communes with no results returned come last."""
    return sorted(
        rows,
        key=lambda r: (
            r.bcci_return_rate is None,
            -(r.bcci_return_rate or 0),
            -r.counts["returned"],
            r.unit.name,
        ),
    )


# --- dossiers to act on -------------------------------------------------------------------------


def dossiers_to_act_on(user, unit: AdministrativeUnit, today: date) -> dict:
    """Open dossiers of the unit's subtree that are late, or due within NEARLY_DUE_DAYS days."""
    open_dossiers = scoping.filter_by_unit(
        Dossier.objects.filter(
            # The subtree's units as a subquery, so the open-dossier index serves each unit.
            receiving_unit__in=AdministrativeUnit.objects.filter(subtree_filter(unit)).values("pk"),
            status__in=sorted(statuses.OPEN),
            due_date__isnull=False,
        ),
        user,
        field="receiving_unit",
    ).select_related("procedure", "receiving_unit")
    late = open_dossiers.filter(due_date__lt=today).order_by("due_date", "id")
    nearly = open_dossiers.filter(
        due_date__gte=today, due_date__lte=today + timedelta(days=NEARLY_DUE_DAYS)
    ).order_by("due_date", "id")
    shown = ("code", "due_date", "procedure__name", "receiving_unit__name")  # what the lists print
    return {
        "late": list(late.only(*shown)[:LIST_LIMIT]),
        "late_count": late.count(),
        "nearly_due": list(nearly.only(*shown)[:LIST_LIMIT]),
        "nearly_due_count": nearly.count(),
    }


def latest_run() -> ComputationRun | None:
    return ComputationRun.objects.order_by("-id").first()

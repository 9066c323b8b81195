"""Scoped reads for dashboards and exports. Every read here is a fixed number of queries,
whatever the number of weeks, communes or dossiers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cached_property

from django.db.models import Count, Max, Q, QuerySet, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from communes import scoping
from communes.models import AdministrativeUnit
from dossiers.models import Dossier
from dossiers.selectors import nearly_due_filter, overdue_filter
from reports.models import COUNTERS, FLOWS, STOCKS, ComputationRun, ComputedWeek, Metric, Target, WeeklyRate
from reports.rates import RATES, all_rates, gap, rate

Level = AdministrativeUnit.Level
COUNTRY = "all"  # the ``unit`` parameter of the whole country (administrators)
RANKING_PAGE_SIZE = 50


class Country:
    """The whole country, for administrators: the sum of the provinces' rows. Quacks like the
    few attributes of an AdministrativeUnit the dashboard reads."""

    pk = id = COUNTRY
    parent = None
    level = "country"

    @property
    def name(self) -> str:
        return str(_("Whole country"))

    def __str__(self) -> str:
        return self.name

    def __eq__(self, other) -> bool:
        return isinstance(other, Country)

    def __hash__(self) -> int:
        return hash(COUNTRY)


LIST_LIMIT = 20


# --- units -------------------------------------------------------------------------------------


def sees_country(user) -> bool:
    return scoping.unit_ids(user) is scoping.ALL


def dashboard_unit(user, unit_id: int | str | None) -> AdministrativeUnit | Country:
    """The unit a dashboard shows: the one asked for (404 outside the scope) or the user's own;
    the whole country for those who see every unit."""
    units = scoping.units_visible_to(user).select_related("parent")
    if unit_id == COUNTRY:
        if not sees_country(user):
            raise Http404
        return Country()
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


def unit_choices(user, unit: AdministrativeUnit | Country) -> list:
    """Units offered in the dashboard's unit picker: the whole country (for those who see it),
    provinces and districts in scope, and the communes of the unit shown."""
    units = scoping.units_visible_to(user)
    if user.role == Role.COMMUNE_OFFICIAL and not user.is_administrator:
        return list(units.order_by("name"))
    around = Q() if isinstance(unit, Country) else Q(parent=unit) | Q(pk=unit.pk)
    choices = list(
        units.filter(Q(level__in=[Level.PROVINCE, Level.DISTRICT]) | around).order_by("level", "name")
    )
    return [Country(), *choices] if sees_country(user) else choices


def subtree_filter(unit: AdministrativeUnit, prefix: str = "") -> Q:
    """The unit and every unit under it (provinces, district groupings, communes: 3 levels)."""
    return (
        Q(**{f"{prefix}pk": unit.pk})
        | Q(**{f"{prefix}parent": unit.pk})
        | Q(**{f"{prefix}parent__parent": unit.pk})
    )


def subtree_units(unit: AdministrativeUnit | Country) -> QuerySet[AdministrativeUnit]:
    if isinstance(unit, Country):
        return AdministrativeUnit.objects.all()
    return AdministrativeUnit.objects.filter(subtree_filter(unit))


def communes_of(unit: AdministrativeUnit | Country) -> QuerySet[AdministrativeUnit]:
    return subtree_units(unit).filter(level=Level.COMMUNE).order_by("name")


def ranked_units_of(unit: AdministrativeUnit | Country) -> QuerySet[AdministrativeUnit]:
    """What the dashboard ranks: the communes of a unit; for the whole country, its provinces
    (each links to its own dashboard ranking its communes), so the page stays a page."""
    if isinstance(unit, Country):
        return AdministrativeUnit.objects.filter(level=Level.PROVINCE, parent__isnull=True).order_by("name")
    return communes_of(unit)


def _rows_of(unit: AdministrativeUnit | Country) -> QuerySet[WeeklyRate]:
    """The weekly rows that hold the unit's counts: its own, or the provinces' for the country."""
    if isinstance(unit, Country):
        return WeeklyRate.objects.filter(unit__level=Level.PROVINCE, unit__parent__isnull=True)
    return WeeklyRate.objects.filter(unit=unit)


# --- counts ------------------------------------------------------------------------------------


def _sums(names=COUNTERS) -> dict:
    return {name: Sum(name) for name in names}


def period_counts(unit: AdministrativeUnit | Country, first: date, last: date) -> dict[str, int]:
    """The unit's counts over the weeks first..last (Mondays): flows summed over the weeks,
    stocks (open and overdue) as they were in the last week."""
    totals = (
        _rows_of(unit)
        .filter(week_start__gte=first, week_start__lte=last)
        .aggregate(**_sums(FLOWS), **{name: Sum(name, filter=Q(week_start=last)) for name in STOCKS})
    )
    return {name: totals[name] or 0 for name in COUNTERS}


def weekly_series(unit: AdministrativeUnit | Country, first: date, last: date) -> list[tuple[date, dict]]:
    """One entry per week first..last, zero counts for weeks without a row."""
    rows = {
        row["week_start"]: row
        for row in _rows_of(unit)
        .filter(week_start__gte=first, week_start__lte=last)
        .order_by()
        .values("week_start")
        .annotate(**_sums())
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


def _ancestor_map(unit_ids: set[int], known: dict[int, int | None] | None = None) -> dict[int, int | None]:
    """Each unit's parent, up to the top; ``known`` parents (units already loaded) are not
    read again, so a province's or the country's communes cost a query for the few units above."""
    parents: dict[int, int | None] = dict(known or {})
    frontier = set(unit_ids) - parents.keys()
    frontier |= {p for p in parents.values() if p is not None and p not in parents}
    while frontier:
        found = dict(AdministrativeUnit.objects.filter(pk__in=frontier).values_list("pk", "parent_id"))
        parents.update(found)
        frontier = {p for p in found.values() if p is not None and p not in parents}
    return parents


def targets_for(unit_ids: list, year: int, *, parents: dict[int, int | None] | None = None) -> dict:
    """Each unit's targets for the year; a unit without its own inherits the nearest above. The
    whole country has none (targets are set by provinces and below). ``parents``: the parent of
    each unit when the caller has the units already."""
    if COUNTRY in unit_ids:
        return {COUNTRY: {}} | targets_for([pk for pk in unit_ids if pk != COUNTRY], year, parents=parents)
    parents = _ancestor_map(set(unit_ids), parents)
    own: dict[int, dict[str, Decimal]] = {}
    # A year's targets are a few hundred rows at most: read them all rather than name every unit.
    for unit_id, metric, value in Target.objects.filter(year=year).values_list("unit_id", "metric", "value"):
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
    targets: dict[str, Decimal]

    # Worked out when first read: a national ranking has 3,321 rows and shows 50 of them.
    @cached_property
    def rates(self) -> dict[str, Decimal | None]:
        return all_rates(self.counts)

    @cached_property
    def figures(self) -> list[RateFigure]:
        return figures(self.counts, self.targets)

    @cached_property
    def bcci_return_rate(self) -> Decimal | None:
        return rate(self.counts, Metric.BCCI_RETURN_RATE)

    @cached_property
    def bcci_gap(self) -> Decimal | None:
        return gap(self.bcci_return_rate, self.targets.get(Metric.BCCI_RETURN_RATE))

    @cached_property
    def on_time_rate(self) -> Decimal | None:
        return rate(self.counts, Metric.ON_TIME_RATE)

    @cached_property
    def declined(self) -> int:
        return sum(self.counts[name] for name in COUNTERS if name.startswith("declined_"))


def unit_rows(
    units: list, first: date, last: date, year: int, *, among=None, targets: dict | None = None
) -> list[UnitRow]:
    """Counts, rates and targets of each unit over the period (flows summed, stocks of the last
    week): three queries for any number of units, one when ``targets`` (targets_for of the
    units) is given. ``among``: a queryset of the units, sent as a subquery instead of a list of
    thousands of ids (a province's or the country's communes)."""
    ids = among.values("pk") if among is not None else [u.pk for u in units if not isinstance(u, Country)]
    found = {
        row.pop("unit_id"): row
        for row in WeeklyRate.objects.filter(unit_id__in=ids, week_start__gte=first, week_start__lte=last)
        .order_by()
        .values("unit_id")
        .annotate(**_sums(FLOWS), **{name: Sum(name, filter=Q(week_start=last)) for name in STOCKS})
    }
    if targets is None:
        known = {u.pk: u.parent_id for u in units if not isinstance(u, Country)}
        targets = targets_for([u.pk for u in units], year, parents=known)
    result = []
    zero = dict.fromkeys(COUNTERS, 0)
    for unit in units:
        if isinstance(unit, Country):
            counts = period_counts(unit, first, last)
        else:
            row = found.get(unit.pk)
            counts = {name: row[name] or 0 for name in COUNTERS} if row else dict(zero)
        result.append(UnitRow(unit=unit, counts=counts, targets=targets[unit.pk]))
    return result


@dataclass
class Ranking:
    """Communes with a BCCI return rate, best first, and those without one (no result returned
    in the period: "no data yet"), which never take a ranked place."""

    ranked: list[UnitRow]
    without_data: list[UnitRow]

    @property
    def without_data_names(self) -> str:
        return ", ".join(row.unit.name for row in self.without_data)


DECLINE_ROWS = 20


def most_declines(rows: list[UnitRow], limit: int = DECLINE_ROWS) -> list[UnitRow]:
    """The communes where most citizens declined postal return: where leaders act first."""
    return sorted((r for r in rows if r.declined), key=lambda r: (-r.declined, r.unit.name))[:limit]


def ranking(rows: list[UnitRow]) -> Ranking:
    ranked = sorted(
        (r for r in rows if r.bcci_return_rate is not None),
        key=lambda r: (-r.bcci_return_rate, -r.counts["returned"], r.unit.name),
    )
    return Ranking(ranked=ranked, without_data=[r for r in rows if r.bcci_return_rate is None])


# --- dossiers to act on -------------------------------------------------------------------------


def dossiers_to_act_on(user, unit: AdministrativeUnit | Country, today: date) -> dict:
    """Dossiers of the unit's subtree whose clock runs and that are overdue, or nearly due: the
    same rules as the dossier list's filters (dossiers.selectors)."""
    running = scoping.filter_by_unit(
        # The subtree's units as a subquery, so the running-dossier index serves each unit.
        Dossier.objects.all()
        if isinstance(unit, Country)
        else Dossier.objects.filter(receiving_unit__in=subtree_units(unit).values("pk")),
        user,
        field="receiving_unit",
    ).select_related("procedure", "receiving_unit")
    late = running.filter(overdue_filter(today)).order_by("due_date", "id")
    nearly = running.filter(nearly_due_filter(today)).order_by("due_date", "id")
    shown = ("code", "due_date", "procedure__name", "receiving_unit__name")  # what the lists print
    # Both counts in one pass over the running dossiers of the subtree (a partial index).
    counts = running.filter(overdue_filter(today) | nearly_due_filter(today)).aggregate(
        late=Count("pk", filter=overdue_filter(today)),
        nearly_due=Count("pk", filter=nearly_due_filter(today)),
    )
    return {
        "late": list(late.only(*shown)[:LIST_LIMIT]),
        "late_count": counts["late"],
        "nearly_due": list(nearly.only(*shown)[:LIST_LIMIT]),
        "nearly_due_count": counts["nearly_due"],
    }


def latest_run() -> ComputationRun | None:
    return ComputationRun.objects.order_by("-id").first()

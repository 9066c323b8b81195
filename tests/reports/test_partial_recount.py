"""The recount of marked units only (reports.services.recount) writes the rows a full recount
writes: the marked communes', and their district's and province's totals, which add the stored
rows of the communes that were not marked."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from communes.models import DirtyWeek
from communes.weekmarks import dossier_state, mark_dossiers, mark_weeks
from dossiers.models import Dossier
from reports.models import COUNTERS, ComputedWeek, WeeklyRate
from reports.services import aggregation, recount
from reports.weeks import week_bounds
from tests.reports.conftest import VN, dossier
from tests.reports.test_independent_counts import WEEKS, build

pytestmark = pytest.mark.django_db


def rows() -> dict[tuple[int, date], dict[str, int]]:
    return {
        (row.pop("unit_id"), row.pop("week_start")): row
        for row in WeeklyRate.objects.filter(week_start__in=WEEKS).values("unit_id", "week_start", *COUNTERS)
    }


def change_one_commune(rng, procedure, commune, dossiers) -> None:
    """Writes on one commune only, each marking its weeks as the app's writers do: new
    dossiers, dossiers finished, returned, reopened and deleted."""
    new = [
        dossier(
            procedure,
            commune,
            received_at=week_bounds(monday)[0] + timedelta(days=2, hours=3),
            due_date=monday + timedelta(days=3),
            intake_channel=rng.choice([1, 2, 3]),
            return_channel="bcci",
        )
        for monday in (WEEKS[1], WEEKS[3], WEEKS[3])
    ]
    Dossier.objects.bulk_create(new)
    mark_dossiers(new)
    mine = [d for d in dossiers if d.receiving_unit_id == commune.pk]
    for d in mine[:6]:
        before = dossier_state(d)
        if d.finished_at is None:
            d.status, d.finished_at, d.timeliness = 9, d.received_at + timedelta(days=4), "late"
        else:
            d.status, d.finished_at, d.returned_at, d.timeliness = 4, None, None, ""
        d.save(update_fields=["status", "finished_at", "returned_at", "timeliness"])
        mark_dossiers([before, d])
    for d in [d for d in mine[6:] if not d.postal_items.exists()][:3]:
        mark_dossiers([d])
        d.delete()


@pytest.mark.parametrize("seed", [1, 2026])
def test_a_recount_of_the_marked_units_gives_the_rows_of_a_full_recount(
    seed,
    procedure,
    province,
    district,
    commune,
    other_commune,
    far_commune,
    post_office,
    official,
    monkeypatch,
):
    rng = random.Random(seed)
    dossiers, _items, _events = build(
        rng, procedure, [commune, other_commune, far_commune], post_office, official
    )
    aggregation.compute_weeks(mondays=WEEKS)
    DirtyWeek.objects.all().delete()
    before = rows()

    change_one_commune(rng, procedure, commune, dossiers)
    marked = set(DirtyWeek.objects.values_list("unit_id", flat=True))
    assert marked == {commune.pk}
    whole = []
    real = recount._compute_span
    monkeypatch.setattr(
        recount, "_compute_span", lambda mondays, *a, **k: whole.extend(mondays) or real(mondays, *a, **k)
    )
    recount.recount_marked()
    # Reopened dossiers marked the weeks up to now too: those, never computed, are counted whole.
    assert not set(whole) & set(WEEKS), "the weeks computed before are recounted in part"
    assert not DirtyWeek.objects.exists()
    partial = rows()
    monkeypatch.undo()

    aggregation.compute_weeks(mondays=WEEKS)
    full = rows()
    assert partial == full
    # The change moved the commune's, the district's and the province's figures, and only theirs.
    moved = {
        unit for key in full.keys() | before.keys() if full.get(key) != before.get(key) for unit in [key[0]]
    }
    assert moved == {commune.pk, district.pk, province.pk}
    # The other communes' rows are read, not rewritten: the parents' totals include them.
    for monday in WEEKS:
        parts = [full.get((unit.pk, monday)) for unit in (commune, other_commune, far_commune)]
        total = {name: sum(part[name] for part in parts if part) for name in COUNTERS}
        assert full.get((province.pk, monday), dict.fromkeys(COUNTERS, 0)) == total


def test_a_commune_left_with_nothing_loses_its_row_and_its_parents_lose_its_counts(
    procedure, province, district, commune, other_commune
):
    monday = WEEKS[2]
    received = week_bounds(monday)[0] + timedelta(hours=10)
    mine = dossier(procedure, commune, received_at=received, due_date=monday + timedelta(days=10))
    theirs = dossier(procedure, other_commune, received_at=received, due_date=monday + timedelta(days=10))
    Dossier.objects.bulk_create([mine, theirs])
    aggregation.compute_weeks(mondays=[monday])
    assert WeeklyRate.objects.get(unit=district, week_start=monday).received == 2

    whole_at = ComputedWeek.objects.get(week_start=monday).counted_whole_at
    mark_dossiers([mine])
    mine.delete()
    recount.recount_marked()
    # The freshness line reads the recount; the last whole count stays what it was.
    week = ComputedWeek.objects.get(week_start=monday)
    assert week.computed_at > whole_at and week.counted_whole_at == whole_at

    assert not WeeklyRate.objects.filter(unit=commune, week_start=monday).exists()
    assert WeeklyRate.objects.get(unit=district, week_start=monday).received == 1
    assert WeeklyRate.objects.get(unit=province, week_start=monday).received == 1
    assert WeeklyRate.objects.get(unit=other_commune, week_start=monday).received == 1


def test_a_week_never_computed_is_recounted_whole(procedure, province, district, commune, other_commune):
    monday = WEEKS[4]
    received = week_bounds(monday)[0] + timedelta(hours=10)
    # Written without marks (as before marks existed), then one commune marked.
    Dossier.objects.bulk_create(
        [dossier(procedure, unit, received_at=received) for unit in (commune, other_commune)]
    )
    assert not ComputedWeek.objects.filter(week_start=monday).exists()
    mark_weeks([(commune.pk, received.astimezone(VN))])
    recount.recount_marked()
    assert WeeklyRate.objects.get(unit=other_commune, week_start=monday).received == 1
    assert WeeklyRate.objects.get(unit=district, week_start=monday).received == 2
    assert ComputedWeek.objects.filter(week_start=monday).exists()

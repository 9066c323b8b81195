"""One rule of "overdue" (docs/reports.md): the dossier list's filter, the dashboard's late list
and the weekly ``open_overdue`` count the same dossiers, on one dataset with every status."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
import time_machine

from dossiers.models import Dossier, DossierEvent, Status, SupplementRequest
from dossiers.selectors import dossiers_visible_to, filter_dossiers
from reports import selectors
from reports.models import WeeklyRate
from reports.services.aggregation import compute_weeks
from tests.reports.conftest import dossier, local

pytestmark = pytest.mark.django_db

WEDNESDAY = local(2026, 3, 18, 10)  # in 2026-W12
THIS_WEEK = date(2026, 3, 16)
NEXT_MONDAY = local(2026, 3, 23, 0, 0, 1)


@pytest.fixture
def dataset(procedure, commune, other_commune, official):
    """Every status, due long ago / yesterday / today / next week, waiting recorded or not."""
    rows = []
    dues = [date(2026, 2, 2), date(2026, 3, 17), date(2026, 3, 18), date(2026, 3, 20), date(2026, 3, 26)]
    for n, (status, due, unit) in enumerate(
        itertools.product([s.value for s in Status], dues, [commune, other_commune])
    ):
        received = local(2026, 1, 26) + timedelta(hours=n)
        ended = status in (3, 7, 8, 9, 10)
        rows.append(
            dossier(
                procedure,
                unit,
                status=status,
                received_at=received,
                due_date=due,
                original_due_date=min(due, date(2026, 2, 2)),
                finished_at=local(2026, 3, 10) if ended else None,
                returned_at=local(2026, 3, 11) if status == 10 else None,
                timeliness="late" if status in (3, 8, 9, 10) else "",
            )
        )
    Dossier.objects.bulk_create(rows)
    for d in rows:
        if d.status == Status.SUPPLEMENT_REQUESTED and d.pk % 2:
            SupplementRequest.objects.create(
                dossier=d, requested_at=local(2026, 3, 4), requested_by=official, items="Tờ khai"
            )
        if d.status == Status.FINANCIAL_OBLIGATION and d.pk % 2:
            DossierEvent.objects.create(
                dossier=d, at=local(2026, 3, 4), action="dossier.payment_requested", to_status=6
            )
    return rows


def three_counts(leader, district, today, monday):
    listed = filter_dossiers(dossiers_visible_to(leader), {"flag": "overdue"}, today=today)
    late = selectors.dossiers_to_act_on(leader, district, today)["late_count"]
    weekly = WeeklyRate.objects.filter(unit=district, week_start=monday).values_list(
        "open_overdue", flat=True
    )
    return listed.count(), late, weekly.first() or 0


def test_list_filter_dashboard_late_list_and_weekly_count_agree(dataset, leader, district):
    with time_machine.travel(WEDNESDAY, tick=False):
        compute_weeks(mondays=[THIS_WEEK])
        listed, late, weekly = three_counts(leader, district, WEDNESDAY.date(), THIS_WEEK)
    # Running (registered, accepted, processing) and due before today: 3 statuses × 2 due dates
    # (2 February, 17 March) × 2 communes. Waiting on the citizen and ended dossiers are not late.
    assert listed == late == weekly == 12

    # At the end of the week the week's figure is the stock at that moment: still the same rule.
    with time_machine.travel(NEXT_MONDAY, tick=False):
        compute_weeks(mondays=[THIS_WEEK])
        listed, late, weekly = three_counts(leader, district, NEXT_MONDAY.date(), THIS_WEEK)
    # Due on 18 and 20 March have passed too by Monday: 4 due dates.
    assert listed == late == weekly == 24


def test_a_dossier_waiting_on_the_citizen_counted_overdue_only_before_its_wait(
    procedure, commune, district, official
):
    d = dossier(
        procedure,
        commune,
        status=Status.SUPPLEMENT_REQUESTED,
        received_at=local(2026, 2, 2),
        due_date=date(2026, 2, 5),
    )
    Dossier.objects.bulk_create([d])
    SupplementRequest.objects.create(
        dossier=d, requested_at=local(2026, 2, 25), requested_by=official, items="x"
    )
    with time_machine.travel(WEDNESDAY, tick=False):
        weeks = [date(2026, 2, 2) + timedelta(weeks=n) for n in range(7)]
        compute_weeks(mondays=weeks)
    overdue = dict(WeeklyRate.objects.filter(unit=commune).values_list("week_start", "open_overdue"))
    # Overdue at the ends of the weeks of 2, 9 and 16 February; waiting from 25 February on.
    assert [overdue.get(monday, 0) for monday in weeks] == [1, 1, 1, 0, 0, 0, 0]


def test_the_status_groups_split_every_status_once():
    from dossiers import statuses

    assert set(statuses.RUNNING) | statuses.WAITING_ON_CITIZEN == statuses.OPEN
    assert not set(statuses.RUNNING) & statuses.WAITING_ON_CITIZEN
    assert set(Status) == statuses.OPEN | statuses.ENDED
    assert not statuses.OPEN & statuses.ENDED

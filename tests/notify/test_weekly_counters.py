"""Satisfaction and the portal sync rate as weekly counters: checked against a plain-Python
recount, rolled up to the district like the other counters, and shown on the dashboard."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta

import pytest

from dossiers.models import Dossier
from dvcqg.models import SyncEntry
from notify.models import Rating
from reports.models import WeeklyRate
from reports.services.aggregation import compute_weeks
from reports.weeks import LOCAL_TZ

pytestmark = pytest.mark.django_db

FIRST_MONDAY = date(2026, 3, 2)
WEEKS = [FIRST_MONDAY + timedelta(weeks=n) for n in range(4)]
NAMES = [
    "ratings",
    "ratings_satisfied",
    "rating_stars",
    "ratings_low",
    "portal_changed",
    "portal_synced_on_time",
]


def monday_of(moment: datetime) -> date:
    day = moment.astimezone(LOCAL_TZ).date()
    return day - timedelta(days=day.weekday())


def moment(rng) -> datetime:
    # Includes the last minutes of a Sunday and the first of a Monday, local time.
    day = FIRST_MONDAY + timedelta(days=rng.randrange(28))
    hour, minute = rng.choice([(0, 0), (0, 1), (23, 59), (rng.randrange(24), rng.randrange(60))])
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LOCAL_TZ)


@pytest.mark.parametrize("seed", [3, 2026])
def test_counters_match_an_independent_recount(
    seed, commune, other_commune, district, procedure, post_office
):
    rng = random.Random(seed)
    expected = defaultdict(lambda: dict.fromkeys(NAMES, 0))
    for n in range(80):
        unit = rng.choice([commune, other_commune])
        dossier = Dossier.objects.create(
            code=f"{unit.identifier}-260302-{n + 1:04d}",
            procedure=procedure,
            receiving_unit=unit,
            applicant_name="Lê Văn C",
            tracking_pin="123456",
        )
        if rng.random() < 0.7:
            stars, at = rng.randint(1, 5), moment(rng)
            Rating.objects.create(
                dossier=dossier,
                token=f"t{seed}-{n}",
                unit=unit,
                post_office=post_office,
                expires_at=at + timedelta(days=30),
                stars=stars,
                answered_at=at,
            )
            counts = expected[(unit.pk, monday_of(at))]
            counts["ratings"] += 1
            counts["rating_stars"] += stars
            counts["ratings_satisfied"] += stars >= 4
            counts["ratings_low"] += stars <= 2
        changes = [moment(rng) for _ in range(rng.randint(0, 3))]
        late_weeks = set()
        for seq, changed in enumerate(sorted(changes), start=1):
            fate = rng.choice(["on_time", "late", "pending", "failed"])
            sent = {"on_time": changed + timedelta(hours=23), "late": changed + timedelta(hours=25)}.get(fate)
            SyncEntry.objects.create(
                dossier=dossier,
                seq=seq,
                action="dossier.accepted",
                payload={},
                changed_at=changed,
                deadline_at=changed + timedelta(hours=24),
                sent_at=sent,
                status={"on_time": "sent", "late": "sent", "pending": "pending", "failed": "failed"}[fate],
            )
            if fate != "on_time":
                late_weeks.add(monday_of(changed))
        for week in {monday_of(c) for c in changes}:
            counts = expected[(unit.pk, week)]
            counts["portal_changed"] += 1
            counts["portal_synced_on_time"] += week not in late_weeks
    compute_weeks(mondays=WEEKS)
    for monday in WEEKS:
        for unit in (commune, other_commune):
            row = WeeklyRate.objects.filter(unit=unit, week_start=monday).values(*NAMES).first()
            want = expected.get((unit.pk, monday))
            assert (row or None) == (want or None), (unit.name, monday)
        district_row = WeeklyRate.objects.filter(unit=district, week_start=monday).values(*NAMES).first()
        total = {n: sum(expected[(u.pk, monday)][n] for u in (commune, other_commune)) for n in NAMES}
        assert (district_row or dict.fromkeys(NAMES, 0)) == total


def test_dashboard_shows_satisfaction_by_commune_office_and_employee(
    client_for, leader, commune, procedure, post_office, postal_staff, time_machine
):
    time_machine.move_to(datetime(2026, 3, 4, 10, tzinfo=LOCAL_TZ), tick=False)
    dossier = Dossier.objects.create(
        code="000.01.16.H44-260304-0001",
        procedure=procedure,
        receiving_unit=commune,
        applicant_name="Lê Văn C",
        tracking_pin="123456",
    )
    at = datetime(2026, 3, 3, 9, tzinfo=LOCAL_TZ)
    Rating.objects.create(
        dossier=dossier,
        token="tok",
        unit=commune,
        post_office=post_office,
        employee=postal_staff,
        expires_at=at + timedelta(days=30),
        stars=2,
        answered_at=at,
    )
    compute_weeks(mondays=[date(2026, 3, 2)])
    page = (
        client_for(leader).get("/reports/", {"unit": commune.parent_id, "week": "2026-W10"}).content.decode()
    )
    assert 'data-testid="week-satisfaction_rate"' in page and 'data-testid="week-portal_sync_rate"' in page
    assert 'data-testid="satisfaction-office"' in page
    assert post_office.name in page and postal_staff.get_full_name() in page and commune.name in page

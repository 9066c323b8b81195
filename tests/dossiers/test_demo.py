"""Demo data: the catalogue alone with --dossiers 0, and a realistic bulk history."""

from __future__ import annotations

from io import StringIO

from django.utils import timezone

from demo import dossiers as demo
from dossiers.catalogue import PROCEDURES
from dossiers.models import Dossier, DossierEvent, Procedure, ProcedureField, Status
from dossiers.services import next_dossier_code
from dossiers.workdays import local_date


def test_catalogue_only_and_idempotent(db):
    demo.seed(options={"dossiers": 0}, stdout=StringIO())
    demo.seed(options={"dossiers": 0}, stdout=StringIO())
    assert Procedure.objects.count() == len(PROCEDURES)
    assert set(ProcedureField.objects.values_list("code", flat=True)) == {"HT", "CT", "DD", "TP"}
    assert not Dossier.objects.exists()
    # A procedure that needs the applicant in person cannot be submitted by post.
    assert not Procedure.objects.filter(presence_required=True, bcci_intake_allowed=True).exists()


def test_a_run_just_after_midnight_makes_every_dossier_asked_for(commune, other_commune, official):
    from datetime import datetime

    from dossiers.workdays import TZ

    demo.seed(options={"dossiers": 0}, stdout=StringIO())
    # 00:05 on a working day (Thursday 26/11/2026): the desk has not opened yet today.
    just_after_midnight = datetime(2026, 11, 26, 0, 5, tzinfo=TZ)
    made = demo.generate_dossiers(
        count=300, communes=[commune, other_commune], seed=7, now=just_after_midnight
    )
    assert made == Dossier.objects.count() == 300
    assert not Dossier.objects.filter(received_at__gt=just_after_midnight).exists()


def test_generated_history_is_consistent(commune, other_commune, official):
    demo.seed(options={"dossiers": 0}, stdout=StringIO())
    made = demo.generate_dossiers(count=300, communes=[commune, other_commune], seed=7)
    assert made == Dossier.objects.count() == 300
    assert DossierEvent.objects.filter(action="dossier.accepted").count() == 300
    statuses = set(Dossier.objects.values_list("status", flat=True))
    assert Status.RETURNED in statuses and len(statuses) >= 3
    assert Dossier.objects.filter(return_channel="bcci").exclude(decline_reason="").count() == 0
    assert Dossier.objects.exclude(return_channel="bcci").filter(decline_reason="").count() == 0
    assert Dossier.objects.filter(timeliness="late").exists()
    # The desk goes on after the demo's numbers.
    today = local_date(timezone.now())
    latest = Dossier.objects.filter(receiving_unit=commune).order_by("-received_at").first()
    day = local_date(latest.received_at)
    assert not Dossier.objects.filter(code=next_dossier_code(unit=commune, day=day)).exists()
    assert day <= today


def test_a_second_run_tops_up_and_keeps_the_first_history(commune, other_commune, official):
    # The first load may empty the tables it fills (PostgreSQL: TRUNCATE, then COPY … FREEZE);
    # a later run must add to the rows already there, never replace them.
    demo.seed(options={"dossiers": 0}, stdout=StringIO())
    demo.generate_dossiers(count=120, communes=[commune, other_commune], seed=7)
    first = set(Dossier.objects.values_list("code", flat=True))
    events = DossierEvent.objects.count()
    made = demo.generate_dossiers(count=40, communes=[commune, other_commune], seed=8)
    assert made == 40 and Dossier.objects.count() == 160
    assert first <= set(Dossier.objects.values_list("code", flat=True))
    assert DossierEvent.objects.count() > events


def test_integer_draws_are_in_range_and_repeatable():
    from demo.generator import _Random

    one, two = _Random(5), _Random(5)
    draws = [one.randint(2, 5) for _ in range(2000)]
    assert set(draws) == {2, 3, 4, 5}
    assert draws == [two.randint(2, 5) for _ in range(2000)]
    assert {one.randrange(3) for _ in range(500)} == {0, 1, 2}
    assert {one.choice("ab") for _ in range(200)} == {"a", "b"}

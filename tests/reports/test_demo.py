"""demo/reports.py: demo targets and the weekly rates of the weeks the demo data covers."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.utils import timezone

from communes.models import AdministrativeUnit
from demo import reports as demo
from demo.communes import COMMUNE_CODES, DISTRICT_CODE
from dossiers.models import Dossier
from reports.models import Target, WeeklyRate
from tests.reports.conftest import dossier

pytestmark = pytest.mark.django_db


def test_demo_sets_targets_and_computes_the_covered_weeks_idempotently(procedure, province):
    district = AdministrativeUnit.objects.create(
        code=DISTRICT_CODE, name="Huyện Bố Trạch (cũ)", level="district", kind="huyen", parent=province
    )
    seat = AdministrativeUnit.objects.create(
        code=COMMUNE_CODES[0], name="Xã Hoàn Lão", level="commune", kind="xa", parent=district
    )
    now = timezone.now()
    Dossier.objects.bulk_create(
        [dossier(procedure, seat, received_at=now - timedelta(weeks=n)) for n in range(0, 10, 3)]
    )
    out = StringIO()
    demo.seed(options={}, stdout=out)
    assert Target.objects.get(unit=district, year=now.year, metric="bcci_return_rate").value == 30
    assert Target.objects.get(unit=seat, year=now.year, metric="bcci_return_rate").value == 35
    assert "weekly rates for 10 weeks" in out.getvalue()
    rows = sorted(WeeklyRate.objects.values_list("unit_id", "week_start", "received"))
    assert sum(received for unit, _week, received in rows if unit == seat.pk) == 4
    demo.seed(options={}, stdout=StringIO())
    assert sorted(WeeklyRate.objects.values_list("unit_id", "week_start", "received")) == rows
    assert Target.objects.count() == 2 * 6

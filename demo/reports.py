"""Demo targets for the demo district and its communes, and the weekly rates of the weeks the
demo data covers (computed synchronously, with the same code as the Celery tasks)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db.models import Min
from django.utils import timezone

from communes.models import AdministrativeUnit
from demo.communes import COMMUNE_CODES, DISTRICT_CODE
from dossiers.models import Dossier
from reports.models import Metric, Target
from reports.services.aggregation import compute_weeks, current_monday
from reports.weeks import week_of, weeks_ending

MAX_WEEKS = 104
DISTRICT_TARGETS = {
    Metric.BCCI_RETURN_RATE: Decimal("30"),
    Metric.BCCI_INTAKE_RATE: Decimal("10"),
    Metric.ON_TIME_RATE: Decimal("95"),
    Metric.ONLINE_RATE: Decimal("50"),
    Metric.JN_COMPLIANCE: Decimal("90"),
}
# The district seat is asked for more than the others.
SEAT_TARGETS = {Metric.BCCI_RETURN_RATE: Decimal("35")}


def seed(*, options, stdout) -> None:
    district = AdministrativeUnit.objects.filter(code=DISTRICT_CODE).first()
    if district is None:
        stdout.write("Demo reports skipped: no demo district (seed communes first).")
        return
    year = timezone.localdate().year
    for target_year in (year - 1, year):
        for metric, value in DISTRICT_TARGETS.items():
            Target.objects.update_or_create(
                unit=district, year=target_year, metric=metric, defaults={"value": value}
            )
        seat = AdministrativeUnit.objects.filter(code=COMMUNE_CODES[0]).first()
        if seat is not None:
            for metric, value in SEAT_TARGETS.items():
                Target.objects.update_or_create(
                    unit=seat, year=target_year, metric=metric, defaults={"value": value}
                )
    first = Dossier.objects.aggregate(first=Min("received_at"))["first"]
    last = current_monday()
    count = 1 if first is None else (last - week_of(first)) // timedelta(weeks=1) + 1
    mondays = weeks_ending(last, max(1, min(count, MAX_WEEKS)))
    rows = compute_weeks(mondays=mondays)
    stdout.write(
        f"Demo reports: targets for {district.name}; weekly rates for {len(mondays)} weeks ({rows} rows)."
    )

"""Targets: set by leaders (for units in their scope) and administrators, with history."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from communes import scoping
from communes.models import AdministrativeUnit
from core.events import append_event
from reports.models import Metric, Target


@transaction.atomic
def set_target(*, unit: AdministrativeUnit, year: int, metric: str, value: Decimal, by) -> Target:
    """Create or change a unit's target; appends a TargetChange row. 404 outside the scope."""
    scoping.ensure_unit_in_scope(by, unit.pk)
    if metric not in Metric.values:
        raise ValidationError({"metric": _("Unknown metric.")})
    if value is None or not Decimal("0") <= value <= Decimal("100"):
        raise ValidationError({"value": _("A target is a percentage between 0 and 100.")})
    if not 2000 <= year <= 2100:
        raise ValidationError({"year": _("Enter a year between 2000 and 2100.")})
    target = Target.objects.select_for_update().filter(unit=unit, year=year, metric=metric).first()
    old_value = target.value if target else None
    if target is None:
        target = Target(unit=unit, year=year, metric=metric)
    target.value = value
    target.updated_by = by
    target.save()
    append_event(target, by=by, history="changes", old_value=old_value, new_value=value)
    return target

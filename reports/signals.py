"""Late and backdated changes mark the past weeks they alter, for recomputation.

A dossier contributes to a set of (unit, week, what) facts: received in week W through a channel,
returned in W, finished in W with a timeliness, open and overdue at the end of W. When a save
changes that set for a week before the current one, the (unit, week) is marked; the current
week is refreshed every 15 minutes anyway, so an ordinary save writes nothing here. Postal items
and their events mark the week of a delivery or a return to the agency in the same way.
Connected in reports.apps.ReportsConfig.ready().
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.utils import timezone

from dossiers.statuses import Status
from reports.weeks import week_of, week_start

DOSSIER_FIELDS = (
    "receiving_unit_id",
    "received_at",
    "finished_at",
    "returned_at",
    "due_date",
    "status",
    "timeliness",
    "intake_channel",
    "return_channel",
    "decline_reason",
)
ITEM_FIELDS = ("dossier_id", "direction", "delivered_at", "target_date")
RETURN = "return"
RETURNED_TO_SENDER = "returned_to_sender"


def _snapshot(instance, fields) -> dict | None:
    values = instance.__dict__
    if any(name not in values for name in fields):
        return None  # deferred fields: do not load them just for this
    return {name: values[name] for name in fields}


def dossier_facts(snap: dict | None, before: date) -> set[tuple]:
    """(unit, week, fact) tuples for the weeks before ``before`` (a Monday)."""
    if not snap or snap["received_at"] is None:
        return set()
    unit = snap["receiving_unit_id"]
    facts: set[tuple] = set()
    received, finished, returned = snap["received_at"], snap["finished_at"], snap["returned_at"]
    facts.add(
        (
            unit,
            week_of(received),
            "received",
            snap["intake_channel"],
            snap["return_channel"],
            snap["decline_reason"],
        )
    )
    if returned is not None:
        facts.add((unit, week_of(returned), "returned", snap["return_channel"]))
    withdrawn = snap["status"] == Status.WITHDRAWN
    if finished is not None:
        facts.add((unit, week_of(finished), "finished", snap["timeliness"], withdrawn))
    if snap["due_date"] is not None and not withdrawn:
        first = max(week_of(received), week_start(snap["due_date"]))
        closes = [week_of(moment) for moment in (finished, returned) if moment is not None]
        # Open at the end of week W while W's end is not after the dossier closed.
        last = min([*closes, before]) - timedelta(weeks=1)
        monday = first
        while monday <= last:
            facts.add((unit, monday, "overdue"))
            monday += timedelta(weeks=1)
    return {fact for fact in facts if fact[1] < before}


def item_facts(snap: dict | None, unit_id: int | None, before: date) -> set[tuple]:
    if not snap or snap["direction"] != RETURN or snap["delivered_at"] is None:
        return set()
    delivered: datetime = snap["delivered_at"]
    fact = (unit_id, week_of(delivered), "delivered", snap["target_date"], delivered.date())
    return {fact} if fact[1] < before else set()


def _mark(facts: set[tuple]) -> None:
    from reports.models import DirtyWeek

    marks = {(fact[0], fact[1]) for fact in facts if fact[0] is not None}
    if marks:
        DirtyWeek.objects.bulk_create(
            [DirtyWeek(unit_id=unit, week_start=monday) for unit, monday in sorted(marks)],
            ignore_conflicts=True,
        )


def _current_monday() -> date:
    return week_of(timezone.now())


def remember_dossier(sender, instance, **kwargs) -> None:
    instance._reports_snapshot = _snapshot(instance, DOSSIER_FIELDS)


def dossier_saved(sender, instance, created, raw=False, **kwargs) -> None:
    if raw:
        return
    before = _current_monday()
    old = set() if created else dossier_facts(getattr(instance, "_reports_snapshot", None), before)
    new_snap = _snapshot(instance, DOSSIER_FIELDS)
    _mark(old ^ dossier_facts(new_snap, before))
    instance._reports_snapshot = new_snap


def remember_item(sender, instance, **kwargs) -> None:
    instance._reports_snapshot = _snapshot(instance, ITEM_FIELDS)


def item_saved(sender, instance, created, raw=False, **kwargs) -> None:
    if raw:
        return
    before = _current_monday()
    old_snap = None if created else getattr(instance, "_reports_snapshot", None)
    new_snap = _snapshot(instance, ITEM_FIELDS)
    instance._reports_snapshot = new_snap
    if not (item_facts(old_snap, 0, before) ^ item_facts(new_snap, 0, before)):
        return  # nothing before this week changed: no query at all
    from dossiers.models import Dossier

    units = dict(
        Dossier.objects.filter(pk__in={s["dossier_id"] for s in (old_snap, new_snap) if s}).values_list(
            "pk", "receiving_unit_id"
        )
    )
    old = item_facts(old_snap, units.get(old_snap["dossier_id"]) if old_snap else None, before)
    new = item_facts(new_snap, units.get(new_snap["dossier_id"]) if new_snap else None, before)
    _mark(old ^ new)


def item_event_saved(sender, instance, created, raw=False, **kwargs) -> None:
    if raw or not created or instance.to_status != RETURNED_TO_SENDER:
        return
    if week_of(instance.at) >= _current_monday():
        return
    from dossiers.models import Dossier

    unit = (
        Dossier.objects.filter(postal_items__pk=instance.item_id)
        .values_list("receiving_unit_id", flat=True)
        .first()
    )
    _mark({(unit, week_of(instance.at))})

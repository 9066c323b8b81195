"""Connects the pure calendar (workdays.py) to the CalendarOverride table, and finds the province
whose overrides apply to a unit."""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction

from dossiers import workdays

CACHE_KEY = "dossiers:calendar-overrides:v2"


def load_overrides() -> dict:
    """{province id or None (nationwide): {date: is_working_day}} from CalendarOverride rows,
    shared through the cache."""
    from dossiers.models import CalendarOverride

    overrides = cache.get(CACHE_KEY)
    if overrides is None:
        overrides = {}
        rows = CalendarOverride.objects.values_list("province_id", "date", "kind")
        for province_id, day, kind in rows:
            overrides.setdefault(province_id, {})[day] = kind == CalendarOverride.Kind.WORKING_DAY
        cache.set(CACHE_KEY, overrides, timeout=3600)
    return overrides


def province_of(unit) -> int | None:
    """The id of the province whose overrides apply to ``unit`` (a commune, a district grouping
    or the province itself). No query while no province has overrides of its own: the
    nationwide calendar applies everywhere then."""
    if unit is None or not any(key is not None for key in load_overrides()):
        return None
    from communes.models import AdministrativeUnit

    current = unit
    while current is not None and current.level != AdministrativeUnit.Level.PROVINCE:
        current = (
            AdministrativeUnit.objects.only("id", "level", "parent_id").filter(pk=current.parent_id).first()
            if current.parent_id
            else None
        )
    return current.pk if current is not None else None


def forget_overrides() -> None:
    cache.delete(CACHE_KEY)
    workdays.invalidate_overrides()


def overrides_changed(**kwargs) -> None:
    # Now for this transaction's own reads, and again after commit in case another request
    # cached the old table in between.
    forget_overrides()
    transaction.on_commit(forget_overrides)

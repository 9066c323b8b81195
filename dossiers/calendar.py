"""Connects the pure calendar (workdays.py) to the CalendarOverride table, and finds the province
whose overrides apply to a unit."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.cache import cache
from django.db import connection, transaction

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
    if unit is None:
        return None
    return provinces_of([unit.pk])[unit.pk]


def provinces_of(unit_ids: Iterable[int]) -> dict[int, int | None]:
    """``province_of`` for many units at once: one recursive query up the tree (an import reads
    the provinces of every commune it may write before checking its rows)."""
    unit_ids = sorted(set(unit_ids))
    if not unit_ids or not any(key is not None for key in load_overrides()):
        return dict.fromkeys(unit_ids)
    from communes.models import AdministrativeUnit

    table = connection.ops.quote_name(AdministrativeUnit._meta.db_table)
    placeholders = ", ".join(["%s"] * len(unit_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE up (start, id, level, parent_id) AS ("  # noqa: S608 - names from the model
            f" SELECT id, id, level, parent_id FROM {table} WHERE id IN ({placeholders})"
            f" UNION ALL SELECT up.start, u.id, u.level, u.parent_id FROM {table} u"
            f" JOIN up ON u.id = up.parent_id WHERE up.level <> %s"
            f") SELECT start, id FROM up WHERE level = %s",
            [*unit_ids, AdministrativeUnit.Level.PROVINCE, AdministrativeUnit.Level.PROVINCE],
        )
        found = dict(cursor.fetchall())
    return {unit_id: found.get(unit_id) for unit_id in unit_ids}


def forget_overrides() -> None:
    cache.delete(CACHE_KEY)
    workdays.invalidate_overrides()


def overrides_changed(**kwargs) -> None:
    # Now for this transaction's own reads, and again after commit in case another request
    # cached the old table in between.
    forget_overrides()
    transaction.on_commit(forget_overrides)

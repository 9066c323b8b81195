"""Connects the pure calendar (workdays.py) to the CalendarOverride table."""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction

from dossiers import workdays

CACHE_KEY = "dossiers:calendar-overrides:v1"


def load_overrides() -> dict:
    """{date: is_working_day} from CalendarOverride rows, shared through the cache."""
    from dossiers.models import CalendarOverride

    overrides = cache.get(CACHE_KEY)
    if overrides is None:
        overrides = {
            day: kind == CalendarOverride.Kind.WORKING_DAY
            for day, kind in CalendarOverride.objects.values_list("date", "kind")
        }
        cache.set(CACHE_KEY, overrides, timeout=3600)
    return overrides


def forget_overrides() -> None:
    cache.delete(CACHE_KEY)
    workdays.invalidate_overrides()


def overrides_changed(**kwargs) -> None:
    # Now for this transaction's own reads, and again after commit in case another request
    # cached the old table in between.
    forget_overrides()
    transaction.on_commit(forget_overrides)

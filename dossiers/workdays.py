"""The working-day calendar: due dates and timeliness.

Pure rules, no Django: Monday–Friday, minus Vietnamese public holidays (the ``holidays``
package, country VN, incl. Tết and announced swap days), plus the official make-up working
Saturdays the package knows, plus local overrides that administrators edit
(``CalendarOverride`` rows). An override is nationwide or belongs to one province: a make-up
Saturday that one province decides does not apply in another, while the national holidays are
shared. Pass ``province`` (the province's id) to apply that province's overrides on top of the
nationwide ones; without it only the nationwide overrides apply. The overrides reach this
module through a loader that the dossiers app registers at start-up (``set_override_loader``);
the loaded table is cached in the process and dropped when a row changes
(``invalidate_overrides``) or after ``OVERRIDES_TTL`` seconds, so other processes see an edit
within a minute.

The day of receipt is not counted (Civil Code 2015, Art. 147): a dossier received on Wednesday
morning with 3 working days is due on the following Monday. A dossier received after 15:00, or
on a day off, counts as received on the next working day.
"""

from __future__ import annotations

import threading
import time as _time
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays

from core.timezones import LOCAL_TZ, local_date  # noqa: F401 (local_date is part of this module's interface)

# The local time zone and local dates come from core (re-exported here for the callers).
TZ = LOCAL_TZ
# Receipts after this local time start counting on the next working day.
CUTOFF = time(15, 0)
OVERRIDES_TTL = 60.0  # seconds

EARLY, ON_TIME, LATE = "early", "on_time", "late"

# date -> True (working day) / False (day off)
Overrides = Mapping[date, bool]
# province id (None: nationwide) -> its overrides
OverrideTable = Mapping[int | None, Overrides]

_loader: Callable[[], OverrideTable] | None = None
# (loaded at, the table, the merged overrides of each province asked for so far)
_cache: tuple[float, OverrideTable, dict[int | None, Overrides]] | None = None
_lock = threading.Lock()


def set_override_loader(loader: Callable[[], OverrideTable] | None) -> None:
    """Register the function that returns the local overrides, by province
    ({province id or None for nationwide: {date: is_working_day}})."""
    global _loader
    _loader = loader
    invalidate_overrides()


def invalidate_overrides() -> None:
    global _cache
    with _lock:
        _cache = None


def local_overrides(province: int | None = None) -> Overrides:
    """The local overrides that apply in ``province`` (cached): its own over the nationwide
    ones; the nationwide ones alone when ``province`` is None."""
    global _cache
    cached = _cache
    if cached is None or _time.monotonic() - cached[0] >= OVERRIDES_TTL:
        if _loader is None:
            return {}
        cached = (_time.monotonic(), {key: dict(value) for key, value in _loader().items()}, {})
        with _lock:
            _cache = cached
    _loaded_at, table, merged = cached
    if province not in merged:
        nationwide = table.get(None, {})
        own = table.get(province, {}) if province is not None else {}
        merged[province] = {**nationwide, **own} if own else nationwide
    return merged[province]


@lru_cache(maxsize=64)
def _national_calendar(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(public holidays, make-up working weekend days) of one year."""
    vn = holidays.country_holidays("VN", years=year)
    days_off = frozenset(vn.keys())
    workdays = frozenset(d for d in getattr(vn, "weekend_workdays", ()) if d.year == year)
    return days_off, workdays


def is_working_day(day: date, *, overrides: Overrides | None = None, province: int | None = None) -> bool:
    """Whether the desk works on ``day``: local overrides first (those of ``province`` and the
    nationwide ones), then the national calendar."""
    if overrides is None:
        overrides = local_overrides(province)
    if day in overrides:
        return bool(overrides[day])
    days_off, weekend_workdays = _national_calendar(day.year)
    if day in days_off:
        return False
    if day in weekend_workdays:
        return True
    return day.weekday() < 5


def next_working_day(day: date, *, overrides: Overrides | None = None, province: int | None = None) -> date:
    """The first working day strictly after ``day``."""
    return add_working_days(day, 1, overrides=overrides, province=province)


def add_working_days(
    day: date, n: int, *, overrides: Overrides | None = None, province: int | None = None
) -> date:
    """The n-th working day after ``day`` (``day`` itself is not counted); ``day`` when n = 0."""
    if n < 0:
        raise ValueError("n must not be negative")
    if overrides is None:
        overrides = local_overrides(province)
    current = day
    remaining = n
    while remaining:
        current += timedelta(days=1)
        if is_working_day(current, overrides=overrides):
            remaining -= 1
    return current


def counting_start(
    received_at: datetime, *, overrides: Overrides | None = None, province: int | None = None
) -> date:
    """The local day a receipt counts from: the day itself when it is a working day and the
    receipt came by 15:00, otherwise the next working day."""
    if received_at.tzinfo is None:
        raise ValueError("received_at must be an aware datetime")
    if overrides is None:
        overrides = local_overrides(province)
    local = received_at.astimezone(TZ)
    day = local.date()
    if is_working_day(day, overrides=overrides) and local.time() <= CUTOFF:
        return day
    return next_working_day(day, overrides=overrides)


def due_date(
    received_at: datetime,
    working_days: int,
    *,
    overrides: Overrides | None = None,
    province: int | None = None,
) -> date:
    """Appointment date for a dossier received at ``received_at`` (aware) with a processing
    time of ``working_days`` working days, in ``province`` (its id; its own overrides apply).

    >>> due_date(datetime(2026, 2, 13, 9, 0, tzinfo=TZ), 1)  # Friday before Tết
    datetime.date(2026, 2, 23)
    """
    if working_days < 0:
        raise ValueError("working_days must not be negative")
    if overrides is None:
        overrides = local_overrides(province)
    start = counting_start(received_at, overrides=overrides)
    return add_working_days(start, working_days, overrides=overrides)


def timeliness(finished_on: date, due: date) -> str:
    """early / on_time / late, comparing the local day processing ended with the due date."""
    if finished_on < due:
        return EARLY
    if finished_on == due:
        return ON_TIME
    return LATE


def working_days_between(
    a: date, b: date, *, overrides: Overrides | None = None, province: int | None = None
) -> int:
    """Working days d with a < d <= b (negative when b is before a).

    ``working_days_between(a, add_working_days(a, n)) == n``.
    """
    if b < a:
        return -working_days_between(b, a, overrides=overrides, province=province)
    if overrides is None:
        overrides = local_overrides(province)
    count = 0
    current = a
    while current < b:
        current += timedelta(days=1)
        if is_working_day(current, overrides=overrides):
            count += 1
    return count

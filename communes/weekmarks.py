"""Explicit week marking: every write that changes what the weekly figures count calls
``mark_weeks`` (or ``mark_dossiers``, which works out a dossier's weeks) in its transaction.

Nothing here relies on model signals, which bulk writes (``bulk_create``, ``update``, ``COPY``)
skip: the workflow, the desk forms, both import writers, the postal services, the demo
generator, the admin and retention each call it themselves (docs/reports.md lists them). A mark
is a ``DirtyWeek`` row per (unit, week) and write; the reports app recounts marked pairs
(``reports.process_dirty_weeks``), and after the transaction commits it is told through the
callbacks registered with ``on_marked`` (its freshness debounce), so that a change reaches the
dashboards within a minute. The units layer holds this so that every app that writes can import
it without importing the reports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# What a dossier contributes to: the weeks it was received, finished and returned in, and every
# week at whose end it was open past its due date.
DOSSIER_FIELDS = ("receiving_unit_id", "received_at", "due_date", "finished_at", "returned_at")

_listeners: list[Callable[[], None]] = []


def on_marked(callback: Callable[[], None]) -> None:
    """Call ``callback()`` after every transaction that marked weeks has committed."""
    if callback not in _listeners:
        _listeners.append(callback)


def monday_of(value: date | datetime) -> date:
    """The Monday of the local ISO week holding a date or an aware datetime."""
    if isinstance(value, datetime):
        value = value.astimezone(LOCAL_TZ).date() if timezone.is_aware(value) else value.date()
    return value - timedelta(days=value.weekday())


def _notify() -> None:
    for callback in list(_listeners):
        callback()


def mark_weeks(pairs: Iterable[tuple[int | None, date | datetime | None]]) -> int:
    """Mark (unit id, moment or date) pairs; pairs without a unit or a moment are ignored.

    Returns how many distinct (unit, week) pairs were marked. Marking a pair already marked adds
    a row (never waits for a recount that is deleting the earlier one); the pair is recounted
    once. Call it inside the writer's transaction, so the marks commit with the change.
    """
    from communes.models import DirtyWeek

    marks = sorted(
        {(unit, monday_of(moment)) for unit, moment in pairs if unit is not None and moment is not None}
    )
    if not marks:
        return 0
    if connection.vendor == "postgresql":
        # One statement however many pairs (an import or the generator marks thousands).
        table = connection.ops.quote_name(DirtyWeek._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (unit_id, week_start, marked_at) "  # noqa: S608
                "SELECT unit, monday, %s FROM unnest(%s::bigint[], %s::date[]) AS m(unit, monday)",
                # The application's clock, as auto_now_add would (the freshness line compares it).
                [timezone.now(), [unit for unit, _monday in marks], [monday for _unit, monday in marks]],
            )
    else:
        DirtyWeek.objects.bulk_create(
            [DirtyWeek(unit_id=unit, week_start=monday) for unit, monday in marks],
            batch_size=500,
        )
    transaction.on_commit(_notify)
    return len(marks)


def _value(dossier, name: str):
    if isinstance(dossier, Mapping):
        return dossier.get(name)
    return getattr(dossier, name, None)


def dossier_weeks(dossier, *, now: datetime | None = None) -> set[tuple[int, date]]:
    """The (unit, Monday) pairs whose figures count this dossier (an object or a dict with
    ``DOSSIER_FIELDS``): received, finished and returned weeks, and the weeks from its due date
    to its close (or this week) in which it may count as open and overdue."""
    unit = _value(dossier, "receiving_unit_id")
    received = _value(dossier, "received_at")
    if unit is None or received is None:
        return set()
    weeks = {monday_of(received)}
    closes = [m for m in (_value(dossier, "finished_at"), _value(dossier, "returned_at")) if m is not None]
    weeks |= {monday_of(moment) for moment in closes}
    due = _value(dossier, "due_date")
    if due is not None:
        last = min([monday_of(m) for m in closes] or [monday_of(now or timezone.now())])
        monday = max(monday_of(due), monday_of(received))
        while monday <= last:
            weeks.add(monday)
            monday += timedelta(weeks=1)
    return {(unit, monday) for monday in weeks}


def mark_dossiers(dossiers: Iterable) -> int:
    """Mark every week each dossier counts in. For a change, pass the dossier as it was and as
    it is (both states' weeks change)."""
    now = timezone.now()
    pairs: set[tuple[int, date]] = set()
    for dossier in dossiers:
        pairs |= dossier_weeks(dossier, now=now)
    return mark_weeks(pairs)


def dossier_state(dossier) -> dict:
    """The fields of a dossier that decide its weeks, to pass to ``mark_dossiers`` later as
    "the dossier as it was"."""
    return {name: _value(dossier, name) for name in DOSSIER_FIELDS}

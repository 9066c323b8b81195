"""The recount of marked (unit, week) pairs: only the units a write marked and the units above
them, not every unit of the week.

A write marks the (unit, week) pairs it changes (communes.weekmarks). A full recount of a week
replaces the rows of every unit with dossiers that week (3,389 at most at national spread,
about a second of CPU); the desk's intakes of the last twenty seconds touched a few communes.
So for each marked week that was computed before and whose marks name at most
``PARTIAL_MAX_UNITS`` units:

- the measures (reports.services.aggregation) count only the marked units and their ancestors
  (``Span(units=...)``: each grouped query gets ``receiving unit IN (...)``);
- a marked unit's or an ancestor's row is its own counts plus the rows of its children: the
  children recounted now, and the stored rows of the others (one query for the weeks), which
  are right because a unit whose figures changed carries a mark;
- the rows of those units are replaced, and their marks removed, in one transaction.

That gives the rows a full recount gives (tests/reports/test_partial_recount.py compares them).
Weeks never computed, or marked for many units (an import), are recounted whole. The week in
progress is still recounted whole every 15 minutes (dossiers become overdue at midnight without
a write: reports/freshness.py and the beat): ``ComputedWeek.counted_whole_at`` says when.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta

from django.db import connection, transaction
from django.utils import timezone

from communes.models import DirtyWeek
from reports.locks import computation_lock
from reports.models import COUNTERS, ComputedWeek, WeeklyRate
from reports.services.aggregation import Span, _compute_span, add_ancestors, roll_up, span_counts, spans

log = logging.getLogger(__name__)

# A week marked for more units than this is recounted whole (an import, the generator): reading
# the stored rows of their siblings would cost more than counting everything.
PARTIAL_MAX_UNITS = 200


def marked() -> tuple[dict[date, set[int]], dict[date, list[int]]]:
    """The marks waiting: the units marked in each week, and the ids of the marks read."""
    weeks: dict[date, set[int]] = defaultdict(set)
    ids: dict[date, list[int]] = defaultdict(list)
    for mark_id, monday, unit_id in DirtyWeek.objects.values_list("id", "week_start", "unit_id"):
        weeks[monday].add(unit_id)
        ids[monday].append(mark_id)
    return dict(weeks), dict(ids)


def _ancestors(unit_id: int, parents: dict[int, int | None]) -> set[int]:
    found: set[int] = set()
    node = parents.get(unit_id)
    while node is not None and node not in found:
        found.add(node)
        node = parents.get(node)
    return found


@transaction.atomic
def recount_units(
    marks: dict[date, set[int]], parents: dict[int, int | None], mark_ids: list[int] | None = None
) -> int:
    """Replace the rows of the marked units of these weeks (within one span of
    aggregation.MAX_SPAN_WEEKS) and of every unit above them; remove the marks ``mark_ids``
    (read before; by default every mark of these units and weeks). Returns the rows written.
    ``parents`` is extended with the units read."""
    mondays = sorted(marks)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # a snapshot any run can rebuild (see _compute_span)
            cursor.execute("SET LOCAL synchronous_commit = off")
    # The marks read before: their writes had committed, so the queries below see them. A mark
    # written since is not among them and stays for the next recount; the writer does not wait
    # (marks have no unique key to wait on).
    if mark_ids is not None:
        DirtyWeek.objects.filter(id__in=mark_ids).delete()
    else:
        for monday in mondays:
            DirtyWeek.objects.filter(week_start=monday, unit_id__in=sorted(marks[monday])).delete()
    add_ancestors({unit_id for units in marks.values() for unit_id in units}, parents)
    affected = {
        monday: set(units).union(*(_ancestors(unit_id, parents) for unit_id in units))
        for monday, units in marks.items()
    }
    everyone = set().union(*affected.values())
    first = mondays[0]
    span = Span(
        [first + timedelta(weeks=n) for n in range((mondays[-1] - first).days // 7 + 1)], units=everyone
    )
    counts = span_counts(span)
    # The stored rows of the children of the units recounted that are not recounted themselves.
    stored: dict[date, dict[int, dict]] = defaultdict(dict)
    for row in WeeklyRate.objects.filter(week_start__in=mondays, unit__parent_id__in=sorted(everyone)).values(
        "unit_id", "unit__parent_id", "week_start", *COUNTERS
    ):
        unit_id, monday = row.pop("unit_id"), row.pop("week_start")
        parents.setdefault(unit_id, row.pop("unit__parent_id"))
        if unit_id not in affected[monday]:
            stored[monday][unit_id] = row
    written, computed_at = 0, timezone.now()
    for monday in mondays:
        units = affected[monday]
        own = {unit_id: values for unit_id, values in counts[monday].items() if unit_id in units}
        totals = roll_up({**stored[monday], **own}, parents)
        rows = [
            WeeklyRate(unit_id=unit_id, week_start=monday, computed_at=computed_at, **totals[unit_id])
            for unit_id in sorted(units)
            if unit_id in totals
        ]
        WeeklyRate.objects.filter(week_start=monday, unit_id__in=sorted(units)).delete()
        WeeklyRate.objects.bulk_create(rows, batch_size=1000)
        written += len(rows)
    # The figures of these weeks are as of now (the freshness line, the API's announcements);
    # counted_whole_at stays: the week in progress is still counted whole every 15 minutes.
    ComputedWeek.objects.filter(week_start__in=mondays).update(computed_at=computed_at)
    return written


def recount_marked(*, max_units: int = PARTIAL_MAX_UNITS) -> int:
    """Recount every marked week: the marked units (and those above them) of weeks already
    computed, whole weeks for the others. Holds the computation lock (raises
    reports.locks.ComputationBusy when another computation holds it). Returns the rows written."""
    waiting, ids = marked()
    if not waiting:
        return 0
    computed = set(
        ComputedWeek.objects.filter(week_start__in=list(waiting)).values_list("week_start", flat=True)
    )
    partial = {m: units for m, units in waiting.items() if m in computed and len(units) <= max_units}
    whole = sorted(set(waiting) - set(partial))
    written = 0
    with computation_lock():
        parents: dict[int, int | None] = {}
        for batch in spans(whole):
            written += _compute_span(batch, parents)
        for batch in spans(partial):
            batch_ids = [mark_id for monday in batch for mark_id in ids[monday]]
            written += recount_units({monday: partial[monday] for monday in batch}, parents, batch_ids)
    log.info("weekly rates: %d marked weeks recounted (%d whole), %d rows", len(waiting), len(whole), written)
    return written


def recount_pairs(pairs: Iterable[tuple[int, date]]) -> int:
    """Recount the given (unit, Monday) pairs as if they were marked (tests, by hand)."""
    marks: dict[date, set[int]] = defaultdict(set)
    for unit_id, monday in pairs:
        marks[monday].add(unit_id)
    written = 0
    with computation_lock():
        parents: dict[int, int | None] = {}
        for batch in spans(marks):
            written += recount_units({monday: marks[monday] for monday in batch}, parents)
    return written

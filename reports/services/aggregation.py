"""The weekly aggregation: grouped SQL over dossiers and postal items into reports.WeeklyRate.

Per week, one grouped query per measure (GROUP BY the receiving unit, filtered counts); no
Python loop over dossiers. District and province rows are sums of the rows under them. A week is
replaced in one transaction, so a run killed half-way leaves the previous rows in place, and
running it again gives identical rows. Definitions: docs/reports.md.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from communes.models import AdministrativeUnit
from dossiers.models import Dossier, IntakeChannel, ReturnChannel, Status, Timeliness
from postal.models import Direction, ItemEvent, ItemStatus, PostalItem
from reports.locks import computation_lock
from reports.models import COUNTERS, DECLINE_COUNTERS, ComputedWeek, DirtyWeek, WeeklyRate
from reports.weeks import LOCAL_TZ, week_bounds, week_of

log = logging.getLogger(__name__)

Counts = dict[str, int]


def _grouped(queryset, unit_field: str, **aggregates) -> dict[int, Counts]:
    rows = queryset.order_by().values(unit_field).annotate(**aggregates)
    return {row.pop(unit_field): row for row in rows}


def received_counts(start, end) -> dict[int, Counts]:
    """Dossiers received in the week, by channel, and the reasons postal return was declined."""
    declined = ~Q(return_channel=ReturnChannel.BCCI)
    known = [reason for reason in DECLINE_COUNTERS if reason not in ("", "other")]
    reasons = {
        counter: Count("id", filter=declined & Q(decline_reason=reason))
        for reason, counter in DECLINE_COUNTERS.items()
        if reason != "other"
    }
    # Anything not among the known reasons (incl. "other") counts as other.
    reasons["declined_other"] = Count(
        "id", filter=declined & ~Q(decline_reason="") & ~Q(decline_reason__in=known)
    )
    return _grouped(
        Dossier.objects.filter(received_at__gte=start, received_at__lt=end),
        "receiving_unit_id",
        received=Count("id"),
        received_bcci=Count("id", filter=Q(intake_channel=IntakeChannel.BCCI)),
        received_online=Count("id", filter=Q(intake_channel=IntakeChannel.ONLINE)),
        **reasons,
    )


def returned_counts(start, end) -> dict[int, Counts]:
    return _grouped(
        Dossier.objects.filter(returned_at__gte=start, returned_at__lt=end),
        "receiving_unit_id",
        returned=Count("id"),
        returned_bcci=Count("id", filter=Q(return_channel=ReturnChannel.BCCI)),
    )


def finished_counts(start, end) -> dict[int, Counts]:
    """Processing ended in the week with a timeliness; withdrawn dossiers are left out."""
    return _grouped(
        Dossier.objects.filter(finished_at__gte=start, finished_at__lt=end)
        .exclude(status=Status.WITHDRAWN)
        .filter(timeliness__in=Timeliness.values),
        "receiving_unit_id",
        finished=Count("id"),
        finished_early=Count("id", filter=Q(timeliness=Timeliness.EARLY)),
        finished_on_time=Count("id", filter=Q(timeliness=Timeliness.ON_TIME)),
        finished_late=Count("id", filter=Q(timeliness=Timeliness.LATE)),
    )


def overdue_counts(start, end) -> dict[int, Counts]:
    """Open at the week's end (Monday 00:00) with a due date on or before its Sunday."""
    week_end_day = end.astimezone(LOCAL_TZ).date()
    return _grouped(
        Dossier.objects.filter(received_at__lt=end, due_date__lt=week_end_day)
        .exclude(status=Status.WITHDRAWN)
        .filter(Q(finished_at__isnull=True) | Q(finished_at__gte=end))
        .filter(Q(returned_at__isnull=True) | Q(returned_at__gte=end)),
        "receiving_unit_id",
        open_overdue=Count("id"),
    )


def delivered_counts(start, end) -> dict[int, Counts]:
    """Result items delivered in the week; on target when the local delivery date <= target."""
    return _grouped(
        PostalItem.objects.filter(direction=Direction.RETURN, delivered_at__gte=start, delivered_at__lt=end)
        .annotate(delivered_day=TruncDate("delivered_at", tzinfo=LOCAL_TZ))
        .values("dossier__receiving_unit_id"),
        "dossier__receiving_unit_id",
        items_delivered=Count("id"),
        items_on_target=Count("id", filter=Q(target_date__isnull=False, delivered_day__lte=F("target_date"))),
    )


def returned_to_sender_counts(start, end) -> dict[int, Counts]:
    """Result items whose status became 'returned to the agency' in the week (from ItemEvent)."""
    return _grouped(
        ItemEvent.objects.filter(
            to_status=ItemStatus.RETURNED_TO_SENDER,
            at__gte=start,
            at__lt=end,
            item__direction=Direction.RETURN,
        ),
        "item__dossier__receiving_unit_id",
        items_returned_to_sender=Count("item_id", distinct=True),
    )


MEASURES: tuple[Callable, ...] = (
    received_counts,
    returned_counts,
    finished_counts,
    overdue_counts,
    delivered_counts,
    returned_to_sender_counts,
)


def unit_parents() -> dict[int, int | None]:
    return dict(AdministrativeUnit.objects.values_list("id", "parent_id"))


def direct_counts(monday: date) -> dict[int, Counts]:
    """Counts per receiving unit (a commune, usually) for the week: one query per measure."""
    start, end = week_bounds(monday)
    counts: dict[int, Counts] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    for measure in MEASURES:
        for unit_id, values in measure(start, end).items():
            counts[unit_id].update(values)
    return counts


def roll_up(direct: dict[int, Counts], parents: dict[int, int | None]) -> dict[int, Counts]:
    """Each unit's row = its own counts + the counts of every unit under it."""
    totals: dict[int, Counts] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    for unit_id, values in direct.items():
        node: int | None = unit_id
        seen: set[int] = set()
        while node is not None and node not in seen:
            seen.add(node)
            row = totals[node]
            for name in COUNTERS:
                row[name] += values[name]
            node = parents.get(node)
    return {unit_id: row for unit_id, row in totals.items() if any(row.values())}


@transaction.atomic
def compute_week(*, monday: date, parents: dict[int, int | None] | None = None) -> int:
    """Replace the rows of one week; returns how many rows it wrote.

    The week's recomputation marks are removed first, in the same transaction, so a change
    committed while this runs is either seen by the queries below or leaves a mark behind.
    """
    DirtyWeek.objects.filter(week_start=monday).delete()
    rows = roll_up(direct_counts(monday), parents if parents is not None else unit_parents())
    computed_at = timezone.now()
    WeeklyRate.objects.filter(week_start=monday).delete()
    WeeklyRate.objects.bulk_create(
        [
            WeeklyRate(unit_id=unit_id, week_start=monday, computed_at=computed_at, **values)
            for unit_id, values in sorted(rows.items())
        ],
        batch_size=1000,
    )
    ComputedWeek.objects.update_or_create(
        week_start=monday, defaults={"computed_at": computed_at, "rows": len(rows)}
    )
    return len(rows)


def compute_weeks(*, mondays: Iterable[date], progress: Callable[[int, date], None] | None = None) -> int:
    """Compute several weeks, one transaction each, holding the computation lock.

    Raises reports.locks.ComputationBusy when another computation holds the lock.
    """
    mondays = sorted(set(mondays))
    written = 0
    with computation_lock():
        parents = unit_parents()
        for done, monday in enumerate(mondays, start=1):
            written += compute_week(monday=monday, parents=parents)
            if progress:
                progress(done, monday)
    log.info("weekly rates: %d weeks computed, %d rows", len(mondays), written)
    return written


def dirty_weeks() -> list[date]:
    return sorted(set(DirtyWeek.objects.values_list("week_start", flat=True)))


def current_monday() -> date:
    return week_of(timezone.now())


def previous_monday() -> date:
    return current_monday() - timedelta(weeks=1)

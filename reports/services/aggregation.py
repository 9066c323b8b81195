"""The weekly aggregation: grouped SQL over dossiers and postal items into reports.WeeklyRate.

One grouped query per measure for all the requested weeks (GROUP BY the receiving unit and the
week, filtered counts); no Python loop over dossiers. District and province rows are sums of the
rows under them. Weeks are replaced in one transaction, so a run killed half-way leaves the
previous rows in place, and running it again gives identical rows. Definitions: docs/reports.md.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Case, Count, F, IntegerField, Q, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from communes.models import AdministrativeUnit
from dossiers.models import Dossier, IntakeChannel, ReturnChannel, Status, Timeliness
from postal.models import Direction, ItemEvent, ItemStatus, PostalItem
from reports.locks import computation_lock
from reports.models import COUNTERS, DECLINE_COUNTERS, ComputedWeek, DirtyWeek, WeeklyRate
from reports.weeks import LOCAL_TZ, week_bounds, week_of

log = logging.getLogger(__name__)
TIMELINESS_VALUES = frozenset(Timeliness.values)

Counts = dict[str, int]


def _grouped(queryset, unit_field: str, **aggregates) -> dict[int, Counts]:
    rows = queryset.order_by().values(unit_field).annotate(**aggregates)
    return {row.pop(unit_field): row for row in rows}


class Span:
    """Consecutive weeks counted together: week i runs from bounds[i] to bounds[i + 1].

    ``index(field)`` is a SQL expression giving the week of a timestamp or date column: a
    balanced CASE over the week boundaries (computed here in local time, so daylight saving or
    an offset change would still give exact Monday boundaries), -1 before the first week,
    ``len(mondays)`` after the last or when the column is NULL. About log2(weeks) comparisons
    per row; the same SQL on SQLite and PostgreSQL.
    """

    def __init__(self, mondays: list[date]):
        self.mondays = mondays
        self.bounds = [*(week_bounds(monday)[0] for monday in mondays), week_bounds(mondays[-1])[1]]
        self.days = [*mondays, mondays[-1] + timedelta(days=7)]
        self.start, self.end = self.bounds[0], self.bounds[-1]

    def __len__(self) -> int:
        return len(self.mondays)

    def index(self, field: str, *, days: bool = False) -> Case | Value:
        edges = self.days if days else self.bounds

        def node(lo: int, hi: int):  # how many edges are <= the value, known to be in [lo, hi]
            if lo == hi:
                return Value(lo - 1)
            mid = (lo + hi) // 2
            return Case(
                When(**{f"{field}__lt": edges[mid]}, then=node(lo, mid)),
                default=node(mid + 1, hi),
                output_field=IntegerField(),
            )

        return node(0, len(edges))


def _by_week(queryset, unit_field: str, week, **aggregates) -> dict[tuple[int, int], Counts]:
    rows = (
        queryset.annotate(week_index=week).order_by().values(unit_field, "week_index").annotate(**aggregates)
    )
    return {(row.pop(unit_field), row.pop("week_index")): row for row in rows}


def received_counts(span: Span) -> dict[tuple[int, int], Counts]:
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
    return _by_week(
        Dossier.objects.filter(received_at__gte=span.start, received_at__lt=span.end),
        "receiving_unit_id",
        span.index("received_at"),
        received=Count("id"),
        received_bcci=Count("id", filter=Q(intake_channel=IntakeChannel.BCCI)),
        received_online=Count("id", filter=Q(intake_channel=IntakeChannel.ONLINE)),
        **reasons,
    )


def returned_counts(span: Span) -> dict[tuple[int, int], Counts]:
    return _by_week(
        Dossier.objects.filter(returned_at__gte=span.start, returned_at__lt=span.end),
        "receiving_unit_id",
        span.index("returned_at"),
        returned=Count("id"),
        returned_bcci=Count("id", filter=Q(return_channel=ReturnChannel.BCCI)),
    )


def finished_counts(span: Span) -> dict[tuple[int, int], Counts]:
    """Processing ended in the week with a timeliness; withdrawn dossiers are left out."""
    return _by_week(
        Dossier.objects.filter(finished_at__gte=span.start, finished_at__lt=span.end)
        .exclude(status=Status.WITHDRAWN)
        .filter(timeliness__in=TIMELINESS_VALUES),
        "receiving_unit_id",
        span.index("finished_at"),
        finished=Count("id"),
        finished_early=Count("id", filter=Q(timeliness=Timeliness.EARLY)),
        finished_on_time=Count("id", filter=Q(timeliness=Timeliness.ON_TIME)),
        finished_late=Count("id", filter=Q(timeliness=Timeliness.LATE)),
    )


def overdue_counts(span: Span) -> dict[tuple[int, int], Counts]:
    """Open at the week's end (Monday 00:00) with a due date on or before its Sunday.

    A dossier is counted in the weeks from the first whose end is after its reception and whose
    Sunday is on or after its due date, to the last that ends before it was finished or returned:
    a contiguous range. One grouped query returns how many dossiers of each unit have each
    (first, last) range; the weeks in between are filled in here.
    """
    first_end, last_end = span.bounds[1], span.bounds[-1]
    rows = (
        Dossier.objects.filter(received_at__lt=last_end, due_date__lt=span.days[-1])
        .exclude(status=Status.WITHDRAWN)
        .filter(Q(finished_at__isnull=True) | Q(finished_at__gte=first_end))
        .filter(Q(returned_at__isnull=True) | Q(returned_at__gte=first_end))
        .annotate(
            from_received=span.index("received_at"),
            from_due=span.index("due_date", days=True),
            until_finished=span.index("finished_at"),
            until_returned=span.index("returned_at"),
        )
        .order_by()
        .values("receiving_unit_id", "from_received", "from_due", "until_finished", "until_returned")
        .annotate(n=Count("id"))
    )
    counts: dict[tuple[int, int], Counts] = {}
    for row in rows:
        first = max(row["from_received"], row["from_due"], 0)
        last = min(row["until_finished"], row["until_returned"], len(span)) - 1
        for week in range(first, last + 1):
            key = (row["receiving_unit_id"], week)
            counts.setdefault(key, {"open_overdue": 0})["open_overdue"] += row["n"]
    return counts


def delivered_counts(span: Span) -> dict[tuple[int, int], Counts]:
    """Result items delivered in the week; on target when the local delivery date <= target."""
    return _by_week(
        PostalItem.objects.filter(
            direction=Direction.RETURN, delivered_at__gte=span.start, delivered_at__lt=span.end
        ).annotate(delivered_day=TruncDate("delivered_at", tzinfo=LOCAL_TZ)),
        "dossier__receiving_unit_id",
        span.index("delivered_at"),
        items_delivered=Count("id"),
        items_on_target=Count("id", filter=Q(target_date__isnull=False, delivered_day__lte=F("target_date"))),
    )


def returned_to_sender_counts(span: Span) -> dict[tuple[int, int], Counts]:
    """Result items whose status became 'returned to the agency' in the week (from ItemEvent)."""
    return _by_week(
        ItemEvent.objects.filter(
            to_status=ItemStatus.RETURNED_TO_SENDER,
            at__gte=span.start,
            at__lt=span.end,
            item__direction=Direction.RETURN,
        ),
        "item__dossier__receiving_unit_id",
        span.index("at"),
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


def span_counts(span: Span) -> dict[date, dict[int, Counts]]:
    """Counts per week and receiving unit (a commune, usually): one query per measure for all
    the weeks of the span."""
    weeks: dict[date, dict[int, Counts]] = {
        monday: defaultdict(lambda: dict.fromkeys(COUNTERS, 0)) for monday in span.mondays
    }
    for measure in MEASURES:
        for (unit_id, index), values in measure(span).items():
            if 0 <= index < len(span):
                weeks[span.mondays[index]][unit_id].update(values)
    return weeks


def direct_counts(monday: date) -> dict[int, Counts]:
    """Counts per receiving unit for one week."""
    return span_counts(Span([monday]))[monday]


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


# Weeks counted in one pass at most; further weeks start another pass (and transaction).
MAX_SPAN_WEEKS = 60


def spans(mondays: Iterable[date]) -> list[list[date]]:
    """The requested weeks, sorted, cut where one pass would cover more than MAX_SPAN_WEEKS."""
    cut: list[list[date]] = []
    for monday in sorted(set(mondays)):
        if cut and (monday - cut[-1][0]).days // 7 < MAX_SPAN_WEEKS:
            cut[-1].append(monday)
        else:
            cut.append([monday])
    return cut


@transaction.atomic
def _compute_span(
    mondays: list[date],
    parents: dict[int, int | None],
    progress: Callable[[int, date], None] | None = None,
    done: int = 0,
) -> int:
    """Replace the rows of these weeks (sorted, within MAX_SPAN_WEEKS) in one transaction.

    The weeks' recomputation marks are removed first, in the same transaction, so a change
    committed while this runs is either seen by the queries below or leaves a mark behind.
    Weeks between the requested ones are counted (the span is contiguous) but not written.
    """
    DirtyWeek.objects.filter(week_start__in=mondays).delete()
    first = mondays[0]
    span = Span([first + timedelta(weeks=n) for n in range((mondays[-1] - first).days // 7 + 1)])
    counts = span_counts(span)
    computed_at = timezone.now()
    WeeklyRate.objects.filter(week_start__in=mondays).delete()
    ComputedWeek.objects.filter(week_start__in=mondays).delete()
    rates, computed = [], []
    for monday in mondays:
        rows = roll_up(counts[monday], parents)
        rates += [
            WeeklyRate(unit_id=unit_id, week_start=monday, computed_at=computed_at, **values)
            for unit_id, values in sorted(rows.items())
        ]
        computed.append(ComputedWeek(week_start=monday, computed_at=computed_at, rows=len(rows)))
    WeeklyRate.objects.bulk_create(rates, batch_size=1000)
    ComputedWeek.objects.bulk_create(computed)
    if progress:
        for n, monday in enumerate(mondays, start=done + 1):
            progress(n, monday)
    return len(rates)


def compute_week(*, monday: date, parents: dict[int, int | None] | None = None) -> int:
    """Replace the rows of one week; returns how many rows it wrote."""
    return _compute_span([monday], parents if parents is not None else unit_parents())


def compute_weeks(*, mondays: Iterable[date], progress: Callable[[int, date], None] | None = None) -> int:
    """Compute several weeks holding the computation lock: one grouped query per measure for
    up to MAX_SPAN_WEEKS weeks at a time, each such batch replaced in one transaction.

    Raises reports.locks.ComputationBusy when another computation holds the lock.
    """
    batches = spans(mondays)
    written = done = 0
    with computation_lock():
        parents = unit_parents()
        for batch in batches:
            written += _compute_span(batch, parents, progress, done)
            done += len(batch)
    log.info("weekly rates: %d weeks computed, %d rows", done, written)
    return written


def dirty_weeks() -> list[date]:
    return sorted(set(DirtyWeek.objects.values_list("week_start", flat=True)))


def current_monday() -> date:
    return week_of(timezone.now())


def previous_monday() -> date:
    return current_monday() - timedelta(weeks=1)

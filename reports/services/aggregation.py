"""The weekly aggregation: grouped SQL over dossiers and postal items into reports.WeeklyRate.

One grouped query per measure for all the requested weeks (two for "open and overdue"): GROUP BY
the receiving unit, the week and the few values a measure tells apart (channels, reason,
timeliness), counted with COUNT(*) so that covering indexes serve them without reading the
table; the groups (a few dozen per unit and week) are added up here, never the dossiers.
District and province rows are sums of the rows under them. Weeks are replaced in one
transaction, so a run killed half-way leaves the previous rows in place, and running it again
gives identical rows. Definitions: docs/reports.md.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, timedelta

from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest, Least, TruncDate
from django.utils import timezone

from communes.models import AdministrativeUnit, DirtyWeek
from dossiers.models import (
    Dossier,
    DossierEvent,
    IntakeChannel,
    ReturnChannel,
    Status,
    SupplementRequest,
    Timeliness,
)
from dossiers.selectors import overdue_filter
from postal.models import Direction, ItemEvent, ItemStatus, PostalItem
from reports.locks import computation_lock
from reports.models import COUNTERS, DECLINE_COUNTERS, ComputedWeek, WeeklyRate
from reports.weeks import LOCAL_TZ, week_bounds, week_of

log = logging.getLogger(__name__)
TIMELINESS_VALUES = frozenset(Timeliness.values)
# The event that records a request for a financial obligation (dossiers.workflow.request_payment).
PAYMENT_REQUESTED = "dossier.payment_requested"

Counts = dict[str, int]
WEEK = timedelta(days=7)


class WeekBin(Func):
    """PostgreSQL's ``date_bin('7 days', value, origin)`` (PostgreSQL 14+): the start of the
    7-day bin, counted from ``origin``, that holds the value. Integer arithmetic on
    microseconds, no time zone rules: it gives local weeks only when the week boundaries are
    exactly 7 × 24 hours apart (see Span)."""

    function = "date_bin"
    output_field = DateTimeField()

    def __init__(self, expression, origin):
        super().__init__(Value(WEEK), expression, Value(origin))


class DayOnBins(Func):
    """A date put on the time line of the bins, ``origin + (day - first_day) × 24 hours``.

    Binned from ``origin`` it falls in bin floor((day - first_day) / 7): the week of a date,
    exact whatever the time zone, since only day numbers are compared.
    """

    output_field = DateTimeField()

    def __init__(self, expression, origin, first_day):
        super().__init__(expression)
        self.origin, self.first_day = origin, first_day

    def as_sql(self, compiler, connection, **extra_context):
        # Whole days in microseconds are multiples of 2**13: the product is exact in the double
        # precision PostgreSQL multiplies intervals with, for any date a DateField can hold.
        day_sql, day_params = compiler.compile(self.source_expressions[0])
        return f"(%s + ({day_sql} - %s) * interval '24 hours')", [self.origin, *day_params, self.first_day]


class Span:
    """Consecutive weeks counted together: week i runs from bounds[i] to bounds[i + 1].

    ``week(field)`` is a SQL expression for the week of a timestamp column (``day_week`` for a
    date column) and ``position(value)`` turns its value into the week's index: -1 before the
    first week, ``len(mondays)`` after the last or when the column is NULL.

    Two ways, giving the same rows:
    - portable (SQLite, or a span over a change of UTC offset): a balanced CASE over the week
      boundaries computed here in local time, so daylight saving or an offset change would
      still give exact Monday boundaries; about log2(weeks) comparisons a row, and the planner
      cannot estimate the groups (it sorts);
    - binned (PostgreSQL, when every boundary of the span has the same UTC offset, as always in
      Asia/Ho_Chi_Minh): ``date_bin`` from the first Monday 00:00, plain arithmetic, grouped by
      hashing; the bin start is turned into the index here.
    """

    def __init__(self, mondays: list[date], *, binned: bool | None = None, units=None):
        self.mondays = mondays
        # None: every unit; else the ids of the only receiving units counted (a partial recount,
        # reports.services.recount).
        self.units: list[int] | None = None if units is None else sorted(units)
        self.bounds = [*(week_bounds(monday)[0] for monday in mondays), week_bounds(mondays[-1])[1]]
        self.days = [*mondays, mondays[-1] + timedelta(days=7)]
        self.start, self.end = self.bounds[0], self.bounds[-1]
        # Same offset at every boundary <=> boundaries exactly 7 × 24 h apart: date_bin is exact.
        possible = connection.vendor == "postgresql" and len({b.utcoffset() for b in self.bounds}) == 1
        if binned and not possible:
            raise ValueError("date_bin weeks need PostgreSQL and one UTC offset over the span")
        self.binned = possible if binned is None else binned

    def __len__(self) -> int:
        return len(self.mondays)

    def index(self, field: str, *, days: bool = False) -> Case | Value:
        """The portable week index: a balanced CASE over the boundaries."""
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

    def week(self, field: str):
        return WeekBin(F(field), self.start) if self.binned else self.index(field)

    def day_week(self, field: str):
        if self.binned:
            return WeekBin(DayOnBins(F(field), self.start, self.mondays[0]), self.start)
        return self.index(field, days=True)

    def first(self):
        """The value ``week`` gives for the first week (to clamp with Greatest)."""
        return Value(self.start) if self.binned else Value(0)

    def after(self):
        """The value ``week`` gives just after the last week (to clamp with Least)."""
        return Value(self.end) if self.binned else Value(len(self))

    def position(self, value) -> int:
        if not self.binned:
            return value
        if value is None:
            return len(self)
        return max(-1, min(len(self), (value - self.start) // WEEK))


def _by_week(span: Span, queryset, unit_field: str, field: str, *keys: str, **aggregates):
    """Rows grouped by unit, the week of ``field`` and ``keys``: (unit, week index, row)."""
    if span.units is not None:
        queryset = queryset.filter(**{f"{unit_field}__in": span.units})
    rows = (
        queryset.annotate(week=span.week(field))
        .order_by()
        .values(unit_field, "week", *keys)
        .annotate(**aggregates)
    )
    for row in rows:
        yield row.pop(unit_field), span.position(row.pop("week")), row


RECEIVED_COUNTERS = ("received", "received_bcci", "received_online", *DECLINE_COUNTERS.values())
FINISHED_COUNTERS = {
    Timeliness.EARLY: "finished_early",
    Timeliness.ON_TIME: "finished_on_time",
    Timeliness.LATE: "finished_late",
}


def received_counts(span: Span) -> dict[tuple[int, int], Counts]:
    """Dossiers received in the week, by channel, and the reasons postal return was declined.

    Grouped by the channels and the reason (a few dozen groups a unit and week) and counted
    here: cheaper in SQL than a dozen filtered counts a row.
    """
    counts: dict[tuple[int, int], Counts] = {}
    rows = _by_week(
        span,
        Dossier.objects.filter(received_at__gte=span.start, received_at__lt=span.end),
        "receiving_unit_id",
        "received_at",
        "intake_channel",
        "return_channel",
        "decline_reason",
        n=Count("*"),
    )
    for unit_id, week, row in rows:
        found = counts.setdefault((unit_id, week), dict.fromkeys(RECEIVED_COUNTERS, 0))
        n = row["n"]
        found["received"] += n
        if row["intake_channel"] == IntakeChannel.BCCI:
            found["received_bcci"] += n
        elif row["intake_channel"] == IntakeChannel.ONLINE:
            found["received_online"] += n
        if row["return_channel"] != ReturnChannel.BCCI:
            # Anything not among the known reasons (incl. "other") counts as other.
            found[DECLINE_COUNTERS.get(row["decline_reason"], "declined_other")] += n
    return counts


def returned_counts(span: Span) -> dict[tuple[int, int], Counts]:
    counts: dict[tuple[int, int], Counts] = {}
    rows = _by_week(
        span,
        Dossier.objects.filter(returned_at__gte=span.start, returned_at__lt=span.end),
        "receiving_unit_id",
        "returned_at",
        "return_channel",
        n=Count("*"),
    )
    for unit_id, week, row in rows:
        found = counts.setdefault((unit_id, week), {"returned": 0, "returned_bcci": 0})
        found["returned"] += row["n"]
        if row["return_channel"] == ReturnChannel.BCCI:
            found["returned_bcci"] += row["n"]
    return counts


def finished_counts(span: Span) -> dict[tuple[int, int], Counts]:
    """Processing ended in the week with a timeliness; withdrawn dossiers are left out."""
    counts: dict[tuple[int, int], Counts] = {}
    rows = _by_week(
        span,
        Dossier.objects.filter(finished_at__gte=span.start, finished_at__lt=span.end)
        .exclude(status=Status.WITHDRAWN)
        .filter(timeliness__in=TIMELINESS_VALUES),
        "receiving_unit_id",
        "finished_at",
        "timeliness",
        n=Count("*"),
    )
    for unit_id, week, row in rows:
        found = counts.setdefault(
            (unit_id, week), dict.fromkeys(["finished", *FINISHED_COUNTERS.values()], 0)
        )
        found["finished"] += row["n"]
        found[FINISHED_COUNTERS[row["timeliness"]]] += row["n"]
    return counts


def _pause_start():
    """When the clock of a dossier now waiting on the citizen stopped: the open supplement
    request, or the last request of a financial obligation (its event); NULL for the others.
    A waiting dossier without that record is taken as waiting since its reception."""
    open_supplement = SupplementRequest.objects.filter(
        dossier=OuterRef("pk"), completed_at__isnull=True
    ).order_by("-requested_at")
    payment_requested = DossierEvent.objects.filter(
        dossier=OuterRef("pk"), action=PAYMENT_REQUESTED
    ).order_by("-at")
    return Case(
        When(
            status=Status.SUPPLEMENT_REQUESTED,
            then=Coalesce(Subquery(open_supplement.values("requested_at")[:1]), F("received_at")),
        ),
        When(
            status=Status.FINANCIAL_OBLIGATION,
            then=Coalesce(Subquery(payment_requested.values("at")[:1]), F("received_at")),
        ),
        default=Value(None),
        output_field=DateTimeField(),
    )


def overdue_counts(span: Span, *, now=None) -> dict[tuple[int, int], Counts]:
    """Open and overdue: a stock, taken at the end of each week (Monday 00:00), and for the week
    in progress at the time of the computation (docs/reports.md).

    At a moment M a dossier is open and overdue when it was received before M, its due date is
    before M's day, it was not finished, stopped, refused, withdrawn or returned by M, and its
    clock was running at M (not waiting for a supplement or a financial obligation).

    The week in progress is counted with the very filter of the dossier list and the
    dashboard's late list (dossiers.selectors.overdue_filter), from the statuses now. Ended weeks
    are reconstructed: a dossier counts in the weeks from the first whose end is after its
    reception and whose Sunday is on or after its due date, to the last that ends before it was
    finished or returned or before its current wait on the citizen began — a contiguous range.
    (A supplement completed later restarted the deadline past the weeks it covered, so those
    weeks do not count it either.) Grouped queries return how many dossiers of each unit have
    each (first, after last) range; the weeks in between are filled in here. Dossiers finished
    after the first week's end and those not finished are two queries, so that each reads one
    range of the index on finished_at.
    """
    now = now or timezone.now()
    current = week_of(now)
    first_end, last_end = span.bounds[1], span.bounds[-1]
    open_at_first_end = Q(returned_at__isnull=True) | Q(returned_at__gte=first_end)
    candidates = (
        Dossier.objects.filter(received_at__lt=last_end, due_date__lt=span.days[-1])
        .exclude(status=Status.WITHDRAWN)
        .filter(open_at_first_end)
    )
    if span.units is not None:
        candidates = candidates.filter(receiving_unit_id__in=span.units)
    counts: dict[tuple[int, int], Counts] = {}
    for part in (Q(finished_at__gte=first_end), Q(finished_at__isnull=True)):
        rows = (
            candidates.filter(part)
            .annotate(paused_at=_pause_start())
            .annotate(
                first=Greatest(span.week("received_at"), span.day_week("due_date"), span.first()),
                after_last=Least(
                    span.week("finished_at"), span.week("returned_at"), span.week("paused_at"), span.after()
                ),
            )
            .order_by()
            .values("receiving_unit_id", "first", "after_last")
            .annotate(n=Count("*"))
        )
        for row in rows:
            for week in range(span.position(row["first"]), span.position(row["after_last"])):
                if 0 <= week < len(span) and span.mondays[week] == current:
                    continue  # counted below, as of now
                key = (row["receiving_unit_id"], week)
                counts.setdefault(key, {"open_overdue": 0})["open_overdue"] += row["n"]
    if current in span.mondays:
        index = span.mondays.index(current)
        today = now.astimezone(LOCAL_TZ).date()
        running_late = Dossier.objects.filter(overdue_filter(today))
        if span.units is not None:
            running_late = running_late.filter(receiving_unit_id__in=span.units)
        for unit_id, n in running_late.order_by().values_list("receiving_unit_id").annotate(n=Count("*")):
            counts[(unit_id, index)] = {"open_overdue": n}
    return counts


def delivered_counts(span: Span) -> dict[tuple[int, int], Counts]:
    """Result items delivered in the week; on target when the local delivery date <= target."""
    rows = _by_week(
        span,
        PostalItem.objects.filter(
            direction=Direction.RETURN, delivered_at__gte=span.start, delivered_at__lt=span.end
        ).annotate(delivered_day=TruncDate("delivered_at", tzinfo=LOCAL_TZ)),
        "dossier__receiving_unit_id",
        "delivered_at",
        items_delivered=Count("*"),
        items_on_target=Count("id", filter=Q(target_date__isnull=False, delivered_day__lte=F("target_date"))),
    )
    return {(unit_id, week): row for unit_id, week, row in rows}


def returned_to_sender_counts(span: Span) -> dict[tuple[int, int], Counts]:
    """Result items whose status became 'returned to the agency' in the week (from ItemEvent)."""
    rows = _by_week(
        span,
        ItemEvent.objects.filter(
            to_status=ItemStatus.RETURNED_TO_SENDER,
            at__gte=span.start,
            at__lt=span.end,
            item__direction=Direction.RETURN,
        ),
        "item__dossier__receiving_unit_id",
        "at",
        items_returned_to_sender=Count("item_id", distinct=True),
    )
    return {(unit_id, week): row for unit_id, week, row in rows}


MEASURES: tuple[Callable, ...] = (
    received_counts,
    returned_counts,
    finished_counts,
    overdue_counts,
    delivered_counts,
    returned_to_sender_counts,
)

# Measures of apps above reports (notify's ratings, dvcqg's sync rate), registered in their
# AppConfig.ready(): reports may not import them. Same contract as MEASURES: (unit, week) ->
# counts of COUNTERS, by one grouped query over the span.
_registered_measures: list[Callable] = []


def register_measure(measure: Callable) -> None:
    if measure not in _registered_measures:
        _registered_measures.append(measure)


def by_week(span: Span, queryset, unit_field: str, field: str, **aggregates) -> dict[tuple[int, int], Counts]:
    """The helper registered measures use: ``aggregates`` by unit and week of ``field``."""
    return {
        (unit_id, week): row
        for unit_id, week, row in _by_week(span, queryset, unit_field, field, **aggregates)
    }


def add_ancestors(unit_ids: Iterable[int], parents: dict[int, int | None]) -> dict[int, int | None]:
    """Extend ``parents`` with the given units and every unit above them, in one recursive query
    (a round trip per level of the tree cost as much as a measure's query for one week),
    instead of reading the whole table of units (3,300 rows) for each run."""
    missing = sorted({unit_id for unit_id in unit_ids if unit_id not in parents})
    if not missing:
        return parents
    table = connection.ops.quote_name(AdministrativeUnit._meta.db_table)
    placeholders = ", ".join(["%s"] * len(missing))
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE up (id, parent_id) AS ("  # noqa: S608 - names from the model
            f" SELECT id, parent_id FROM {table} WHERE id IN ({placeholders})"
            f" UNION SELECT u.id, u.parent_id FROM {table} u JOIN up ON u.id = up.parent_id"
            f") SELECT id, parent_id FROM up",
            missing,
        )
        found = dict(cursor.fetchall())
    for unit_id in missing:
        parents[unit_id] = found.get(unit_id)
    for unit_id, parent_id in found.items():
        parents.setdefault(unit_id, parent_id)
    return parents


def span_counts(span: Span) -> dict[date, dict[int, Counts]]:
    """Counts per week and receiving unit (a commune, usually): one query per measure for all
    the weeks of the span."""
    weeks: dict[date, dict[int, Counts]] = {
        monday: defaultdict(lambda: dict.fromkeys(COUNTERS, 0)) for monday in span.mondays
    }
    for measure in (*MEASURES, *_registered_measures):
        for (unit_id, index), values in measure(span).items():
            if 0 <= index < len(span):
                weeks[span.mondays[index]][unit_id].update(values)
    return weeks


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
    parents: dict[int, int | None],  # extended here with the units counted
    progress: Callable[[int, date], None] | None = None,
    done: int = 0,
) -> int:
    """Replace the rows of these weeks (sorted, within MAX_SPAN_WEEKS) in one transaction.

    The weeks' recomputation marks are removed first, in the same transaction, so a change
    committed while this runs is either seen by the queries below or leaves a mark behind.
    Weeks between the requested ones are counted (the span is contiguous) but not written.
    """
    if connection.vendor == "postgresql":
        # The rows are a snapshot that any run can rebuild: a crash just after the commit may
        # lose them (the week is computed again), and the run does not wait for the disk flush.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
    DirtyWeek.objects.filter(week_start__in=mondays).delete()
    first = mondays[0]
    span = Span([first + timedelta(weeks=n) for n in range((mondays[-1] - first).days // 7 + 1)])
    counts = span_counts(span)
    add_ancestors({unit_id for monday in mondays for unit_id in counts[monday]}, parents)
    computed_at = timezone.now()
    rates, computed = [], []
    for monday in mondays:
        rows = roll_up(counts[monday], parents)
        rates += [
            WeeklyRate(unit_id=unit_id, week_start=monday, computed_at=computed_at, **values)
            for unit_id, values in sorted(rows.items())
        ]
        computed.append(
            ComputedWeek(
                week_start=monday, computed_at=computed_at, counted_whole_at=computed_at, rows=len(rows)
            )
        )
    if connection.vendor == "postgresql":
        _replace_rows(mondays, rates, computed)
    else:
        WeeklyRate.objects.filter(week_start__in=mondays).delete()
        ComputedWeek.objects.filter(week_start__in=mondays).delete()
        WeeklyRate.objects.bulk_create(rates, batch_size=1000)
        ComputedWeek.objects.bulk_create(computed)
    if progress:
        for n, monday in enumerate(mondays, start=done + 1):
            progress(n, monday)
    return len(rates)


def _replace_rows(mondays: list[date], rates: list[WeeklyRate], computed: list[ComputedWeek]) -> None:
    """The weeks' old rows out and the new ones in, in two statements (the old rows of both
    tables, then the new rows of both, as arrays): the same as the ORM's four deletes and bulk
    inserts with half the round trips, which are most of what the job adds to its queries."""
    quote = connection.ops.quote_name
    rate_table, week_table = quote(WeeklyRate._meta.db_table), quote(ComputedWeek._meta.db_table)
    columns = ["unit_id", "week_start", "computed_at", *COUNTERS]
    types = ["bigint", "date", "timestamptz", *["integer"] * len(COUNTERS)]
    arrays = ", ".join(f"%s::{kind}[]" for kind in types)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH rates AS (DELETE FROM {rate_table} WHERE week_start = ANY(%s))"  # noqa: S608
            f" DELETE FROM {week_table} WHERE week_start = ANY(%s)",
            [mondays, mondays],
        )
        cursor.execute(
            f"WITH rates AS (INSERT INTO {rate_table} ({', '.join(map(quote, columns))})"  # noqa: S608
            f" SELECT * FROM unnest({arrays}))"
            f" INSERT INTO {week_table} (week_start, computed_at, counted_whole_at, rows)"
            f" SELECT * FROM unnest(%s::date[], %s::timestamptz[], %s::timestamptz[], %s::integer[])",
            [
                *([getattr(rate, name) for rate in rates] for name in columns),
                [week.week_start for week in computed],
                [week.computed_at for week in computed],
                [week.counted_whole_at for week in computed],
                [week.rows for week in computed],
            ],
        )


def compute_week(*, monday: date, parents: dict[int, int | None] | None = None) -> int:
    """Replace the rows of one week; returns how many rows it wrote."""
    return _compute_span([monday], parents if parents is not None else {})


def compute_weeks(*, mondays: Iterable[date], progress: Callable[[int, date], None] | None = None) -> int:
    """Compute several weeks holding the computation lock: one grouped query per measure for
    up to MAX_SPAN_WEEKS weeks at a time, each such batch replaced in one transaction.

    Raises reports.locks.ComputationBusy when another computation holds the lock.
    """
    batches = spans(mondays)
    written = done = 0
    with computation_lock():
        parents: dict[int, int | None] = {}  # filled with the units that have counts
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

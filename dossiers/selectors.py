"""Scoped reads of dossiers: every list, detail page, export and API starts here."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.db.models import F, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communes import scoping
from communes.models import AdministrativeUnit
from core.labels import describe_event
from dossiers import search, workdays
from dossiers.models import Dossier
from dossiers.statuses import RUNNING


def dossiers_visible_to(user) -> QuerySet[Dossier]:
    """Dossiers received by a unit in the user's scope: a commune official's commune, a leader's
    communes, the communes a postal employee's office serves; everything for administrators."""
    return scoping.filter_by_unit(Dossier.objects.all(), user, field="receiving_unit")


def dossier_for_user_or_404(user, pk) -> Dossier:
    """One dossier in the user's scope; 404 for anything else (its existence is not disclosed)."""
    return get_object_or_404(
        dossiers_visible_to(user).select_related("procedure__field", "receiving_unit", "created_by"), pk=pk
    )


# --- the list: filters and keyset pagination --------------------------------------------------

NEARLY_DUE_WORKING_DAYS = 2
PAGE_SIZE = 50


@dataclass(frozen=True)
class ExtraFilter:
    """A filter another app adds to the list (imports go downward only: the post registers
    "where is the result sent by post" from its AppConfig.ready)."""

    label: str
    choices: list
    apply: Callable[[QuerySet, str], QuerySet]


EXTRA_FILTERS: dict[str, ExtraFilter] = {}


def overdue_filter(today: date) -> Q:
    """Overdue on ``today``: the clock is running (not waiting on the citizen, not ended) and
    the due date has passed. The one rule of the list's filter, the dashboard's late list and
    the week in progress's ``open_overdue`` (reports.services.aggregation); docs/reports.md."""
    return Q(status__in=RUNNING, due_date__lt=today)


def nearly_due_filter(today: date) -> Q:
    """Due today or within NEARLY_DUE_WORKING_DAYS working days, the clock running."""
    horizon = workdays.add_working_days(today, NEARLY_DUE_WORKING_DAYS)
    return Q(status__in=RUNNING, due_date__gte=today, due_date__lte=horizon)


def filter_dossiers(qs: QuerySet[Dossier], filters: dict, *, today: date | None = None) -> QuerySet[Dossier]:
    """Apply the list's filters (cleaned data of DossierFilterForm) in the database."""
    today = today or timezone.localdate()
    found = search.search_filter(filters.get("q") or "")
    if found is not None:
        qs = qs.filter(found)
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("procedure"):
        qs = qs.filter(procedure=filters["procedure"])
    if filters.get("field"):
        qs = qs.filter(procedure__field=filters["field"])
    if filters.get("intake_channel"):
        qs = qs.filter(intake_channel=filters["intake_channel"])
    if filters.get("return_channel"):
        qs = qs.filter(return_channel=filters["return_channel"])
    if filters.get("unit"):
        qs = qs.filter(receiving_unit=filters["unit"])
    flag = filters.get("flag")
    if flag == "overdue":
        qs = qs.filter(overdue_filter(today))
    elif flag == "due_today":
        qs = qs.filter(status__in=RUNNING, due_date=today)
    elif flag == "nearly_due":
        qs = qs.filter(nearly_due_filter(today))
    for name, extra in EXTRA_FILTERS.items():
        if filters.get(name):
            qs = extra.apply(qs, filters[name])
    if filters.get("received_from"):
        qs = qs.filter(received_at__gte=_start_of(filters["received_from"]))
    if filters.get("received_to"):
        qs = qs.filter(received_at__lt=_start_of(filters["received_to"] + timedelta(days=1)))
    return qs


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=workdays.TZ)


def dossier_list(user, filters: dict) -> QuerySet[Dossier]:
    return filter_dossiers(dossiers_visible_to(user), filters).select_related("procedure", "receiving_unit")


@dataclass
class Page:
    rows: list
    next_cursor: str | None
    previous_cursor: str | None

    @property
    def has_other_pages(self) -> bool:
        return bool(self.next_cursor or self.previous_cursor)


@dataclass(frozen=True)
class Order:
    """A sort of the list: a date column and its direction, with the id as tie-breaker.

    Empty dates (a BCCI intake not yet received has neither received_at nor due_date) sort first
    going down and last going up, so one order is exactly the other reversed."""

    field: str
    descending: bool
    label: str

    def order_by(self, *, reverse: bool = False) -> list:
        descending = self.descending != reverse
        if descending:
            return [F(self.field).desc(nulls_first=True), F("id").desc()]
        return [F(self.field).asc(nulls_last=True), F("id").asc()]

    def after(self, value, pk: int, *, reverse: bool = False) -> Q:
        """Rows that come after (value, pk) in this order (or in the reversed one)."""
        field = self.field
        if self.descending != reverse:
            if value is None:
                return Q(**{f"{field}__isnull": True, "id__lt": pk}) | Q(**{f"{field}__isnull": False})
            return Q(**{f"{field}__lt": value}) | Q(**{field: value, "id__lt": pk})
        if value is None:
            return Q(**{f"{field}__isnull": True, "id__gt": pk})
        return (
            Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gt": value}) | Q(**{field: value, "id__gt": pk})
        )


ORDERS = {
    "-received": Order("received_at", True, _("Received, newest first")),
    "received": Order("received_at", False, _("Received, oldest first")),
    "due": Order("due_date", False, _("Due date, soonest first")),
    "-due": Order("due_date", True, _("Due date, latest first")),
}
DEFAULT_ORDER = "-received"


def encode_cursor(dossier: Dossier, order: Order = ORDERS[DEFAULT_ORDER]) -> str:
    value = getattr(dossier, order.field)
    return f"{value.isoformat() if value else '-'}~{dossier.pk}"


def decode_cursor(cursor: str | None, order: Order = ORDERS[DEFAULT_ORDER]) -> tuple | None:
    if not cursor or "~" not in cursor:
        return None
    stamp, _sep, pk = cursor.rpartition("~")
    parse = datetime.fromisoformat if order.field == "received_at" else date.fromisoformat
    try:
        return (None if stamp == "-" else parse(stamp)), int(pk)
    except ValueError:
        return None


def keyset_page(
    qs: QuerySet[Dossier],
    *,
    after: str | None = None,
    before: str | None = None,
    size: int = PAGE_SIZE,
    order: str = DEFAULT_ORDER,
) -> Page:
    """A page of the list in the chosen order (newest received first by default).

    No COUNT(*) and no OFFSET: the query reads ``size + 1`` rows along an index of the sort
    column and the extra row says whether there is a next page; the cursor is the last row's
    (date, id).
    """
    sort = ORDERS.get(order, ORDERS[DEFAULT_ORDER])
    after_key, before_key = decode_cursor(after, sort), decode_cursor(before, sort)
    if before_key is not None:
        value, pk = before_key
        rows = list(
            qs.filter(sort.after(value, pk, reverse=True)).order_by(*sort.order_by(reverse=True))[: size + 1]
        )
        has_newer = len(rows) > size
        rows = list(reversed(rows[:size]))
        return Page(
            rows=rows,
            next_cursor=encode_cursor(rows[-1], sort) if rows else None,
            previous_cursor=encode_cursor(rows[0], sort) if rows and has_newer else None,
        )
    if after_key is not None:
        value, pk = after_key
        qs = qs.filter(sort.after(value, pk))
    rows = list(qs.order_by(*sort.order_by())[: size + 1])
    has_older = len(rows) > size
    rows = rows[:size]
    return Page(
        rows=rows,
        next_cursor=encode_cursor(rows[-1], sort) if rows and has_older else None,
        previous_cursor=encode_cursor(rows[0], sort) if rows and after_key is not None else None,
    )


# Below this many rows (as the planner estimates them) the list counts exactly.
EXACT_COUNT_UP_TO = 20_000


@dataclass(frozen=True)
class Total:
    count: int
    estimated: bool


def list_total(qs: QuerySet[Dossier]) -> Total:
    """How many dossiers match, cheaply: on PostgreSQL the planner's estimate when it is large
    (labelled so on the page; COUNT(*) over a million rows costs more than the page itself),
    an exact count otherwise."""
    qs = qs.order_by()
    if connection.vendor == "postgresql":
        sql, params = qs.values("id").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
            plan = cursor.fetchone()[0]
        if isinstance(plan, str):
            plan = json.loads(plan)
        estimate = int(plan[0]["Plan"]["Plan Rows"])
        if estimate > EXACT_COUNT_UP_TO:
            return Total(estimate, True)
    return Total(qs.count(), False)


def visible_communes(user) -> QuerySet[AdministrativeUnit] | None:
    """The communes a user may filter the list by (None when they have only one)."""
    communes = scoping.communes_visible_to(user).order_by("name")
    ids = scoping.unit_ids(user)
    if ids is not None and len(ids) <= 1:
        return None
    return communes


def timeline(dossier: Dossier) -> list:
    """The dossier's events, oldest first, each with its sentence as ``label`` (core.labels)."""
    events = list(dossier.events.select_related("actor").order_by("at", "id"))
    from dossiers.editing import describe_changes

    for event in events:
        event.label = describe_event(event)
        if event.action == "dossier.edited":
            event.changes = describe_changes(event.details)
    return events

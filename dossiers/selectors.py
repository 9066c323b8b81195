"""Scoped reads of dossiers: every list, detail page, export and API starts here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import F, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communes import scoping
from communes.models import AdministrativeUnit
from dossiers import workdays
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
    q = (filters.get("q") or "").strip()
    if q:
        if _looks_like_code(q):
            qs = qs.filter(Q(code__startswith=q) | Q(code__startswith=q.upper()))
        else:
            qs = qs.filter(applicant_name__icontains=q)
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
    elif flag == "nearly_due":
        qs = qs.filter(nearly_due_filter(today))
    if filters.get("received_from"):
        qs = qs.filter(received_at__gte=_start_of(filters["received_from"]))
    if filters.get("received_to"):
        qs = qs.filter(received_at__lt=_start_of(filters["received_to"] + timedelta(days=1)))
    return qs


def _looks_like_code(text: str) -> bool:
    return any(ch.isdigit() for ch in text) and ("-" in text or "." in text or text.isdigit())


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


def encode_cursor(dossier: Dossier) -> str:
    stamp = dossier.received_at.isoformat() if dossier.received_at else "-"
    return f"{stamp}~{dossier.pk}"


def decode_cursor(cursor: str | None) -> tuple[datetime | None, int] | None:
    if not cursor or "~" not in cursor:
        return None
    stamp, _sep, pk = cursor.rpartition("~")
    try:
        moment = None if stamp == "-" else datetime.fromisoformat(stamp)
        return moment, int(pk)
    except ValueError:
        return None


def keyset_page(
    qs: QuerySet[Dossier], *, after: str | None = None, before: str | None = None, size: int = PAGE_SIZE
) -> Page:
    """A page of the list newest first, by (received_at DESC NULLS FIRST, id DESC).

    No COUNT(*): the query reads ``size + 1`` rows along the (unit, received_at, id) index and
    the extra row says whether there is a next page. Dossiers not yet received (BCCI intake
    awaiting the handover) come first.
    """
    newest_first = [F("received_at").desc(nulls_first=True), F("id").desc()]
    oldest_first = [F("received_at").asc(nulls_last=True), F("id").asc()]
    after_key, before_key = decode_cursor(after), decode_cursor(before)
    if before_key is not None:
        moment, pk = before_key
        rows = list(qs.filter(_newer_than(moment, pk)).order_by(*oldest_first)[: size + 1])
        has_newer = len(rows) > size
        rows = list(reversed(rows[:size]))
        return Page(
            rows=rows,
            next_cursor=encode_cursor(rows[-1]) if rows else None,
            previous_cursor=encode_cursor(rows[0]) if rows and has_newer else None,
        )
    if after_key is not None:
        moment, pk = after_key
        qs = qs.filter(_older_than(moment, pk))
    rows = list(qs.order_by(*newest_first)[: size + 1])
    has_older = len(rows) > size
    rows = rows[:size]
    return Page(
        rows=rows,
        next_cursor=encode_cursor(rows[-1]) if rows and has_older else None,
        previous_cursor=encode_cursor(rows[0]) if rows and after_key is not None else None,
    )


def _older_than(moment: datetime | None, pk: int) -> Q:
    """Rows after the cursor in newest-first order."""
    if moment is None:
        return Q(received_at__isnull=True, id__lt=pk) | Q(received_at__isnull=False)
    return Q(received_at__lt=moment) | Q(received_at=moment, id__lt=pk)


def _newer_than(moment: datetime | None, pk: int) -> Q:
    """Rows before the cursor in newest-first order."""
    if moment is None:
        return Q(received_at__isnull=True, id__gt=pk)
    return Q(received_at__isnull=True) | Q(received_at__gt=moment) | Q(received_at=moment, id__gt=pk)


def visible_communes(user) -> QuerySet[AdministrativeUnit] | None:
    """The communes a user may filter the list by (None when they have only one)."""
    communes = scoping.communes_visible_to(user).order_by("name")
    ids = scoping.unit_ids(user)
    if ids is not None and len(ids) <= 1:
        return None
    return communes


EVENT_LABELS = {
    "dossier.registered": _("Registered; awaiting the handover to the desk"),
    "dossier.accepted": _("Accepted at the desk"),
    "dossier.submitted_by_post": _("Received by post: handover record signed"),
    "dossier.refused": _("Refused"),
    "dossier.processing_started": _("Processing started"),
    "dossier.supplement_requested": _("Supplement requested"),
    "dossier.supplement_completed": _("Supplement completed; the deadline restarts"),
    "dossier.payment_requested": _("Financial obligation requested"),
    "dossier.payment_confirmed": _("Financial obligation fulfilled"),
    "dossier.extended": _("Apology and new date issued"),
    "dossier.withdrawn": _("Withdrawn by the citizen"),
    "dossier.stopped": _("Processing stopped"),
    "dossier.finished": _("Processing finished"),
    "dossier.returned": _("Result returned"),
    "dossier.imported": _("Imported from the provincial system"),
    "dossier.import_updated": _("Updated from the provincial system"),
    "dossier.postal_return_failed": _("Postal delivery failed; result back at the desk"),
}


def timeline(dossier: Dossier) -> list:
    """The dossier's events, oldest first, each with a readable ``label``."""
    events = list(dossier.events.select_related("actor").order_by("at", "id"))
    for event in events:
        event.label = EVENT_LABELS.get(event.action, event.action)
    return events

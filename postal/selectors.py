"""Scoped reads of postal work. Postal staff see their post office's items; commune officials
the items of their commune's dossiers; leaders and managers what lies under them. An object
outside the scope is a 404."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import User
from communes import scoping
from communes.models import AdministrativeUnit
from dossiers.models import Dossier, ProcedureField
from postal.models import (
    Direction,
    Handover,
    ItemEvent,
    ItemStatus,
    PickupAppointment,
    PostalItem,
    TaskTransfer,
)

S = ItemStatus
OPEN_DELIVERY = (S.ACCEPTED, S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.DELIVERY_FAILED)


def _office_or_unit(user: User, office_field: str, unit_field: str) -> Q | None:
    offices, units = scoping.post_office_ids(user), scoping.unit_ids(user)
    if offices is None or units is None:
        return None
    return Q(**{f"{office_field}__in": offices}) | Q(**{f"{unit_field}__in": units})


def items_visible_to(user: User) -> QuerySet[PostalItem]:
    qs = PostalItem.objects.select_related("dossier", "post_office")
    scope = _office_or_unit(user, "post_office", "dossier__receiving_unit")
    return qs if scope is None else qs.filter(scope)


def item_for_user_or_404(user: User, pk: int) -> PostalItem:
    return get_object_or_404(items_visible_to(user).select_related("dossier__procedure"), pk=pk)


def item_timeline(item: PostalItem) -> QuerySet[ItemEvent]:
    return item.events.select_related("actor").order_by("at", "id")


def target_state(item: PostalItem, today: date | None = None) -> str:
    """ "met", "missed" or "pending" against the J+n target (only once the post has the item)."""
    if not item.target_date:
        return ""
    if item.status == S.DELIVERED and item.delivered_at:
        return "met" if timezone.localtime(item.delivered_at).date() <= item.target_date else "missed"
    if item.status in OPEN_DELIVERY:
        return "missed" if (today or timezone.localdate()) > item.target_date else "pending"
    return ""


def deliveries_for(user: User) -> QuerySet[PostalItem]:
    """Results the user's office still has to deliver, the most urgent first."""
    return (
        scoping.filter_by_post_office(PostalItem.objects.all(), user)
        .filter(direction=Direction.RETURN, status__in=OPEN_DELIVERY)
        .select_related("dossier", "post_office")
        .order_by("target_date", "id")
    )


def items_for_dossier(dossier: Dossier) -> list[PostalItem]:
    """A dossier's postal items with their timelines (two queries, whatever the history)."""
    events = ItemEvent.objects.select_related("actor").order_by("at", "id")
    return list(
        dossier.postal_items.select_related("post_office")
        .prefetch_related(Prefetch("events", queryset=events), "delivery_attempts")
        .order_by("created_at", "id")
    )


def handovers_visible_to(user: User) -> QuerySet[Handover]:
    qs = Handover.objects.select_related("desk_unit", "post_office", "prepared_by")
    scope = _office_or_unit(user, "post_office", "desk_unit")
    return qs if scope is None else qs.filter(scope)


def handover_for_user_or_404(user: User, pk: int) -> Handover:
    return get_object_or_404(
        handovers_visible_to(user).select_related("desk_signed_by", "post_signed_by"), pk=pk
    )


def handover_lines(handover: Handover):
    return handover.lines.select_related("item__dossier__procedure").order_by("id")


def appointments_visible_to(user: User) -> QuerySet[PickupAppointment]:
    qs = PickupAppointment.objects.select_related(
        "commune", "procedure", "post_office", "assigned_to", "dossier"
    )
    scope = _office_or_unit(user, "post_office", "commune")
    return qs if scope is None else qs.filter(scope)


def appointment_for_user_or_404(user: User, pk: int) -> PickupAppointment:
    return get_object_or_404(appointments_visible_to(user), pk=pk)


def appointment_counts(qs: QuerySet[PickupAppointment]) -> dict[str, int]:
    St = PickupAppointment.Status
    return qs.aggregate(
        booked=Count("id", filter=Q(status=St.BOOKED)),
        done=Count("id", filter=Q(status=St.DONE)),
        missed=Count("id", filter=Q(status=St.MISSED)),
        cancelled=Count("id", filter=Q(status=St.CANCELLED)),
    )


# --- task transfers ------------------------------------------------------------------------


def transfers_visible_to(user: User) -> QuerySet[TaskTransfer]:
    return scoping.filter_by_unit(TaskTransfer.objects.select_related("unit", "field"), user)


def transfer_for_user_or_404(user: User, pk: int) -> TaskTransfer:
    return get_object_or_404(transfers_visible_to(user), pk=pk)


def _late_q(today: date) -> Q:
    done = TaskTransfer.Status.DONE
    return Q(status=done, done_date__gt=F("planned_date")) | (
        ~Q(status__in=[done, TaskTransfer.Status.CANCELLED]) & Q(planned_date__lt=today)
    )


def transfer_state(transfer: TaskTransfer, today: date | None = None) -> str:
    """done / done_late / late / planned / cancelled, for the matrix cell."""
    today = today or timezone.localdate()
    if transfer.status == TaskTransfer.Status.CANCELLED:
        return "cancelled"
    if transfer.status == TaskTransfer.Status.DONE:
        return "done_late" if transfer.done_date and transfer.done_date > transfer.planned_date else "done"
    return "late" if transfer.planned_date < today else "planned"


@dataclass
class MatrixRow:
    commune: AdministrativeUnit
    cells: list  # one per (field, task) column: a TaskTransfer or None


def transfer_matrix(user: User, *, field_ids: list[int] | None = None) -> tuple[list, list[MatrixRow]]:
    """Communes × (field, task): columns for the fields that have transfers (or those asked
    for), rows for the communes in scope. Three queries whatever the size."""
    transfers = transfers_visible_to(user).exclude(status=TaskTransfer.Status.CANCELLED)
    if field_ids:
        transfers = transfers.filter(field_id__in=field_ids)
    transfers = list(transfers.prefetch_related("staff"))
    field_pks = sorted({t.field_id for t in transfers} | set(field_ids or []))
    fields = list(ProcedureField.objects.filter(pk__in=field_pks).order_by("name"))
    columns = [(f, task, label) for f in fields for task, label in TaskTransfer.Task.choices]
    by_key = {(t.unit_id, t.field_id, t.task): t for t in transfers}
    rows = [
        MatrixRow(commune=c, cells=[by_key.get((c.pk, f.pk, task)) for f, task, _label in columns])
        for c in scoping.communes_visible_to(user).order_by("name")
    ]
    for row in rows:
        row.cells = [(cell, transfer_state(cell) if cell else "") for cell in row.cells]
    return columns, rows


def transfer_progress(user: User) -> list[dict]:
    """Per field: transfers planned in scope, done, late (open past the planned date or done
    after it) — for the leaders' network page. One grouped query."""
    today = timezone.localdate()
    rows = (
        transfers_visible_to(user)
        .exclude(status=TaskTransfer.Status.CANCELLED)
        .values("field_id", "field__name")
        .annotate(
            total=Count("id"),
            done=Count("id", filter=Q(status=TaskTransfer.Status.DONE)),
            late=Count("id", filter=_late_q(today)),
        )
        .order_by("field__name")
    )
    return [
        {
            "field_id": r["field_id"],
            "field": r["field__name"],
            "total": r["total"],
            "done": r["done"],
            "late": r["late"],
            "percent_done": round(100 * r["done"] / r["total"]) if r["total"] else 0,
        }
        for r in rows
    ]


def public_progress(dossier: Dossier) -> list[dict]:
    """For the citizens' lookup (/track/): each postal item of the dossier with its status and
    the statuses it went through — no names, addresses or staff."""
    progress = []
    for item in dossier.postal_items.order_by("created_at", "id").prefetch_related("events"):
        events = sorted(item.events.all(), key=lambda event: (event.at, event.id))
        progress.append(
            {
                "code": item.code,
                "direction": item.get_direction_display(),
                "status": item.get_status_display(),
                "target_date": item.target_date,
                "delivered_at": item.delivered_at,
                "events": [
                    {"at": event.at, "status": event.get_to_status_display() if event.to_status else ""}
                    for event in events
                ],
            }
        )
    return progress

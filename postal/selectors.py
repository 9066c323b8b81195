"""Scoped reads of postal work. Postal staff see their post office's items; commune officials
the items of their commune's dossiers; leaders and managers what lies under them. An object
outside the scope is a 404."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from communes import scoping
from communes.models import AdministrativeUnit
from dossiers.models import Dossier, ProcedureField, ReturnChannel, Status
from postal.models import (
    Direction,
    Handover,
    HandoverLine,
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
    """A dossier's postal items with their timelines, attempts and handover records (a fixed
    number of queries, whatever the history)."""
    events = ItemEvent.objects.select_related("actor").order_by("at", "id")
    return list(
        dossier.postal_items.select_related("post_office")
        .prefetch_related(
            Prefetch("events", queryset=events),
            "delivery_attempts",
            Prefetch(
                "handover_lines", queryset=HandoverLine.objects.select_related("handover").order_by("id")
            ),
        )
        .order_by("created_at", "id")
    )


# The desk list's postal column: where a result sent by post is, in three words.
IN_TRANSIT_STATUSES = (
    ItemStatus.CREATED,
    ItemStatus.ACCEPTED,
    ItemStatus.IN_TRANSIT,
    ItemStatus.OUT_FOR_DELIVERY,
    ItemStatus.DELIVERY_FAILED,
)


def return_progress(dossier_ids: list[int]) -> dict[int, tuple[str, str]]:
    """For each dossier, its latest return item as (words, badge colour): in transit,
    delivered, or back at the desk. One query for a page of the list."""
    if not dossier_ids:
        return {}
    latest = {}
    items = (
        PostalItem.objects.filter(dossier_id__in=dossier_ids, direction=Direction.RETURN)
        .exclude(status=ItemStatus.CANCELLED)
        .order_by("dossier_id", "created_at", "id")
        .values_list("dossier_id", "status")
    )
    for dossier_id, status in items:
        latest[dossier_id] = status
    words = {
        ItemStatus.DELIVERED: (_("Delivered"), "text-bg-success"),
        ItemStatus.RETURNED_TO_SENDER: (_("Back at the desk"), "text-bg-warning"),
    }
    in_transit = (_("In transit"), "text-bg-info")
    return {
        dossier_id: tuple(str(part) for part in words.get(status, in_transit))
        for dossier_id, status in latest.items()
        if status in IN_TRANSIT_STATUSES or status in words
    }


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


# --- the result handed to the post from the dossier page ----------------------------------------

# Return items that no longer carry the result: a new one may be created.
ENDED_RETURNS = (S.CANCELLED, S.RETURNED_TO_SENDER)


def open_handovers(*, desk_unit_id: int, post_office_id: int | None = None) -> QuerySet[Handover]:
    """The desk's outgoing records still open for more items: draft, nobody has signed."""
    qs = Handover.objects.filter(
        direction=Handover.Direction.DESK_TO_POST,
        desk_unit_id=desk_unit_id,
        status=Handover.Status.DRAFT,
        desk_signed_by__isnull=True,
        post_signed_by__isnull=True,
    ).select_related("post_office")
    if post_office_id is not None:
        qs = qs.filter(post_office_id=post_office_id)
    return qs.order_by("-prepared_at", "-id")


def active_return_item(dossier: Dossier) -> PostalItem | None:
    return (
        dossier.postal_items.filter(direction=Direction.RETURN)
        .exclude(status__in=ENDED_RETURNS)
        .order_by("-created_at", "-id")
        .first()
    )


def can_hand_to_post(dossier: Dossier) -> bool:
    """A processed dossier whose citizen chose postal return and whose result is not with the
    post yet."""
    return (
        dossier.status == Status.FINISHED
        and dossier.return_channel == ReturnChannel.BCCI
        and active_return_item(dossier) is None
    )


def suggested_postage(post_office) -> int:
    """What this office charged for the last result it carried: the desk rarely retypes it."""
    if post_office is None:
        return 0
    last = (
        PostalItem.objects.filter(post_office=post_office, direction=Direction.RETURN)
        .order_by("-created_at", "-id")
        .values_list("postage", flat=True)
        .first()
    )
    return last or 0


def short_name(full_name: str) -> str:
    """ "Nguyễn Văn An" → "N. V. An": enough for the citizen to recognise who signed for the
    result, without printing a whole name on a public page."""
    parts = (full_name or "").split()
    if len(parts) <= 1:
        return full_name or ""
    return " ".join([*(f"{part[0]}." for part in parts[:-1]), parts[-1]])


def public_progress(dossier: Dossier) -> list[dict]:
    """For the citizens' lookup (/track/), in plain words (``{"text": …}`` a line): when the post
    took the dossier or the result, by when it should arrive, each failed visit, who received it
    — no item states, no record numbers, no staff, the recipient by initials and given name."""

    def day(value):
        if value is None:
            return ""
        return (timezone.localtime(value) if hasattr(value, "hour") else value).strftime("%d/%m/%Y")

    def moment(value):
        return timezone.localtime(value).strftime("%H:%M %d/%m/%Y") if value else ""

    lines = []
    for item in items_for_dossier(dossier):
        status = item.status
        if item.direction == "intake":
            if status == "delivered":
                lines.append(
                    _("The post handed your dossier to the one-stop desk on %(day)s.")
                    % {"day": day(item.delivered_at)}
                )
            elif status != "cancelled":
                lines.append(
                    _("The post received your dossier on %(day)s and is taking it to the one-stop desk.")
                    % {"day": day(item.created_at)}
                )
            continue
        if status == "cancelled":
            continue
        if status == "created":
            lines.append(_("Your result is being prepared for the post."))
            continue
        if item.handover_date:
            lines.append(
                _(
                    "The result was sent to you by post on %(day)s, expected to be delivered by "
                    "%(target)s (postal item %(code)s)."
                )
                % {"day": day(item.handover_date), "target": day(item.target_date), "code": item.code}
            )
        else:
            lines.append(_("Your result is with the post (postal item %(code)s).") % {"code": item.code})
        for attempt in item.delivery_attempts.all():
            if attempt.outcome != "delivered":
                lines.append(
                    _("%(moment)s: the postman could not deliver it (%(why)s).")
                    % {"moment": moment(attempt.at), "why": attempt.get_outcome_display().lower()}
                )
        if status == "out_for_delivery":
            lines.append(_("The postman is on the way to your address."))
        elif status == "delivery_failed":
            lines.append(_("The postman will come again; you can also call the one-stop desk."))
        elif status == "delivered":
            name = short_name(item.recipient_name)
            if item.recipient_is_proxy:
                lines.append(
                    _("Delivered to %(name)s (on your behalf, with an authorisation) at %(moment)s.")
                    % {"name": name, "moment": moment(item.delivered_at)}
                )
            else:
                lines.append(
                    _("Delivered to %(name)s at %(moment)s.")
                    % {"name": name, "moment": moment(item.delivered_at)}
                )
        elif status == "returned_to_sender":
            lines.append(
                _(
                    "The post could not deliver it after two notices: the result is back at the "
                    "one-stop desk, please collect it there."
                )
            )
    return [{"text": str(line)} for line in lines]

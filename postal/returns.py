"""Handing a finished result to the post from the dossier page.

``hand_to_post`` is the desk's one confirmed click: it creates the return item with
``services.create_return_item`` (address and phone come from the dossier, never typed again)
and puts it on the desk's open outgoing handover record to that office, or on a new one.

``record_result_handed_to_post`` is the single place where a dossier learns that its result is
with the post (the outgoing handover signed by both sides): the ``postal.handed_to_post`` event
the citizen's lookup reads, and where messages to the citizen are to be sent from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.models import User
from communes.models import PostOffice
from core.events import append_event
from dossiers.models import Dossier, ReturnChannel, Status
from postal import services
from postal.models import DeliveryTier, Direction, Handover, ItemStatus, PostalItem

S = ItemStatus
# Items that no longer carry the result: a new one may be created.
ENDED = (S.CANCELLED, S.RETURNED_TO_SENDER)


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
        .exclude(status__in=ENDED)
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


def suggested_postage(post_office: PostOffice | None) -> int:
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


@dataclass
class HandedToPost:
    item: PostalItem
    handover: Handover
    new_handover: bool


@transaction.atomic
def hand_to_post(
    *,
    dossier: Dossier,
    by: User,
    post_office: PostOffice | None = None,
    tier: str = DeliveryTier.LOCAL,
    postage: int = 0,
    fees_collected: int = 0,
    handover: Handover | None = None,
) -> HandedToPost:
    """Create the result's postal item and put it on ``handover`` (one of ``open_handovers``
    to the same office) or, when none is given, on a new record for the desk and that office.
    All or nothing: a refused step leaves no item and no record behind."""
    if handover is not None:
        handover = Handover.objects.select_for_update().get(pk=handover.pk)
        if handover.direction != Handover.Direction.DESK_TO_POST or handover.desk_unit_id != (
            dossier.receiving_unit_id
        ):
            raise ValidationError(_("Choose a handover record of your desk to the post."))
        if post_office is not None and handover.post_office_id != post_office.pk:
            raise ValidationError(
                _("Handover record %(number)s goes to another post office.") % {"number": handover.number}
            )
        post_office = handover.post_office
    item = services.create_return_item(
        dossier=dossier,
        by=by,
        post_office=post_office,
        tier=tier,
        postage=postage,
        fees_collected=fees_collected,
    )
    new_handover = handover is None
    if new_handover:
        handover = services.create_handover(
            by=by,
            direction=Handover.Direction.DESK_TO_POST,
            desk_unit=dossier.receiving_unit,
            post_office=item.post_office,
        )
    services.add_item_to_handover(handover=handover, by=by, code=item.code)
    return HandedToPost(item=item, handover=handover, new_handover=new_handover)


def record_result_handed_to_post(*, item: PostalItem, handover: Handover, by: User, at: datetime) -> None:
    """The result is with the post: both sides signed the outgoing record. The one place that
    tells the dossier (``postal.handed_to_post``, read by the citizen's lookup); citizen
    notifications on "result handed to the post" belong here, after commit."""
    append_event(
        item.dossier,
        by=by,
        action="postal.handed_to_post",
        at=at,
        details={
            "item": item.code,
            "handover": handover.number,
            "target_date": item.target_date.isoformat() if item.target_date else None,
        },
    )

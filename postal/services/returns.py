"""Handing a finished result to the post from the dossier page.

``hand_to_post`` is the desk's one confirmed click: it creates the return item with
``create_return_item`` (address and phone come from the dossier, never typed again) and puts it
on the desk's open outgoing handover record to that office, or on a new one. The dossier learns
that the result is with the post when both sides sign that record
(``handovers.record_result_handed_to_post``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from communes.models import PostOffice
from dossiers.models import Dossier
from postal.models import DeliveryTier, Handover, PostalItem
from postal.services.handovers import add_item_to_handover, create_handover, sign_handover
from postal.services.items import create_return_item


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
    sign_for_desk: bool = False,
) -> HandedToPost:
    """Create the result's postal item and put it on ``handover`` (one of the desk's open
    outgoing records to the same office, ``selectors.open_handovers``) or, when none is given,
    on a new record for the desk and that office. With ``sign_for_desk`` (the postal employee
    is at the desk to collect it) the official also signs the record for the desk. All or
    nothing: a refused step leaves no item and no record behind."""
    if handover is not None:
        handover = Handover.objects.select_for_update().get(pk=handover.pk)
        if (
            handover.direction != Handover.Direction.DESK_TO_POST
            or handover.desk_unit_id != dossier.receiving_unit_id
        ):
            raise ValidationError(_("Choose a handover record of your desk to the post."))
        if post_office is not None and handover.post_office_id != post_office.pk:
            raise ValidationError(
                _("Handover record %(number)s goes to another post office.") % {"number": handover.number}
            )
        post_office = handover.post_office
    item = create_return_item(
        dossier=dossier,
        by=by,
        post_office=post_office,
        tier=tier,
        postage=postage,
        fees_collected=fees_collected,
    )
    new_handover = handover is None
    if new_handover:
        handover = create_handover(
            by=by,
            direction=Handover.Direction.DESK_TO_POST,
            desk_unit=dossier.receiving_unit,
            post_office=item.post_office,
        )
    add_item_to_handover(handover=handover, by=by, code=item.code)
    if sign_for_desk:
        handover = sign_handover(handover=handover, by=by)
    return HandedToPost(item=item, handover=handover, new_handover=new_handover)

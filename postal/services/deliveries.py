"""Delivery attempts of return items: delivered, failed notices, back to the agency."""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.events import append_event
from core.prepared import save_fields, save_new
from core.timezones import local_date
from core.transactions import service
from dossiers import services as dossier_services
from dossiers import workdays
from dossiers.models import ReturnChannel
from postal.models import (
    DeliveryAttempt,
    Direction,
    ItemStatus,
    PostalItem,
)
from postal.services.items import (
    _ensure_office_of,
    _lock,
    _move,
)

Outcome = DeliveryAttempt.Outcome

# Statuses in which a return item is with the post and may be delivered.
DELIVERABLE = frozenset(
    {ItemStatus.ACCEPTED, ItemStatus.IN_TRANSIT, ItemStatus.OUT_FOR_DELIVERY, ItemStatus.DELIVERY_FAILED}
)
# What an attempt changes on the item (saved alone: the row has a score of columns), and what a
# delivery adds.
MOVED_FIELDS = ("attempts", "status", "version", "updated_at")
DELIVERED_FIELDS = (
    "recipient_name",
    "id_checked",
    "recipient_is_proxy",
    "proxy_authorisation",
    "delivered_at",
)
# At least two failed notices, the last at least this many working days after the first.
NOTICE_GAP_WORKING_DAYS = 2
REQUIRED_FAILED_NOTICES = 2


def two_notices_met(failed_days: list[date]) -> bool:
    """At least two failed notices, the last two working days or more after the first."""
    if len(failed_days) < REQUIRED_FAILED_NOTICES:
        return False
    first, last = min(failed_days), max(failed_days)
    return last >= workdays.add_working_days(first, NOTICE_GAP_WORKING_DAYS)


@service
def record_delivery_attempt(
    *,
    item: PostalItem,
    by: User,
    outcome: str,
    at: datetime | None = None,
    recipient_name: str = "",
    id_checked: bool = False,
    is_proxy: bool = False,
    proxy_authorisation: str = "",
    note: str = "",
    signature=None,
    photo=None,
    locked: bool = False,
) -> PostalItem:
    """One delivery attempt. Delivered needs the recipient's name and a checked ID (a proxy also
    an authorisation) and returns the dossier's result; after the second failed notice, two
    working days after the first, the item goes back to the agency. ``locked``: see
    ``postal.services.items.locked_item_query``; such a caller that read the item's dossier read
    it with ``dossiers.workflow.locked_query`` (a delivery returns it without reading it again)."""
    at = at or timezone.now()
    item = _lock(item, locked=locked)
    _ensure_office_of(by, item.post_office_id)
    if item.status == ItemStatus.DELIVERED:
        raise ValidationError(_("Item %(code)s has already been delivered.") % {"code": item.code})
    if item.direction != Direction.RETURN:
        raise ValidationError(
            _("Item %(code)s carries a dossier to the desk, not a result.") % {"code": item.code}
        )
    if item.status not in DELIVERABLE:
        raise ValidationError(
            _("Item %(code)s is “%(status)s”: it cannot be delivered now.")
            % {"code": item.code, "status": item.get_status_display()}
        )
    if outcome not in Outcome.values:
        raise ValidationError(_("Choose the outcome of the attempt."))
    recipient_name = (recipient_name or "").strip()
    proxy_authorisation = (proxy_authorisation or "").strip()
    if outcome == Outcome.DELIVERED:
        if not recipient_name:
            raise ValidationError(_("Enter the name of the person who received the item."))
        if not id_checked:
            raise ValidationError(
                _("Check the recipient's identity document before handing over the result.")
            )
        if is_proxy and not proxy_authorisation:
            raise ValidationError(_("A proxy must show an authorisation: enter its reference."))
    # Proofs (postal.proofs.clean_signature / clean_photo files) are kept with the attempt.
    item.last_attempt = DeliveryAttempt(
        item=item, at=at, outcome=outcome, note=note, by=by, signature=signature or "", photo=photo or ""
    )
    save_new(item.last_attempt)
    item.attempts += 1
    if outcome == Outcome.DELIVERED:
        item.recipient_name = recipient_name
        item.id_checked = True
        item.recipient_is_proxy = is_proxy
        item.proxy_authorisation = proxy_authorisation if is_proxy else ""
        item.delivered_at = at
        _move(
            item,
            ItemStatus.DELIVERED,
            by=by,
            action="item.delivered",
            at=at,
            proxy=is_proxy,
            attempt=item.attempts,
        )
        save_fields(item, [*DELIVERED_FIELDS, *MOVED_FIELDS])
        dossier_services.return_result(
            dossier=item.dossier,
            by=by,
            channel=ReturnChannel.BCCI,
            at=at,
            # A caller holding the locked item holds its dossier, when it read it, locked too.
            locked=locked and PostalItem.dossier.is_cached(item),
        )
        return item
    _move(
        item,
        ItemStatus.DELIVERY_FAILED,
        by=by,
        action="item.delivery_failed",
        at=at,
        outcome=outcome,
        attempt=item.attempts,
    )
    failed_days = [
        local_date(a)
        for a in item.delivery_attempts.exclude(outcome=Outcome.DELIVERED).values_list("at", flat=True)
    ]
    if two_notices_met(failed_days):
        _move(
            item,
            ItemStatus.RETURNED_TO_SENDER,
            by=by,
            action="item.returned_to_agency",
            at=at,
            notices=len(failed_days),
        )
        append_event(
            item.dossier,
            by=by,
            action="postal.returned_to_agency",
            details={"item": item.code, "notices": len(failed_days)},
        )
    save_fields(item, MOVED_FIELDS)
    return item

"""Postal items: codes, the item state machine, creating return items and scans.

Every write runs in one transaction, locks the item it changes (``select_for_update``) and
appends an ItemEvent for every change, so two staff scanning the same item never lose an event.
Bad input raises ``ValidationError`` with a message for the user and leaves the database as it
was.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from communes import scoping
from communes.models import AdministrativeUnit, PostOffice
from communes.weekmarks import mark_weeks
from core import transitions
from core.bounds import MAX_INT
from core.events import append_event
from core.prepared import save_fields
from core.transactions import service
from dossiers.codes import parse_code
from dossiers.models import Dossier, ReturnChannel, Status
from postal import s10
from postal.models import (
    DeliveryTier,
    Direction,
    ItemCodeSequence,
    ItemEvent,
    ItemStatus,
    PostalItem,
)

# Delivery target J+n working days after the handover, per tier: J+1 within one locality, J+2
# within the province, J+3/J+4 between provinces (the postal service's commitment). A deployment
# may override any of them with settings.POSTAL_TARGET_DAYS = {"local": 1, ...}.
DEFAULT_TARGET_DAYS = {
    DeliveryTier.LOCAL: 1,
    DeliveryTier.PROVINCE: 2,
    DeliveryTier.NEAR_PROVINCE: 3,
    DeliveryTier.FAR_PROVINCE: 4,
}

# Item statuses the weekly figures count (reports: items delivered, returned to the agency).
COUNTED_STATUSES = frozenset({ItemStatus.DELIVERED, ItemStatus.RETURNED_TO_SENDER})

# The item state machine in one screen. Handovers move items out of CREATED (return) and
# ACCEPTED (intake); delivery attempts move return items out of the middle states.
TRANSITIONS: dict[str, frozenset[str]] = {
    ItemStatus.CREATED: frozenset({ItemStatus.ACCEPTED, ItemStatus.CANCELLED}),
    ItemStatus.ACCEPTED: frozenset(
        {ItemStatus.IN_TRANSIT, ItemStatus.OUT_FOR_DELIVERY, ItemStatus.DELIVERED, ItemStatus.DELIVERY_FAILED}
    ),
    ItemStatus.IN_TRANSIT: frozenset(
        {ItemStatus.OUT_FOR_DELIVERY, ItemStatus.DELIVERED, ItemStatus.DELIVERY_FAILED}
    ),
    ItemStatus.OUT_FOR_DELIVERY: frozenset({ItemStatus.DELIVERED, ItemStatus.DELIVERY_FAILED}),
    ItemStatus.DELIVERY_FAILED: frozenset(
        {
            ItemStatus.OUT_FOR_DELIVERY,
            ItemStatus.DELIVERED,
            ItemStatus.DELIVERY_FAILED,
            ItemStatus.RETURNED_TO_SENDER,
        }
    ),
    ItemStatus.DELIVERED: frozenset(),
    ItemStatus.RETURNED_TO_SENDER: frozenset(),
    ItemStatus.CANCELLED: frozenset(),
}


def target_days(tier: str) -> int:
    overrides = getattr(settings, "POSTAL_TARGET_DAYS", None) or {}
    return int(overrides.get(str(tier), DEFAULT_TARGET_DAYS[tier]))


# --- helpers -------------------------------------------------------------------------------


def locked_item_query():
    """Items read for a change: locked until the transaction ends, with their post office (named
    in the citizen's notices; its row is not locked). A caller that already holds the item from
    this query in its transaction passes ``locked=True`` to the services, which then do not read
    it again (its dossier is read only if a step needs it)."""
    return PostalItem.objects.select_related("post_office").select_for_update(of=("self",))


def _lock(item: PostalItem, *, locked: bool = False) -> PostalItem:
    if locked:
        return item
    return transitions.lock(PostalItem.objects.select_related("dossier", "post_office"), item.pk, stale=None)


def _move(item: PostalItem, to_status: str, *, by: User | None, action: str, at=None, **details) -> None:
    """Change the status of a locked item, or refuse with a message naming the item."""
    if item.status == ItemStatus.DELIVERED:
        raise ValidationError(_("Item %(code)s has already been delivered.") % {"code": item.code})
    if not transitions.allowed(TRANSITIONS, item.status, to_status):
        raise ValidationError(
            _("Item %(code)s is “%(status)s” and cannot become “%(target)s”.")
            % {"code": item.code, "status": item.get_status_display(), "target": ItemStatus(to_status).label}
        )
    moment = at or timezone.now()
    transitions.move(item, to_status, by=by, action=action, at=moment, details=details)
    if to_status in COUNTED_STATUSES and item.direction == Direction.RETURN:
        # Deliveries and returns to the agency are counted in the week they happen.
        mark_weeks({(_unit_of(item), moment)})


def _unit_of(item: PostalItem | None) -> int | None:
    if item is None or item.dossier_id is None:
        return None
    if PostalItem.dossier.is_cached(item):
        return item.dossier.receiving_unit_id
    return Dossier.objects.filter(pk=item.dossier_id).values_list("receiving_unit_id", flat=True).first()


def item_weeks(item: PostalItem | None) -> set[tuple[int | None, datetime]]:
    """The (unit, moment) pairs a result item counts in: its delivery and its return to the
    agency (for communes.weekmarks.mark_weeks)."""
    if item is None or item.direction != Direction.RETURN:
        return set()
    unit = _unit_of(item)
    moments = set(
        ItemEvent.objects.filter(item_id=item.pk, to_status=ItemStatus.RETURNED_TO_SENDER).values_list(
            "at", flat=True
        )
    )
    if item.delivered_at is not None:
        moments.add(item.delivered_at)
    return {(unit, moment) for moment in moments}


def _check_amount(value: int, label: str) -> int:
    try:
        value = int(value)
    except (TypeError, ValueError):
        raise ValidationError(_("%(label)s must be a whole number of đồng.") % {"label": label}) from None
    if value < 0:
        raise ValidationError(_("%(label)s cannot be below zero.") % {"label": label})
    if value > MAX_INT:
        raise ValidationError(_("%(label)s is too large.") % {"label": label})
    return value


def _ensure_office_of(by: User, post_office_id: int) -> None:
    ids = scoping.post_office_ids(by)
    if ids is not None and post_office_id not in ids:
        raise ValidationError(_("This item belongs to another post office."))


def issue_code(*, post_office: PostOffice, service: str) -> str:
    """A new valid S10 code from the post office's own range, never issued before."""
    ItemCodeSequence.objects.get_or_create(post_office=post_office)
    sequence = ItemCodeSequence.objects.select_for_update().get(post_office=post_office)
    while True:
        sequence.last_number += 1
        code = s10.make_code(service, s10.office_serial(post_office.pk, sequence.last_number))
        if not PostalItem.objects.filter(code=code).exists():
            break
    sequence.save(update_fields=["last_number"])
    return code


def valid_code(code: str) -> str:
    """The normalised code, or a message saying what is wrong with it (refused at once)."""
    code = s10.normalise(code)
    try:
        s10.parse(code)
    except s10.InvalidCode as error:
        if error.reason == "check_digit":
            raise ValidationError(
                _("The check digit of %(code)s is wrong: scan the code again or check what you typed.")
                % {"code": code}
            ) from None
        raise ValidationError(
            _("“%(code)s” is not an item code: 2 letters, 9 digits and 2 letters, e.g. EB123456785VN.")
            % {"code": code}
        ) from None
    return code


def is_dossier_code(code: str) -> bool:
    try:
        parse_code(code)
    except ValueError:
        return False
    return True


def find_item_for_scan(*, user: User, code: str) -> PostalItem:
    """The item a scanned or typed code names, in the user's post offices; a clear message when
    the code is not S10, has a wrong check digit, is unknown or belongs to another office."""
    ids = scoping.post_office_ids(user)
    if is_dossier_code(code):
        # Form 01's QR code (read by the camera) names the dossier: its newest item here.
        items = PostalItem.objects.select_related("dossier", "post_office").filter(dossier__code=code.strip())
        item = (
            (items if ids is None else items.filter(post_office_id__in=ids)).order_by("-created_at").first()
        )
        if item is None:
            raise ValidationError(
                _("No postal item of dossier %(code)s in your post office.") % {"code": code}
            )
        return item
    code = valid_code(code)
    item = PostalItem.objects.select_related("dossier", "post_office").filter(code=code).first()
    if item is None or (ids is not None and item.post_office_id not in ids):
        raise ValidationError(_("Item %(code)s was not found in your post office.") % {"code": code})
    return item


def default_post_office_for(unit: AdministrativeUnit, *, returning: bool = True) -> PostOffice | None:
    """The operating office that serves a commune: its BĐVHX first, then any other."""
    offices = PostOffice.objects.filter(commune=unit, status=PostOffice.Status.OPERATING)
    offices = (
        offices.filter(offers_bcci_return=True) if returning else offices.filter(offers_bcci_intake=True)
    )
    kinds = [PostOffice.Kind.CULTURAL, PostOffice.Kind.POST_OFFICE, PostOffice.Kind.AGENT]
    for kind in kinds:
        office = offices.filter(kind=kind).order_by("code").first()
        if office:
            return office
    return offices.order_by("code").first()


# --- items ---------------------------------------------------------------------------------


@transaction.atomic
def create_return_item(
    *,
    dossier: Dossier,
    by: User,
    post_office: PostOffice | None = None,
    tier: str = DeliveryTier.LOCAL,
    postage: int = 0,
    fees_collected: int = 0,
) -> PostalItem:
    """The desk hands a finished result to the post: one click from the dossier page."""
    dossier = Dossier.objects.select_for_update().get(pk=dossier.pk)
    if dossier.status != Status.FINISHED:
        raise ValidationError(_("Only a processed dossier can be sent to the citizen by post."))
    if dossier.return_channel != ReturnChannel.BCCI:
        raise ValidationError(_("The citizen did not choose to receive the result by post."))
    if (
        dossier.postal_items.filter(direction=Direction.RETURN)
        .exclude(status__in=[ItemStatus.CANCELLED, ItemStatus.RETURNED_TO_SENDER])
        .exists()
    ):
        raise ValidationError(_("This dossier already has a postal item for its result."))
    postage = _check_amount(postage, _("Postage"))
    fees_collected = _check_amount(fees_collected, _("Fees collected"))
    post_office = post_office or default_post_office_for(dossier.receiving_unit)
    if post_office is None:
        raise ValidationError(_("No operating post office returns results for this commune."))
    item = PostalItem.objects.create(
        code=issue_code(post_office=post_office, service=s10.RETURN_SERVICE),
        dossier=dossier,
        direction=Direction.RETURN,
        post_office=post_office,
        tier=tier,
        postage=postage,
        fees_collected=fees_collected,
        recipient_name="",
        recipient_address=dossier.applicant_address,
        recipient_phone=dossier.applicant_phone,
        created_by=by,
    )
    append_event(
        item,
        by=by,
        action="item.created",
        to_status=ItemStatus.CREATED,
        details={"direction": Direction.RETURN},
    )
    append_event(dossier, by=by, action="postal.return_item_created", details={"item": item.code})
    return item


@service
def scan_item(
    *,
    item: PostalItem,
    by: User,
    to_status: str,
    note: str = "",
    at: datetime | None = None,
    locked: bool = False,
) -> PostalItem:
    """A scan that moves an item on (in transit, out for delivery, cancelled).

    Scanning an item that is already in the wanted status (two staff scanning at once) keeps the
    scan as an event and changes nothing else. ``locked``: see ``locked_item_query``.
    """
    item = _lock(item, locked=locked)
    _ensure_office_of(by, item.post_office_id)
    if item.status == to_status:
        append_event(
            item,
            by=by,
            at=at,
            action="item.scanned",
            from_status=item.status,
            to_status=item.status,
            details={"note": note},
        )
        return item
    actions = {
        ItemStatus.IN_TRANSIT: "item.in_transit",
        ItemStatus.OUT_FOR_DELIVERY: "item.out_for_delivery",
        ItemStatus.CANCELLED: "item.cancelled",
    }
    if to_status not in actions:
        raise ValidationError(_("This action is not available from the scan screen."))
    if to_status == ItemStatus.OUT_FOR_DELIVERY and item.direction != Direction.RETURN:
        raise ValidationError(_("Only results going to citizens are taken out for delivery."))
    _move(item, to_status, by=by, action=actions[to_status], at=at, note=note)
    save_fields(item, ["status", "version", "updated_at"])
    return item

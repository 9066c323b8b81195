"""Carrier tracking events onto PostDesk's item statuses.

An event is recorded exactly as a postal employee's scan or delivery entry would be: through
``postal.services`` (``scan_item``, ``record_delivery_attempt``), so the item's history, its
delivery attempts, the dossier's return (status 10) and the marks of the weeks it changes are the
same. On top of that, carriers resend, reorder and repeat, so:

- an event id seen before from the same client is answered with the first outcome and changes
  nothing (de-duplication);
- the guard is forward-only: an event older than the latest applied one, or one that would move
  the item back (a late "in transit" after "delivered"), is kept as ``stale`` and not applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _

from api.models import ApiClient, CarrierEvent
from communes import scoping
from core.prepared import PreparedQuery, save_new
from core.transactions import all_or_nothing
from dossiers import workflow as dossier_workflow
from postal import services as postal_services
from postal.models import DeliveryAttempt, ItemStatus, PostalItem
from postal.services.items import TRANSITIONS

S = ItemStatus
Outcome = CarrierEvent.Outcome

# The carrier's event kinds and the item status each one means (docs/api.md has the table).
KINDS: dict[str, str] = {
    "accepted": S.ACCEPTED,
    "in_transit": S.IN_TRANSIT,
    "out_for_delivery": S.OUT_FOR_DELIVERY,
    "delivery_failed": S.DELIVERY_FAILED,
    "delivered": S.DELIVERED,
    "returned_to_sender": S.RETURNED_TO_SENDER,
}
# How far along an item is; the guard never moves it to a lower rank. A failed attempt and the
# next round out for delivery alternate, so they share a rank (their times decide).
RANK: dict[str, int] = {
    S.CREATED: 0,
    S.ACCEPTED: 1,
    S.IN_TRANSIT: 2,
    S.OUT_FOR_DELIVERY: 3,
    S.DELIVERY_FAILED: 3,
    S.DELIVERED: 9,
    S.RETURNED_TO_SENDER: 9,
    S.CANCELLED: 9,
}
FAILURE_REASONS = [
    choice for choice in DeliveryAttempt.Outcome.values if choice != DeliveryAttempt.Outcome.DELIVERED
]


@dataclass
class Recipient:
    name: str = ""
    id_checked: bool = False
    is_proxy: bool = False
    proxy_authorisation: str = ""


class EventConflict(Exception):
    """The event id was already used by this client for another item or kind."""


# The reads every event makes, compiled to SQL once per process (core.prepared): the same
# statements and the same model instances as the querysets they are built from (``get`` drops
# the model's ordering, as QuerySet.get does).
_LOCKED_ITEM = PreparedQuery(
    lambda code: postal_services.locked_item_query().filter(code=code).order_by(), [str]
)
_SEEN_AND_APPLIED = PreparedQuery(
    lambda client_id, event_id, item_id: CarrierEvent.objects.filter(
        Q(client_id=client_id, event_id=event_id) | Q(item_id=item_id, outcome=Outcome.APPLIED)
    ),
    [int, str, int],
)
# A delivery's dossier, locked as the dossier's workflow reads it, with its commune (named in the
# citizen's notice).
_LOCKED_DOSSIER = PreparedQuery(
    lambda pk: dossier_workflow.locked_query().select_related("receiving_unit").filter(pk=pk).order_by(),
    [int],
)


def locked_item_for_client(client: ApiClient, code: str) -> PostalItem:
    """The item with this S10 code among the client's post offices (404 otherwise), locked for
    the postal services (``postal_services.locked_item_query``)."""
    code = postal_services.valid_code(code)
    try:
        item = _LOCKED_ITEM.get(code)
    except PostalItem.DoesNotExist:
        raise Http404 from None
    offices = scoping.post_office_ids(client.user)
    if offices is not None and item.post_office_id not in offices:
        raise Http404
    return item


def _seen_and_latest(
    client: ApiClient, event_id: str, item: PostalItem, kind: str
) -> tuple[CarrierEvent | None, datetime | None]:
    """In one query: this client's earlier event with this id (de-duplication) and the time of
    the item's latest applied event (the forward-only guard)."""
    seen, latest = None, None
    for event in _SEEN_AND_APPLIED.all(client.pk, event_id, item.pk):
        if event.client_id == client.pk and event.event_id == event_id:
            seen = event
        if (
            event.item_id == item.pk
            and event.outcome == Outcome.APPLIED
            and (latest is None or event.at > latest)
        ):
            latest = event.at
    if seen is not None and (seen.item_id != item.pk or seen.kind != kind):
        raise EventConflict
    return seen, latest


def decide(item: PostalItem, kind: str, at: datetime, latest_applied: datetime | None) -> str:
    """applied, unchanged or stale — before any service is called."""
    target = KINDS[kind]
    if latest_applied is not None and at < latest_applied:
        return Outcome.STALE
    if item.status == target and kind not in ("delivery_failed",):
        return Outcome.UNCHANGED
    final = not TRANSITIONS[item.status]  # delivered, returned, cancelled: nothing follows
    if final or RANK[target] < RANK[item.status]:
        return Outcome.STALE
    return Outcome.APPLIED


@all_or_nothing()
def record_event(
    *,
    client: ApiClient,
    code: str,
    event_id: str,
    kind: str,
    at: datetime,
    reason: str = "",
    recipient: Recipient | None = None,
    note: str = "",
) -> tuple[CarrierEvent, bool, str]:
    """Record one carrier event; returns it, whether it is new and the item's status.
    ValidationError (nothing recorded) when the event is impossible for the item, as a scan
    would be refused; Http404 for an item outside the client's offices; EventConflict (or, in a
    race, IntegrityError) for an event id already used for something else."""
    # all_or_nothing: every error leaves this function and undoes the whole event, so the postal
    # and dossier services it calls open no savepoints of their own (core.transactions).
    by = client.user
    item = locked_item_for_client(client, code)
    # After the lock: a second copy of the same event sent at the same time waits here and then
    # sees the first one.
    seen, latest = _seen_and_latest(client, event_id, item, kind)
    if seen is not None:
        return seen, False, item.status
    outcome = decide(item, kind, at, latest)
    details = {"reason": reason} if reason else {}
    status = item.status
    if outcome == Outcome.APPLIED:
        status = _apply(item=item, by=by, kind=kind, at=at, reason=reason, recipient=recipient, note=note)
        details["item_status"] = status
    event = CarrierEvent(
        client=client, event_id=event_id, item=item, kind=kind, at=at, outcome=outcome, details=details
    )
    save_new(event)
    return event, True, status


def _apply(
    *, item: PostalItem, by, kind: str, at: datetime, reason: str, recipient: Recipient | None, note: str
) -> str:
    """Call the service a postal employee's scan or delivery entry calls; the item's new status."""
    note = note or _("Carrier event")
    if kind in ("delivery_failed", "delivered") and item.dossier_id:
        # The citizen's notice of an attempt reads the dossier with its procedure and commune,
        # and a delivery returns it (locked, as the dossier's workflow reads it): one query, not
        # four.
        item.dossier = _LOCKED_DOSSIER.get(item.dossier_id)
    if kind in ("in_transit", "out_for_delivery"):
        return postal_services.scan_item(
            item=item, by=by, to_status=KINDS[kind], note=note, at=at, locked=True
        ).status
    if kind == "delivery_failed":
        if reason not in FAILURE_REASONS:
            raise ValidationError(
                _("A failed delivery needs a reason: %(reasons)s.") % {"reasons": ", ".join(FAILURE_REASONS)}
            )
        return postal_services.record_delivery_attempt(
            item=item, by=by, outcome=reason, at=at, note=note, locked=True
        ).status
    if kind == "delivered":
        recipient = recipient or Recipient()
        return postal_services.record_delivery_attempt(
            item=item,
            by=by,
            outcome=DeliveryAttempt.Outcome.DELIVERED,
            at=at,
            recipient_name=recipient.name,
            id_checked=recipient.id_checked,
            is_proxy=recipient.is_proxy,
            proxy_authorisation=recipient.proxy_authorisation,
            note=note,
            locked=True,
        ).status
    if kind == "accepted":
        raise ValidationError(
            _("Item %(code)s has not been handed to the post on a signed handover record yet.")
            % {"code": item.code}
        )
    # returned_to_sender: only the two-notice rule sends a result back to the agency.
    raise ValidationError(
        _(
            "Item %(code)s goes back to the agency only after two failed delivery notices, two working "
            "days apart: send those as delivery_failed events."
        )
        % {"code": item.code}
    )

"""Which appended events become which notices. Subscribed in NotifyConfig.ready(); each runs
inside the transaction that appended the event, so the message commits with the change."""

from __future__ import annotations

from notify import services
from notify.models import Event

# Dossier event action -> the notice it sends.
DOSSIER_EVENTS = {
    "dossier.accepted": Event.RECEIVED,  # logged at the desk
    "dossier.submitted_by_post": Event.RECEIVED,  # BCCI intake: the handover signature
    "dossier.supplement_requested": Event.SUPPLEMENT,
    "dossier.finished": Event.RESULT_READY,
    "postal.handed_to_post": Event.HANDED_TO_POST,
    "postal.returned_to_agency": Event.BACK_AT_DESK,
}
# Postal item event action -> the notice it sends (result items only).
ITEM_EVENTS = {
    "item.delivery_failed": Event.DELIVERY_FAILED,
    "item.delivered": Event.DELIVERED,
}


def _return_item(dossier, code: str | None):
    from postal.models import Direction, PostalItem

    items = PostalItem.objects.select_related("post_office").filter(
        dossier=dossier, direction=Direction.RETURN
    )
    if code:
        items = items.filter(code=code)
    return items.order_by("-created_at", "-id").first()


def on_dossier_event(event) -> None:
    notice = DOSSIER_EVENTS.get(event.action)
    if notice is None:
        return
    dossier = event.dossier
    if event.action == "dossier.accepted" and dossier.received_at is None:
        return
    item = None
    if event.action.startswith("postal."):
        item = _return_item(dossier, (event.details or {}).get("item"))
    services.queue(dossier=dossier, event=notice, item=item, details=event.details)


def on_item_event(event) -> None:
    notice = ITEM_EVENTS.get(event.action)
    item = event.item
    if notice is None or item.direction != "return":
        return
    services.queue(dossier=item.dossier, event=notice, item=item, details=event.details)

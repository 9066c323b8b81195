"""``{% load postal_tags %}{% postal_items dossier %}``: a dossier's postal items and their
timelines, for the dossier page."""

from django import template
from django.utils.translation import gettext_lazy as _

from core.labels import describe_event
from dossiers.models import Status
from dossiers.personal import mask_phone
from postal import selectors

register = template.Library()

NO_RESULT = frozenset({Status.REFUSED, Status.WITHDRAWN, Status.STOPPED})


@register.inclusion_tag("postal/fragment_dossier_items.html", takes_context=True)
def postal_items(context, dossier):
    """The dossier page's postal panel: the hand-over to the post when the result is ready,
    then each item's progress (status in words, J+n target and whether it is met, attempts,
    the handover record, the recipient)."""
    from accounts.models import Role
    from accounts.permissions import DESK, acts_as
    from postal import services

    request = context.get("request")
    user = getattr(request, "user", None)
    # The receiving commune's own desk hands results over and signs for the desk.
    at_the_desk = user is not None and acts_as(user, DESK) and user.unit_id == dossier.receiving_unit_id
    items = selectors.items_for_dossier(dossier)
    for item in items:
        item.target = selectors.target_state(item)
        item.target_days = services.target_days(item.tier)
        lines = list(item.handover_lines.all())
        item.handover = lines[-1].handover if lines else None
        item.desk_may_sign = bool(
            at_the_desk
            and item.handover is not None
            and item.handover.status == item.handover.Status.DRAFT
            and not item.handover.desk_signed_by_id
        )
    return {
        "items": items,
        "dossier": dossier,
        "request": request,
        "can_hand_to_post": at_the_desk and selectors.can_hand_to_post(dossier),
        # Signatures and photos of delivery: the desk and the office's staff (app_views.attempt_proof).
        "may_see_proof": user is not None
        and acts_as(user, (Role.COMMUNE_OFFICIAL, Role.POSTAL_STAFF))
        and not user.is_administrator,
        # A refused, withdrawn or stopped dossier has no result to send.
        "by_post": dossier.return_channel == "bcci" and dossier.status not in NO_RESULT,
    }


@register.filter
def target_badge(state: str) -> str:
    return {"met": "success", "missed": "danger", "pending": "secondary"}.get(state, "light")


@register.filter
def mask(value: str) -> str:
    """Phone numbers are shown masked (dossiers.personal), never whole."""
    return mask_phone(value or "")


@register.filter
def event_label(event) -> str:
    """The history row as a sentence (core.labels)."""
    return describe_event(event)


@register.simple_tag
def postal_progress(rows) -> str:
    """Fill each list row's postal column from its dossier's return item (one query a page):
    in transit, delivered, or back at the desk."""
    progress = selectors.return_progress([row.pk for row in rows if row.bcci])
    for row in rows:
        if row.pk in progress:
            row.postal, row.postal_badge = progress[row.pk]
    return ""


ITEM_STATUS_BADGES = {
    "delivered": "text-bg-success",
    "delivery_failed": "text-bg-warning",
    "returned_to_sender": "text-bg-danger",
    "cancelled": "text-bg-secondary",
    "created": "text-bg-light border",
}


@register.filter
def item_status_badge(status: str) -> str:
    return ITEM_STATUS_BADGES.get(status, "text-bg-primary")


@register.filter
def progress_sentence(item) -> str:
    """Where the item is, as the desk would say it (one sentence)."""
    from django.utils import formats
    from django.utils import timezone as tz

    def day(value):
        return formats.date_format(tz.localtime(value) if hasattr(value, "hour") else value, "d/m/Y")

    status = item.status
    if item.direction == "intake":
        return (
            _("The dossier travels from the post to the desk.")
            if status != "delivered"
            else _("The dossier reached the desk.")
        )
    if status == "created":
        handover = getattr(item, "handover", None)
        if handover is not None and handover.desk_signed_by_id and not handover.post_signed_by_id:
            return _("The desk has signed the handover record; waiting for the post to sign and take it.")
        return _("Waiting for the handover record to be signed by the desk and the post.")
    if status in ("accepted", "in_transit"):
        return (
            _("The post has the result since %(day)s.") % {"day": day(item.handover_date)}
            if item.handover_date
            else _("The post has the result.")
        )
    if status == "out_for_delivery":
        return _("The postman is delivering the result.")
    if status == "delivery_failed":
        return _("Delivery failed %(n)d time(s); the postman will try again.") % {"n": item.attempts}
    if status == "delivered":
        return _("Delivered to %(name)s on %(day)s.") % {
            "name": item.recipient_name,
            "day": day(item.delivered_at),
        }
    if status == "returned_to_sender":
        return _("Not delivered after the notices: the result is back at the desk.")
    return _("Cancelled.")

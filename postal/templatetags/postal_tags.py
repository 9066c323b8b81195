"""``{% load postal_tags %}{% postal_items dossier %}``: a dossier's postal items and their
timelines, for the dossier page."""

from django import template
from django.utils.translation import gettext_lazy as _

from dossiers.personal import mask_phone
from postal import selectors

register = template.Library()


@register.inclusion_tag("postal/fragment_dossier_items.html", takes_context=True)
def postal_items(context, dossier):
    items = selectors.items_for_dossier(dossier)
    for item in items:
        item.target = selectors.target_state(item)
    return {"items": items, "dossier": dossier, "request": context.get("request")}


@register.filter
def target_badge(state: str) -> str:
    return {"met": "success", "missed": "danger", "pending": "secondary"}.get(state, "light")


@register.filter
def mask(value: str) -> str:
    """Phone numbers are shown masked (dossiers.personal), never whole."""
    return mask_phone(value or "")


@register.filter
def outcome_label(value: str) -> str:
    from postal.models import DeliveryAttempt

    try:
        return DeliveryAttempt.Outcome(value).label
    except ValueError:
        return value


EVENT_LABELS = {
    "item.added_to_handover": _("Put on a handover record"),
    "item.removed_from_handover": _("Taken off a handover record"),
    "item.handover_line_marked": _("Handover line marked"),
    "item.handover_incomplete": _("Left behind: incomplete on the handover record"),
    "item.scanned": _("Scanned again"),
    "transfer.planned": _("Transfer planned"),
    "transfer.updated": _("Transfer plan changed"),
    "transfer.done": _("Transfer done"),
}


@register.filter
def event_label(event) -> str:
    """What an event means to a reader: the new status, or the action in words."""
    if event.action in EVENT_LABELS:
        return EVENT_LABELS[event.action]
    if getattr(event, "to_status", ""):
        return event.get_to_status_display()
    return event.action

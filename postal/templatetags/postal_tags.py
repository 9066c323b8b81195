"""``{% load postal_tags %}{% postal_items dossier %}``: a dossier's postal items and their
timelines, for the dossier page."""

from django import template

from core.labels import describe_event
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

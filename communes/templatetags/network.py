"""Display helpers for the network pages: badge colours and readable history rows."""

from __future__ import annotations

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _

from communes.models import NetworkAction, PostOffice
from core.labels import describe_event

register = template.Library()

BADGES = {
    "condition": {"good": "success", "needs_repair": "warning", "degraded": "danger"},
    "office_status": {
        "operating": "success",
        "suspended": "warning",
        "planned": "info",
        "closed": "secondary",
    },
    "action_status": {
        "planned": "secondary",
        "in_progress": "primary",
        "done": "success",
        "cancelled": "dark",
    },
}


@register.filter
def badge(value: str, family: str) -> str:
    """Bootstrap background class for a status or condition value."""
    return "text-bg-" + BADGES.get(family, {}).get(value, "secondary")


@register.filter
def event_label(event) -> str:
    """The history row as a sentence (core.labels)."""
    return describe_event(event)


def _display(model, field_name: str, value):
    try:
        field = model._meta.get_field(field_name)
    except FieldDoesNotExist:
        return value
    if value is None or value == "":
        return "—"
    if field.choices:
        return dict(field.flatchoices).get(value, value)
    if field.get_internal_type() == "BooleanField":
        return _("yes") if value else _("no")
    if field.get_internal_type() == "DateField" and isinstance(value, str) and len(value) == 10:
        year, month, day = value.split("-")
        return f"{day}/{month}/{year}"
    return value


def _label(model, field_name: str) -> str:
    try:
        return str(model._meta.get_field(field_name).verbose_name)
    except FieldDoesNotExist:
        return field_name


@register.filter
def changes(details: dict, model_name: str = "office") -> list[tuple[str, object, object]]:
    """``details["changes"]`` as (field label, old, new) with choice labels."""
    model = PostOffice if model_name == "office" else NetworkAction
    return [
        (_label(model, name), _display(model, name, old), _display(model, name, new))
        for name, (old, new) in (details or {}).get("changes", {}).items()
    ]


@register.filter
def condition_label(value: str) -> str:
    return _display(PostOffice, "condition", value)


@register.filter
def action_status_label(value: str) -> str:
    return _display(NetworkAction, "status", value) if value else ""


@register.filter
def office_status_label(value: str) -> str:
    return _display(PostOffice, "status", value) if value else ""


@register.filter
def event_source(source: str) -> str:
    """Where a change came from, in words: an import file, the demo data, a finished action."""
    if source.startswith("import"):
        filename = source.partition(":")[2]
        return _("Imported from %(file)s") % {"file": filename} if filename else _("Imported from a file")
    return {"demo": _("Demo data"), "network_action": _("Completion of an improvement action")}.get(
        source, source
    )

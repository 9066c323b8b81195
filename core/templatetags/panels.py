from django import template
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from core import panels

register = template.Library()


@register.simple_tag(takes_context=True)
def panel_slot(context, slot: str) -> str:
    """Render every panel registered for ``slot`` (core.panels) with the page's objects."""
    request = context.get("request")
    objects = {name: context.get(name) for name in panels.SLOTS[slot]}
    html = [
        render_to_string(template_name, {**panel_context, **objects}, request=request)
        for template_name, panel_context in panels.panels_for(slot, request, **objects)
    ]
    return mark_safe("".join(html))  # noqa: S308 - rendered templates, escaped by Django

"""Panels that apps higher in the layers contribute to pages of apps below them.

A page offers a named slot (``dossier_detail``, ``home``); an app that may not be imported by
the page's app registers a panel for it in its ``AppConfig.ready()``::

    from core import panels

    panels.register(
        "dossier_detail",
        template_name="notify/fragment_dossier_messages.html",
        context=lambda request, dossier: {"messages": messages_of(dossier)},
    )

The page's template shows the slot with ``{% load panels %}{% panel_slot "dossier_detail" %}``;
the context function gets the request and the page's object(s) named in the slot. A context
function returning ``None`` hides its panel (e.g. for a role it does not concern).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# Each slot and the template variables its context function receives besides the request.
SLOTS: dict[str, tuple[str, ...]] = {
    "dossier_detail": ("dossier",),
    "home": (),
    # The leaders' dashboard: the unit shown, its communes' rows and the period they cover.
    "reports_dashboard": ("unit", "rows", "ranking_first", "monday"),
}


@dataclass(frozen=True)
class Panel:
    template_name: str
    context: Callable[..., dict | None]


_registry: dict[str, dict[str, Panel]] = {}


def register(slot: str, *, template_name: str, context: Callable[..., dict | None]) -> None:
    if slot not in SLOTS:
        raise ValueError(f"unknown page slot {slot!r}; known: {tuple(SLOTS)}")
    _registry.setdefault(slot, {})[template_name] = Panel(template_name=template_name, context=context)


def panels_for(slot: str, request, **objects) -> list[tuple[str, dict]]:
    """(template name, context) of each panel registered for the slot that has something to show."""
    shown = []
    for panel in _registry.get(slot, {}).values():
        context = panel.context(request, **objects)
        if context is not None:
            shown.append((panel.template_name, context))
    return shown

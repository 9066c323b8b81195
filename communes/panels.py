"""Extra panels on the network page, contributed by apps that come later in the import order.

The network page has a slot for the task-transfer progress that ``postal`` owns. ``communes``
may not import ``postal``, so ``postal`` registers its panel here (e.g. in its
``AppConfig.ready``)::

    from communes import panels

    panels.register(
        "transfer_progress",
        template_name="postal/fragment_transfer_progress.html",
        context=lambda request: {"rows": transfer_progress_for(request.user)},
    )

The template is included in the slot with the returned context under ``panel``. Until a panel is
registered for a slot, the page shows a placeholder there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest

# The slots the network page offers.
SLOTS = ("transfer_progress",)


@dataclass(frozen=True)
class Panel:
    template_name: str
    context: Callable[[HttpRequest], dict]


_registry: dict[str, Panel] = {}


def register(slot: str, *, template_name: str, context: Callable[[HttpRequest], dict]) -> None:
    if slot not in SLOTS:
        raise ValueError(f"unknown network page slot {slot!r}; known: {SLOTS}")
    _registry[slot] = Panel(template_name=template_name, context=context)


def unregister(slot: str) -> None:
    _registry.pop(slot, None)


def render_context(request: HttpRequest) -> dict[str, dict | None]:
    """For each slot: ``{"template_name": ..., "panel": {...}}``, or ``None`` when empty."""
    return {
        slot: (
            {"template_name": panel.template_name, "panel": panel.context(request)}
            if (panel := _registry.get(slot))
            else None
        )
        for slot in SLOTS
    }

"""The navigation bar, assembled from each app's ``menu.py``.

An app lists what it offers in ``ITEMS`` (a list of :class:`MenuItem`); the bar shows the items
whose roles include the user's. Apps never edit each other's menus.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module
from importlib.util import find_spec

from django.urls import reverse

from accounts.permissions import user_has_role

APPS_WITH_MENUS = ("accounts", "communes", "dossiers", "postal", "reports")


@dataclass(frozen=True)
class MenuItem:
    label: str
    url_name: str
    roles: frozenset[str] = field(default_factory=frozenset)
    icon: str = "circle"
    description: str = ""
    order: int = 100

    def visible_to(self, user) -> bool:
        return user_has_role(user, tuple(self.roles))


def _all_items() -> list[MenuItem]:
    items: list[MenuItem] = []
    for app in APPS_WITH_MENUS:
        if find_spec(f"{app}.menu"):
            items.extend(import_module(f"{app}.menu").ITEMS)
    return sorted(items, key=lambda item: item.order)


def menu_for(user) -> list[dict]:
    return [
        {
            "label": item.label,
            "url": reverse(item.url_name),
            "icon": item.icon,
            "description": item.description,
            "url_name": item.url_name,
        }
        for item in _all_items()
        if item.visible_to(user)
    ]

"""The navigation bar, assembled from each app's ``menu.py``.

An app lists what it offers in ``ITEMS`` (a list of :class:`MenuItem`); the bar shows the items
whose roles include the user's. Apps never edit each other's menus.

The bar stays one line on a desk screen: items are grouped (``group``: dossiers, postal,
network, reports) and a group with more than one item for the user becomes a menu. An item can
stand on its own in the bar for the roles whose daily job it is (``primary_for``: the official's
"New dossier", the postal employee's "Scan"). At most MAX_TOP_ENTRIES entries in the bar.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module
from importlib.util import find_spec

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

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
    group: str = ""
    primary_for: frozenset[str] = field(default_factory=frozenset)

    def visible_to(self, user) -> bool:
        return user_has_role(user, tuple(self.roles))


def _all_items() -> list[MenuItem]:
    items: list[MenuItem] = []
    for app in APPS_WITH_MENUS:
        if find_spec(f"{app}.menu"):
            items.extend(import_module(f"{app}.menu").ITEMS)
    return sorted(items, key=lambda item: item.order)


MAX_TOP_ENTRIES = 6
GROUPS = {
    "dossiers": (_("Dossiers"), "folder2-open"),
    "postal": (_("Post"), "mailbox2"),
    "network": (_("Network"), "diagram-3"),
    "reports": (_("Reports"), "speedometer2"),
}


def navbar_for(user) -> list[dict]:
    """The bar's entries: plain links, and menus (``items``) for groups of two or more."""
    entries: list[dict] = []
    grouped: dict[str, dict] = {}
    for item in menu_for(user):
        if not item["group"] or user.role in item["primary_for"]:
            entries.append(item)
            continue
        if item["group"] not in grouped:
            label, icon = GROUPS[item["group"]]
            grouped[item["group"]] = {"label": label, "icon": icon, "children": [], "key": item["group"]}
            entries.append(grouped[item["group"]])
        grouped[item["group"]]["children"].append(item)
    for key, group in grouped.items():
        if len(group["children"]) == 1:
            entries[entries.index(group)] = group["children"][0]
        else:
            group["url_names"] = [item["url_name"] for item in group["children"]]
            group["key"] = key
    return entries


def menu_for(user) -> list[dict]:
    return [
        {
            "label": item.label,
            "url": reverse(item.url_name),
            "icon": item.icon,
            "description": item.description,
            "url_name": item.url_name,
            "group": item.group,
            "primary_for": item.primary_for,
        }
        for item in _all_items()
        if item.visible_to(user)
    ]


@dataclass(frozen=True)
class Counter:
    """A figure on a role's home page that leads to the list behind it ("3 overdue")."""

    label: str
    count: int
    url: str
    icon: str = "circle"
    tone: str = "primary"  # Bootstrap colour when the count is not zero
    order: int = 100


def counters_for(user) -> list[Counter]:
    """The home page's counters, from each app's ``home.py`` (``counters(user)``)."""
    counters: list[Counter] = []
    for app in APPS_WITH_MENUS:
        if find_spec(f"{app}.home"):
            counters.extend(import_module(f"{app}.home").counters(user))
    return sorted(counters, key=lambda counter: counter.order)

"""Every history row read as a sentence: one registry of event labels per app.

Each app that appends history declares, in ``<app>/event_labels.py``, a label for every event
kind it writes (``dossier.accepted``, ``item.delivered``, ``network_action.done`` …)::

    register(
        "dossiers",
        {
            "dossier.refused": EventLabel(_("Dossier refused"), _("reason: %(reason)s")),
            ...
        },
        formatters={"channel": lambda value: ReturnChannel(value).label},
    )

:func:`describe` turns a row into the sentence pages print: the label, then the detail part
when the row's details carry every value it names. Dates and times in details (stored as ISO
strings) come out as dd/mm/yyyy and dd/mm/yyyy hh:mm, local time; a formatter names a code in
words. A page never prints the raw action: ``tests/test_event_labels.py`` fails when an action
written anywhere in the code has no label here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@dataclass(frozen=True)
class EventLabel:
    """What happened (``text``), and optionally what the details add (``detail``)."""

    text: str
    detail: str | None = None


@dataclass(frozen=True)
class _AppLabels:
    app: str
    labels: Mapping[str, EventLabel]
    formatters: Mapping[str, Callable[[object], object]]


_REGISTRY: dict[str, _AppLabels] = {}
_DISCOVERED = False


def register(
    app: str,
    labels: Mapping[str, EventLabel],
    *,
    formatters: Mapping[str, Callable[[object], object]] | None = None,
) -> None:
    """Declare an app's event labels (called once, from ``<app>/event_labels.py``)."""
    for action in labels:
        owner = _owner(action)
        if owner is not None and owner.app != app:
            raise ValueError(f"{action} is already labelled by {owner.app}")
    _REGISTRY[app] = _AppLabels(app, dict(labels), dict(formatters or {}))


def _discover() -> None:
    global _DISCOVERED
    if not _DISCOVERED:
        autodiscover_modules("event_labels")
        _DISCOVERED = True


def _owner(action: str) -> _AppLabels | None:
    for entry in _REGISTRY.values():
        if action in entry.labels:
            return entry
    return None


def labels() -> dict[str, EventLabel]:
    """Every registered action and its label."""
    _discover()
    return {action: label for entry in _REGISTRY.values() for action, label in entry.labels.items()}


def label_for(action: str) -> EventLabel | None:
    _discover()
    entry = _owner(action)
    return entry.labels[action] if entry else None


def format_value(value, formatter: Callable[[object], object] | None = None) -> str:
    """A detail value as a reader wants it: codes in words, dates dd/mm/yyyy (hh:mm)."""
    if formatter is not None and value not in (None, ""):
        try:
            return str(formatter(value))
        except (ValueError, KeyError):
            pass
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    if isinstance(value, datetime):
        return (
            timezone.localtime(value).strftime("%d/%m/%Y %H:%M")
            if timezone.is_aware(value)
            else value.strftime("%d/%m/%Y %H:%M")
        )
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, str):
        if _ISO_DATE.match(value):
            return date.fromisoformat(value).strftime("%d/%m/%Y")
        if _ISO_MOMENT.match(value):
            try:
                return format_value(datetime.fromisoformat(value))
            except ValueError:
                return value
    return "" if value is None else str(value)


def describe(action: str, details: Mapping | None = None) -> str:
    """The sentence for one history row. An action without a label reads as a generic change
    (never the raw code); the registry test keeps that from happening."""
    _discover()
    entry = _owner(action)
    if entry is None:
        return str(_("Recorded change"))
    label = entry.labels[action]
    sentence = str(label.text)
    if isinstance(details, str):  # a row written as JSON text by a bulk loader
        try:
            details = json.loads(details)
        except ValueError:
            details = {}
    details = details if isinstance(details, Mapping) else {}
    if label.detail:
        template = str(label.detail)
        names = _PLACEHOLDER.findall(template)
        if all(details.get(name) not in (None, "", [], {}) for name in names):
            values = {name: format_value(details[name], entry.formatters.get(name)) for name in names}
            sentence = f"{sentence}: {template % values}"
    return sentence


def describe_event(event) -> str:
    """``describe`` for a history row (any table with ``action`` and ``details``)."""
    return describe(event.action, getattr(event, "details", None))

"""Subscribers to appended history rows: how apps above react to what apps below record.

``core.events.append_event`` publishes every row it appends; an app higher in the layers (the
citizens' notices, the national portal sync) subscribes in its ``AppConfig.ready()``::

    from core import hooks

    hooks.subscribe("dossiers.DossierEvent", notify_hooks.on_dossier_event)

A subscriber runs inside the transaction that appended the row: what it writes commits with the
change or not at all, and it uses ``transaction.on_commit`` for anything sent outside.
"""

from __future__ import annotations

from collections.abc import Callable

_subscribers: dict[str, list[Callable]] = {}


def subscribe(model_label: str, subscriber: Callable) -> None:
    """Call ``subscriber(row)`` for every row appended to ``model_label`` ("app.Model")."""
    found = _subscribers.setdefault(model_label, [])
    if subscriber not in found:
        found.append(subscriber)


def unsubscribe(model_label: str, subscriber: Callable) -> None:
    if subscriber in _subscribers.get(model_label, []):
        _subscribers[model_label].remove(subscriber)


def publish(row) -> None:
    for subscriber in _subscribers.get(row._meta.label, ()):
        subscriber(row)

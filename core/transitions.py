"""The step every state machine here takes — dossiers, postal items, network actions: lock the
row, check the version the user saw, check the table of allowed changes, move, bump the version
and append the event, all in the caller's transaction.

Each machine keeps its own table of allowed changes next to its services, readable in one
screen (Signalen's habit); this module is the one place that applies a table.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import Any

from django.db import models

from core.events import append_event


def lock(
    queryset: models.QuerySet,
    pk,
    *,
    of: tuple[str, ...] = (),
    expected_version: int | None = None,
    stale: Callable[[], Exception] | None = None,
):
    """The row, locked until the transaction ends (two users never lose a change); ``of`` as in
    ``select_for_update`` (``("self",)`` when nullable relations are joined). When the caller
    passes the version it showed the user and the row has moved on since, ``stale()`` is raised:
    the user decided on a state that is gone."""
    row = queryset.select_for_update(of=of).get(pk=pk)
    if expected_version is not None and row.version != expected_version:
        raise stale()
    return row


def allowed(table: Mapping[Any, Collection], source, target) -> bool:
    """Whether the table lets ``source`` lead to ``target`` (a status, or an action's name)."""
    return target in table.get(source, ())


def move(row: models.Model, to_status, *, by, action: str, at: datetime | None = None, details=None):
    """Give a locked, checked row its new status (``None``: the status stays, e.g. an extension),
    bump its version when it has one and append the event; returns the previous status. The
    caller saves the row in the same transaction."""
    from_status = row.status
    if to_status is not None:
        row.status = to_status
    if hasattr(row, "version"):
        row.version += 1
    append_event(
        row, by=by, action=action, at=at, from_status=from_status, to_status=row.status, details=details
    )
    return from_status

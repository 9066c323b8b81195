"""The one way history rows are appended, for every event table of every app."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils import timezone

from core import hooks
from core.prepared import save_new


def append_event(
    subject: models.Model,
    *,
    by=None,
    at: datetime | None = None,
    history: str = "events",
    **fields,
) -> models.Model:
    """Append one row to ``subject``'s history (its reverse relation named ``history``).

    ``by`` is the acting user (anonymous or ``None`` is recorded as no actor); ``at`` defaults to
    now; ``action``, when the table has one, is namespaced (``dossier.accepted``). The other
    keyword arguments are the row's own fields (``from_status``, ``to_status``, ``details``…).
    History is never edited: the tables refuse updates and deletes.
    """
    action = fields.get("action")
    if action is not None and "." not in action:
        raise ValueError("event actions are namespaced, e.g. 'dossier.accepted'")
    if "details" in fields and fields["details"] is None:
        fields["details"] = {}
    relation = getattr(type(subject), history).rel  # the event table's foreign key to the subject
    row = relation.related_model(
        **{relation.field.name: subject},
        actor=by if getattr(by, "pk", None) else None,
        at=at or timezone.now(),
        **fields,
    )
    save_new(row)  # objects.create's save, without compiling the INSERT every time
    # Apps above react through core.hooks (notices, the national portal sync), in this transaction.
    hooks.publish(row)
    return row

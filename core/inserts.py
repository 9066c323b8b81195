"""Insert one row unless a unique key already holds it, and say which: one statement.

``bulk_create(ignore_conflicts=True)`` writes ``INSERT … ON CONFLICT DO NOTHING`` without a
savepoint, but returns no primary key (Django reads keys back only without ``ignore_conflicts``),
so its callers read the row again to learn whether theirs went in. ``insert_unless_exists`` asks
PostgreSQL and SQLite (both support ``ON CONFLICT DO NOTHING RETURNING``) for the new key in the
same statement: the object gets its key and the caller knows it was inserted; no row back means
the key was taken, and only then does the caller need to read the row that holds it.
"""

from __future__ import annotations

from django.db import connections, router
from django.db.models import Model
from django.db.models.constants import OnConflict

from core.prepared import insert_row, prepared_insert


def insert_unless_exists(obj: Model) -> bool:
    """Insert ``obj`` (no primary key yet); True with ``obj.pk`` set when it went in, False when
    a unique constraint already held the row (nothing written)."""
    model = type(obj)
    using = router.db_for_write(model, instance=obj)
    connection = connections[using]
    opts = model._meta
    if not connection.features.can_return_rows_from_bulk_insert:  # pragma: no cover - old SQLite
        before = model._base_manager.using(using).bulk_create([obj], ignore_conflicts=True)
        return bool(before and before[0].pk)
    # The statement compiled once per model (core.prepared), when the key is all it returns.
    insert = prepared_insert(obj, using, OnConflict.IGNORE) if opts.db_returning_fields == [opts.pk] else None
    if insert is not None:
        if not insert_row(obj, connection, insert):
            return False
        obj._state.adding = False
        obj._state.db = using
        return True
    fields = [f for f in opts.concrete_fields if not f.generated and f is not opts.pk]
    rows = model._base_manager.using(using)._insert(
        [obj], fields=fields, returning_fields=[opts.pk], using=using, on_conflict=OnConflict.IGNORE
    )
    if not rows:
        return False
    obj.pk = rows[0][0]
    obj._state.adding = False
    obj._state.db = using
    return True

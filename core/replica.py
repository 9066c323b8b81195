"""Reads that may come from a PostgreSQL streaming replica, and the router that sends them.

With ``DATABASE_REPLICA_URL`` set, settings add the ``replica`` database and this router. The
pages that only read and that grow with the data — the leaders' dashboard, the report exports,
the dossier list — are decorated with ``reads_from_replica``: while they run, the router sends
their reads to the replica. Everything else reads from the primary, and every write goes to the
primary, always (a page that writes, such as the recount a dashboard triggers on the embedded
default, writes to the primary). A replica trails the primary by its replication lag, usually
well under a second on one network (docs/scaling.md): the figures are snapshots recomputed
every few seconds anyway, and a list read just after a write may miss that write for that long.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from functools import wraps

from django.db import connections

REPLICA = "replica"
_state = threading.local()


def replica_configured() -> bool:
    return REPLICA in connections.settings


@contextmanager
def replica_reads():
    """Reads inside the block go to the replica when there is one."""
    depth = getattr(_state, "depth", 0)
    _state.depth = depth + 1
    try:
        yield
    finally:
        _state.depth = depth


def reads_from_replica(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        with replica_reads():
            return view(request, *args, **kwargs)

    return wrapped


class ReplicaRouter:
    """Reads inside ``replica_reads`` from the replica; all else, and every write, on the primary."""

    def db_for_read(self, model, **hints):
        if getattr(_state, "depth", 0) and replica_configured():
            return REPLICA
        return "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same data on both

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"  # the replica follows the primary's WAL

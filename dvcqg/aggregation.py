"""The national portal sync rate as weekly counters of reports.WeeklyRate (registered in
DvcqgConfig.ready()): dossiers changed in the week, and those of them whose every change of
that week reached the portal within 24 hours."""

from __future__ import annotations

from django.db.models import Count, F, Q

from dvcqg.models import SyncEntry
from reports.services.aggregation import Span, by_week


def sync_counts(span: Span):
    counts = by_week(
        span,
        SyncEntry.objects.filter(changed_at__gte=span.start, changed_at__lt=span.end),
        "dossier__receiving_unit_id",
        "changed_at",
        portal_changed=Count("dossier_id", distinct=True),
        late=Count(
            "dossier_id",
            distinct=True,
            filter=~Q(status=SyncEntry.Status.SENT, sent_at__lte=F("deadline_at")),
        ),
    )
    return {
        key: {
            "portal_changed": row["portal_changed"],
            "portal_synced_on_time": row["portal_changed"] - row["late"],
        }
        for key, row in counts.items()
    }

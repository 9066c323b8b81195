"""Writes of the national portal sync: an entry per dossier change, recorded in the transaction
of the change; sending after commit, strictly in order per dossier, retried with back-off,
every attempt logged (docs/dvcqg.md)."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from core.outbound import OutboundError, backoff, post_json
from dvcqg import payloads
from dvcqg.models import SyncAttempt, SyncEntry

log = logging.getLogger(__name__)
ON_TIME = timedelta(hours=24)
# Creations are reported too, not only status changes.
CREATION_ACTIONS = frozenset({"dossier.registered", "dossier.accepted"})


def enabled() -> bool:
    return bool(settings.DVCQG_URL)


def reportable(event) -> bool:
    if event.action in CREATION_ACTIONS:
        return True
    return (
        event.to_status is not None and event.from_status is not None and event.to_status != event.from_status
    )


def record(*, event) -> SyncEntry | None:
    """Inside the transaction that appended ``event``: the entry to send, numbered after the
    dossier's previous ones. Sending is queued for after commit."""
    if not enabled() or not reportable(event):
        return None
    dossier = event.dossier
    seq = (SyncEntry.objects.filter(dossier=dossier).aggregate(last=Max("seq"))["last"] or 0) + 1
    entry = SyncEntry.objects.create(
        dossier=dossier,
        seq=seq,
        action=event.action,
        payload=payloads.build(dossier=dossier, event=event, seq=seq),
        changed_at=event.at,
        deadline_at=event.at + ON_TIME,
        next_attempt_at=timezone.now(),
    )
    transaction.on_commit(lambda: _dispatch(dossier.pk))
    return entry


# The task that sends a dossier's entries, by its registered name: dvcqg.tasks calls this module,
# so this module reaches the task through the Celery registry (DvcqgConfig.ready imports the tasks).
SYNC_TASK = "dvcqg.sync_dossier"


def _dispatch(dossier_id: int) -> None:
    from celery import current_app

    try:
        current_app.tasks[SYNC_TASK].delay(dossier_id)
    except Exception:  # the broker is down: the sweep sends it once it is back
        log.warning("dvcqg: dossier %s left for the sweep (broker unavailable)", dossier_id)


def _post(entry: SyncEntry) -> tuple[bool, int | None, str, bool]:
    """(accepted, HTTP status, error, temporary) of one attempt."""
    invalid = payloads.problems(entry.payload)
    if invalid:
        return False, None, ("schema: " + "; ".join(invalid))[:300], False
    try:
        status, answer = post_json(
            settings.DVCQG_URL,
            entry.payload,
            headers={
                "Authorization": f"Bearer {settings.DVCQG_API_KEY}",
                # The same key on every attempt: the portal keeps one copy of a repeated change.
                "Idempotency-Key": f"postdesk-{entry.dossier_id}-{entry.seq}",
            },
            timeout=settings.DVCQG_TIMEOUT_SECONDS,
        )
    except OutboundError as error:
        return False, error.http_status, error.reason, error.temporary
    if answer.get("error_code", 0) not in (0, "0"):
        return (
            False,
            status,
            f"portal error {answer.get('error_code')}: {answer.get('message', '')}"[:300],
            False,
        )
    return True, status, "", False


def send_next(*, dossier_id: int, now: datetime | None = None) -> SyncEntry | None:
    """Send the dossier's earliest waiting entry if its time has come; None when there is none
    or another worker holds it. An entry is never sent while an earlier one of the same
    dossier waits, so the portal sees the changes in order."""
    now = now or timezone.now()
    with transaction.atomic():
        first = (
            SyncEntry.objects.filter(dossier_id=dossier_id, status=SyncEntry.Status.PENDING)
            .order_by("seq")
            .values_list("pk", flat=True)
            .first()
        )
        if first is None:
            return None
        entry = (
            SyncEntry.objects.select_for_update(skip_locked=True)
            .filter(pk=first, status=SyncEntry.Status.PENDING)
            .first()
        )
        if entry is None or (entry.next_attempt_at and entry.next_attempt_at > now):
            return None
        started = time.monotonic()
        accepted, http_status, error, temporary = _post(entry)
        entry.attempts += 1
        SyncAttempt.objects.create(
            entry=entry,
            at=now,
            ok=accepted,
            http_status=http_status,
            error=error,
            duration_ms=int((time.monotonic() - started) * 1000),
        )
        if accepted:
            entry.status, entry.sent_at, entry.next_attempt_at, entry.last_error = (
                SyncEntry.Status.SENT,
                now,
                None,
                "",
            )
            _mark_week(entry, now)
        elif temporary:
            entry.next_attempt_at, entry.last_error = now + backoff(entry.attempts), error
        else:
            # Rejected: kept for the operator (admin), and later changes may go on.
            entry.status, entry.next_attempt_at, entry.last_error = SyncEntry.Status.FAILED, None, error
            log.warning("dvcqg: entry %s of dossier %s rejected: %s", entry.seq, dossier_id, error)
        entry.save()
        return entry


def sync_dossier(*, dossier_id: int, now: datetime | None = None) -> int:
    """Send the dossier's waiting entries in order until one fails or must wait; how many went."""
    sent = 0
    while True:
        entry = send_next(dossier_id=dossier_id, now=now)
        if entry is None or entry.status == SyncEntry.Status.PENDING:
            return sent
        sent += entry.status == SyncEntry.Status.SENT


def send_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """The sweep: every dossier with a waiting entry whose attempt is due."""
    if not enabled():
        return 0
    now = now or timezone.now()
    dossier_ids = (
        SyncEntry.objects.filter(status=SyncEntry.Status.PENDING, next_attempt_at__lte=now)
        .order_by("dossier_id")
        .values_list("dossier_id", flat=True)
        .distinct()[:limit]
    )
    return sum(sync_dossier(dossier_id=dossier_id, now=now) for dossier_id in list(dossier_ids))


def _mark_week(entry: SyncEntry, now: datetime) -> None:
    """A change synchronised now may alter its week's sync rate: mark that week of the commune
    (communes.weekmarks), as any other write does."""
    from communes.weekmarks import mark_weeks

    mark_weeks({(entry.dossier.receiving_unit_id, entry.changed_at)})

"""Background work of the dossiers app: thin tasks that call a service."""

from __future__ import annotations

import logging

from celery import shared_task
from kombu.exceptions import OperationalError

from dossiers import importing
from dossiers.models import ImportJob

logger = logging.getLogger(__name__)

# The phase of a job whose task could not be sent (broker down): sent again by the periodic
# task below once the broker answers.
WAITING_FOR_QUEUE = "waiting_for_queue"


@shared_task(name="dossiers.run_import", acks_late=True, max_retries=2, ignore_result=True)
def run_import(job_id: int) -> None:
    """Import one uploaded file; re-running a job is safe (upsert by code)."""
    importing.run_import(job_id)


def queue_import(job_id: int) -> bool:
    """Send the job to the workers; when the broker is down, leave it waiting (not failed)."""
    try:
        run_import.delay(job_id)
    except (OperationalError, ConnectionError, OSError):  # what an unreachable broker raises
        logger.warning("import job %s not queued: broker unavailable; it will be sent later", job_id)
        ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.PENDING).update(phase=WAITING_FOR_QUEUE)
        return False
    return True


@shared_task(name="dossiers.resend_deferred_imports", acks_late=True, ignore_result=True)
def resend_deferred_imports() -> int:
    """Imports uploaded while the broker was down: send them now that it answers."""
    sent = 0
    waiting = ImportJob.objects.filter(status=ImportJob.Status.PENDING, phase=WAITING_FOR_QUEUE)
    for job_id in waiting.order_by("id").values_list("id", flat=True)[:50]:
        # Claim the job first, so two beats never send it twice.
        if ImportJob.objects.filter(pk=job_id, phase=WAITING_FOR_QUEUE).update(phase="") and queue_import(
            job_id
        ):
            sent += 1
    return sent


@shared_task(name="dossiers.fail_stalled_imports", acks_late=True, ignore_result=True)
def fail_stalled_imports() -> int:
    """Running imports whose worker stopped reporting: failed, never left running."""
    return importing.fail_stalled_jobs()

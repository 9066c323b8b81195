"""Recomputations asked for by a leader, with progress the dashboard polls.

Queueing never breaks the page: when the broker is down the run stays "waiting for the queue",
the user is told, and the periodic task starts it once the broker is back.
"""

from __future__ import annotations

import logging
from datetime import date

from django.db import transaction
from django.utils import timezone

from reports.locks import ComputationBusy, computation_lock
from reports.models import ComputationRun
from reports.services.aggregation import compute_weeks
from reports.weeks import weeks_ending

log = logging.getLogger(__name__)


# The Celery task that runs a recomputation, by its registered name: reports.tasks calls this
# module, so this module reaches the task through the Celery registry rather than an import
# (reports.tasks is imported by ReportsConfig.ready, so the task is always registered).
RUN_TASK = "reports.run_computation"


def _send(run_id: int) -> None:
    from celery import current_app

    current_app.tasks[RUN_TASK].delay(run_id)


def enqueue(run: ComputationRun) -> bool:
    """Send the run to the workers; False (and the run left pending) when the broker is down."""
    try:
        _send(run.pk)
    except ComputationBusy:
        raise
    except Exception as exc:  # kombu/redis raise many kinds; all mean "not queued"
        if _ran_eagerly():
            raise
        log.warning("recomputation %s not queued: %s", run.pk, type(exc).__name__)
        ComputationRun.objects.filter(pk=run.pk, status=ComputationRun.Status.PENDING).update(
            error="broker unavailable"
        )
        return False
    ComputationRun.objects.filter(pk=run.pk, status=ComputationRun.Status.PENDING).update(
        status=ComputationRun.Status.QUEUED, error=""
    )
    return True


def _ran_eagerly() -> bool:
    from celery import current_app

    return bool(current_app.conf.task_always_eager)


def request_recomputation(*, by, first_week: date, last_week: date) -> tuple[ComputationRun, bool]:
    """Record the request, then queue it. Returns the run and whether it was queued."""
    weeks = (last_week - first_week).days // 7 + 1
    with transaction.atomic():
        run = ComputationRun.objects.create(
            requested_by=by, first_week=first_week, last_week=last_week, weeks_total=weeks
        )
    queued = enqueue(run)
    run.refresh_from_db()
    return run, queued


def execute_run(*, run_id: int) -> ComputationRun | None:
    """Compute the run's weeks, recording progress after each; idempotent when re-delivered."""
    run = ComputationRun.objects.filter(pk=run_id).first()
    if run is None or run.status == ComputationRun.Status.DONE:
        return run
    mondays = weeks_ending(run.last_week, run.weeks_total)
    ComputationRun.objects.filter(pk=run.pk).update(
        status=ComputationRun.Status.RUNNING, started_at=timezone.now(), weeks_done=0, error=""
    )

    def progress(done: int, _monday: date) -> None:
        ComputationRun.objects.filter(pk=run.pk).update(weeks_done=done)

    try:
        compute_weeks(mondays=mondays, progress=progress)
    except ComputationBusy:
        ComputationRun.objects.filter(pk=run.pk).update(status=ComputationRun.Status.QUEUED)
        raise
    except Exception as exc:
        ComputationRun.objects.filter(pk=run.pk).update(
            status=ComputationRun.Status.FAILED, finished_at=timezone.now(), error=type(exc).__name__
        )
        raise
    ComputationRun.objects.filter(pk=run.pk).update(
        status=ComputationRun.Status.DONE, finished_at=timezone.now(), weeks_done=len(mondays)
    )
    run.refresh_from_db()
    return run


def recover_abandoned() -> int:
    """Runs left "running" by a worker that died: only one computation runs at a time, so when
    nobody holds the computation lock, no run is really running — queue those again."""
    stale = ComputationRun.objects.filter(status=ComputationRun.Status.RUNNING)
    if not stale.exists():
        return 0
    try:
        with computation_lock():
            ids = list(stale.values_list("id", flat=True))
            ComputationRun.objects.filter(id__in=ids).update(status=ComputationRun.Status.PENDING)
    except ComputationBusy:
        return 0  # a computation is under way: its run is not abandoned
    log.warning("recomputations %s were abandoned by a worker; queued again", ids)
    return len(ids)


def resend_pending() -> int:
    """Queue the runs that could not be queued earlier (the broker was down), and runs a dead
    worker abandoned."""
    recover_abandoned()
    sent = 0
    for run in ComputationRun.objects.filter(status=ComputationRun.Status.PENDING).order_by("id")[:20]:
        sent += enqueue(run)
    return sent

"""Celery tasks of the weekly rates: thin, idempotent, acks_late, bounded retries.

Each takes plain values and calls reports.services; one computation runs at a time
(reports.locks). The beat schedule is in config/celery.py.
"""

from __future__ import annotations

from celery import shared_task

from reports.locks import ComputationBusy
from reports.services import aggregation, runs

RECENT_WEEKS = 8
_OPTIONS = {
    "acks_late": True,
    "max_retries": 5,
    "default_retry_delay": 60,
    "autoretry_for": (ComputationBusy,),
    "retry_backoff": True,
    "retry_backoff_max": 600,
}


@shared_task(name="reports.refresh_current_week", **_OPTIONS)
def refresh_current_week_task() -> int:
    """The week in progress, so dashboards are never more than 15 minutes old."""
    return aggregation.compute_weeks(mondays=[aggregation.current_monday()])


@shared_task(name="reports.finalise_previous_week", **_OPTIONS)
def finalise_previous_week_task() -> int:
    """Last week once Monday's late entries are in: the figures a district reports upward."""
    return aggregation.compute_weeks(mondays=[aggregation.previous_monday()])


@shared_task(name="reports.recompute_recent_weeks", **_OPTIONS)
def recompute_recent_weeks_task(weeks: int = RECENT_WEEKS) -> int:
    """The last ``weeks`` weeks, nightly, so late entries and corrections are counted."""
    from reports.weeks import weeks_ending

    return aggregation.compute_weeks(mondays=weeks_ending(aggregation.current_monday(), weeks))


@shared_task(name="reports.process_dirty_weeks", **_OPTIONS)
def process_dirty_weeks_task() -> int:
    """The weeks writes marked (reports/freshness.py queues it a few seconds after a burst of
    writes, the beat every minute); also queues recomputations that could not be queued while
    the broker was down."""
    from reports import freshness

    runs.resend_pending()
    return freshness.process_marked_weeks()


@shared_task(name="reports.run_computation", **_OPTIONS)
def run_computation_task(run_id: int) -> str:
    """A recomputation a leader asked for (reports.ComputationRun), with progress."""
    run = runs.execute_run(run_id=run_id)
    return run.status if run else "missing"

"""Issue 14, item 2: a leader's recomputation is never left "queued" with nothing queued.

A run's task waits out a dead worker's lock between retries; when it gives up, the run waits for
the periodic task again; a run left queued longer than any retry waits is sent again. The
end-to-end case — a worker killed mid-run — is tests/services/test_worker_killed.py.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from celery.exceptions import Retry
from django.utils import timezone

from reports import tasks
from reports.locks import ComputationBusy, lock_seconds
from reports.models import ComputationRun
from reports.services import runs
from tests.reports.conftest import local

pytestmark = pytest.mark.django_db

NOW = local(2026, 3, 18, 10)
WEEK = date(2026, 3, 16)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def run(leader):
    return ComputationRun.objects.create(
        requested_by=leader,
        first_week=WEEK,
        last_week=WEEK,
        weeks_total=1,
        status=ComputationRun.Status.QUEUED,
        queued_at=timezone.now(),
    )


@pytest.fixture
def busy(monkeypatch):
    def always_busy(**kwargs):
        raise ComputationBusy

    monkeypatch.setattr(runs, "compute_weeks", always_busy)


def test_each_retry_waits_longer_than_a_dead_workers_lock_lives(frozen, run, busy, monkeypatch, settings):
    settings.REPORTS_LOCK_SECONDS = 120
    waits = []
    real_retry = tasks.run_computation_task.retry

    def record(*args, countdown=None, **kwargs):
        waits.append(countdown)
        return real_retry(*args, countdown=countdown, **kwargs)

    monkeypatch.setattr(tasks.run_computation_task, "retry", record)
    with pytest.raises(Retry):
        tasks.run_computation_task.apply(args=[run.pk], throw=True)
    assert waits == [lock_seconds() + 1]
    assert waits[0] > 120
    assert ComputationRun.objects.get(pk=run.pk).status == ComputationRun.Status.QUEUED


def test_after_the_last_retry_the_run_waits_for_the_periodic_task(frozen, run, busy):
    result = tasks.run_computation_task.apply(args=[run.pk], retries=runs.BUSY_RETRIES, throw=True)
    assert result.get() == ComputationRun.Status.PENDING
    assert ComputationRun.objects.get(pk=run.pk).status == ComputationRun.Status.PENDING


def test_a_run_queued_longer_than_any_retry_waits_is_sent_again(frozen, run, broker_configured, monkeypatch):
    sent = []
    monkeypatch.setattr(runs, "_send", sent.append)
    # Within the patience: its task may still be waiting for a retry; left alone.
    with time_machine.travel(NOW + runs.queued_patience() - timedelta(seconds=5), tick=False):
        assert runs.resend_pending() == 0
    with time_machine.travel(NOW + runs.queued_patience() + timedelta(seconds=5), tick=False):
        assert runs.resend_pending() == 1
    assert sent == [run.pk]
    assert ComputationRun.objects.get(pk=run.pk).status == ComputationRun.Status.QUEUED


def test_the_periodic_task_completes_a_run_left_queued(run, procedure, commune):
    ComputationRun.objects.filter(pk=run.pk).update(queued_at=timezone.now() - 2 * runs.queued_patience())
    tasks.process_dirty_weeks_task.apply(throw=True)  # eager: the re-sent run runs right away
    assert ComputationRun.objects.get(pk=run.pk).status == ComputationRun.Status.DONE

"""Tasks, the management command, the lock, recomputation marks and requested runs."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
import time_machine
from celery.exceptions import Retry
from django.core.management import CommandError, call_command
from django.utils import translation

from dossiers.models import Dossier
from reports import tasks
from reports.locks import ComputationBusy, computation_lock
from reports.models import COUNTERS, ComputationRun, WeeklyRate
from reports.services import runs
from tests.reports.conftest import dossier, local

pytestmark = pytest.mark.django_db

NOW = local(2026, 3, 18, 10)  # Wednesday of week 2026-W12
THIS_WEEK = date(2026, 3, 16)
LAST_WEEK = date(2026, 3, 9)
OLD_WEEK = date(2026, 1, 5)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def rows():
    return sorted(WeeklyRate.objects.values_list("unit_id", "week_start", *COUNTERS))


def test_tasks_compute_their_weeks_and_twice_gives_identical_rows(frozen, procedure, commune):
    Dossier.objects.bulk_create(
        [
            dossier(procedure, commune, received_at=local(2026, 3, 17)),
            dossier(procedure, commune, received_at=local(2026, 3, 10)),
            dossier(procedure, commune, received_at=local(2026, 1, 27)),
        ]
    )
    tasks.refresh_current_week_task.delay()
    assert set(WeeklyRate.objects.values_list("week_start", flat=True)) == {THIS_WEEK}
    tasks.finalise_previous_week_task.delay()
    assert WeeklyRate.objects.get(unit=commune, week_start=LAST_WEEK).received == 1
    tasks.recompute_recent_weeks_task.delay()
    first = rows()
    assert {week for _unit, week, *_ in first} == {THIS_WEEK, LAST_WEEK, date(2026, 1, 26)}
    tasks.recompute_recent_weeks_task.delay()
    assert rows() == first


def test_the_command_computes_the_weeks_asked_for(frozen, procedure, commune):
    Dossier.objects.bulk_create([dossier(procedure, commune, received_at=local(2026, 1, 6))])
    out = StringIO()
    call_command("compute_weekly_rates", "--week", "2026-W03", "--weeks", "3", stdout=out)
    assert "2026-W01 to 2026-W03: 3 weeks" in out.getvalue()
    assert WeeklyRate.objects.get(unit=commune, week_start=OLD_WEEK).received == 1
    first = rows()
    call_command("compute_weekly_rates", "--week", "2026-W03", "--weeks", "3", stdout=StringIO())
    assert rows() == first


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--week", "2026-W54"], "week 54 does not exist"),
        (["--week", "2026-13"], "is not a week"),
        (["--week", ""], "Enter a week"),
        (["--weeks", "0"], "between 1 and 520"),
    ],
)
def test_the_command_refuses_bad_input_clearly(frozen, args, message):
    with translation.override("en"), pytest.raises(CommandError, match=message):
        call_command("compute_weekly_rates", *args, stdout=StringIO())


def test_one_computation_at_a_time(frozen, db):
    with computation_lock(), pytest.raises(CommandError, match="Another computation"):
        call_command("compute_weekly_rates", stdout=StringIO())
    # Released afterwards.
    call_command("compute_weekly_rates", stdout=StringIO())


def test_a_busy_lock_makes_the_task_retry(frozen, db, monkeypatch):
    calls = []

    def busy(**kwargs):
        calls.append(kwargs)
        raise ComputationBusy

    monkeypatch.setattr(tasks.aggregation, "compute_weeks", busy)
    with pytest.raises(Retry):
        tasks.refresh_current_week_task.apply(throw=True)
    assert len(calls) == 1
    assert tasks.refresh_current_week_task.max_retries == 5
    assert tasks.refresh_current_week_task.acks_late is True


def test_a_requested_run_records_its_progress(frozen, leader, procedure, commune):
    Dossier.objects.bulk_create([dossier(procedure, commune, received_at=local(2026, 3, 3))])
    run, queued = runs.request_recomputation(by=leader, first_week=date(2025, 12, 29), last_week=THIS_WEEK)
    assert queued
    assert run.status == ComputationRun.Status.DONE
    assert (run.weeks_done, run.weeks_total) == (12, 12)
    assert WeeklyRate.objects.filter(unit=commune, week_start=date(2026, 3, 2)).exists()


def test_a_run_that_cannot_be_queued_waits_and_runs_when_the_broker_is_back(
    frozen, leader, broker_configured, monkeypatch
):

    def broker_down(run_id):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379")

    monkeypatch.setattr(runs, "_send", broker_down)
    run, queued = runs.request_recomputation(by=leader, first_week=LAST_WEEK, last_week=THIS_WEEK)
    assert not queued
    assert run.status == ComputationRun.Status.PENDING
    sent = []
    monkeypatch.setattr(runs, "_send", sent.append)
    assert runs.resend_pending() == 1
    assert sent == [run.pk]
    run.refresh_from_db()
    assert run.status == ComputationRun.Status.QUEUED


def test_a_run_abandoned_by_a_dead_worker_is_queued_again_once_its_lock_is_gone(
    frozen, leader, broker_configured, monkeypatch
):
    from reports.locks import computation_lock

    run = ComputationRun.objects.create(
        requested_by=leader,
        first_week=LAST_WEEK,
        last_week=THIS_WEEK,
        weeks_total=2,
        weeks_done=1,
        status=ComputationRun.Status.RUNNING,
    )
    sent = []
    monkeypatch.setattr(runs, "_send", sent.append)
    # While a computation holds the lock, a running run is really running: left alone.
    with computation_lock():
        assert runs.resend_pending() == 0
    assert ComputationRun.objects.get(pk=run.pk).status == ComputationRun.Status.RUNNING
    # Nobody holds the lock (its holder died and it expired): the run is queued again.
    assert runs.resend_pending() == 1
    assert sent == [run.pk]
    assert ComputationRun.objects.get(pk=run.pk).status == ComputationRun.Status.QUEUED


def test_a_failed_run_is_recorded_and_keeps_the_previous_rows(
    frozen, leader, procedure, commune, monkeypatch
):
    Dossier.objects.bulk_create([dossier(procedure, commune, received_at=local(2026, 3, 17))])
    tasks.refresh_current_week_task.delay()
    before = rows()
    monkeypatch.setattr(WeeklyRate.objects, "bulk_create", _raise)
    with pytest.raises(RuntimeError):
        runs.request_recomputation(by=leader, first_week=THIS_WEEK, last_week=THIS_WEEK)
    run = ComputationRun.objects.get()
    assert run.status == ComputationRun.Status.FAILED
    assert rows() == before


def _raise(*args, **kwargs):
    raise RuntimeError("worker killed")


def _fields(procedure, unit, **fields) -> dict:
    d = dossier(procedure, unit, **fields)
    return {f.attname: getattr(d, f.attname) for f in Dossier._meta.concrete_fields if f.attname != "id"} | {
        "created_at": None
    }


def _event_fields(event) -> dict:
    return {"item": event.item, "at": event.at, "action": event.action, "to_status": event.to_status}


def test_the_lock_is_kept_alive_while_its_holder_works_and_expires_when_it_dies(settings):
    import time

    from django.core.cache import cache

    from reports.locks import LOCK_KEY, ComputationBusy, computation_lock

    settings.CELERY_BROKER_URL = ""  # the local cache holds the lock here
    cache.delete(LOCK_KEY)
    with computation_lock(timeout=2):
        time.sleep(3)  # longer than the lock's lifetime: the heartbeat renewed it
        with pytest.raises(ComputationBusy), computation_lock(timeout=2):
            pass
    # Released on exit.
    with computation_lock(timeout=2):
        pass
    # A holder that died (nobody renews): the lock is free again after its lifetime.
    cache.add(LOCK_KEY, "a-killed-worker", 1)
    with pytest.raises(ComputationBusy), computation_lock(timeout=2):
        pass
    time.sleep(1.5)
    with computation_lock(timeout=2):
        pass

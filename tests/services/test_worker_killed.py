"""Fault 7b: a worker killed (SIGKILL) in the middle of a weekly recomputation leaves every
week's previous rows in place — each week is replaced in one transaction — and the next run,
once the dead worker's lock has expired, completes them."""

from __future__ import annotations

import os
import signal
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from communes.models import DirtyWeek
from dossiers.models import Dossier, Status
from reports.models import ComputationRun, WeeklyRate
from reports.services import aggregation
from reports.weeks import weeks_ending
from tests.services.live import env_for, require_postgres, start_worker, wait_until
from tests.services.private import PrivateRedis, manage

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WEEKS = 104
LOCK_SECONDS = 3


def _dossiers(commune, procedure, mondays, *, tag: str, per_week: int) -> None:
    rows = []
    for w, monday in enumerate(mondays):
        for n in range(per_week):
            received = datetime.combine(monday, datetime.min.time(), TZ) + timedelta(days=n % 5, hours=9)
            finished = n % 2 == 0
            rows.append(
                Dossier(
                    code=f"{tag}-{w:03d}-{n:02d}",
                    procedure=procedure,
                    receiving_unit=commune,
                    applicant_name="Nguyễn Văn An",
                    tracking_pin="123456",
                    return_channel="bcci",
                    status=Status.FINISHED if finished else Status.PROCESSING,
                    received_at=received,
                    due_date=received.date() + timedelta(days=3),
                    finished_at=received + timedelta(days=1) if finished else None,
                    timeliness="early" if finished else "",
                )
            )
    Dossier.objects.bulk_create(rows)


def _rows() -> dict:
    """Counts per (unit, week); ids and computed_at change whenever a week is replaced."""
    rows = {}
    for row in WeeklyRate.objects.values().order_by():
        row.pop("id")
        row.pop("computed_at", None)
        rows[(row["unit_id"], row["week_start"])] = row
    return rows


def test_worker_killed_mid_recomputation_leaves_previous_rows_and_the_next_run_completes(
    commune, procedure, leader
):
    require_postgres()
    mondays = weeks_ending(aggregation.current_monday(), WEEKS)
    _dossiers(commune, procedure, mondays, tag="A", per_week=2)
    aggregation.compute_weeks(mondays=mondays)
    before = _rows()
    assert before and {week for _unit, week in before} == set(mondays)
    # Late entries in every week: a recomputation changes every week's counts.
    _dossiers(commune, procedure, mondays, tag="B", per_week=3)

    redis = PrivateRedis()
    redis.start()
    env = env_for(redis.url(), REPORTS_LOCK_SECONDS=str(LOCK_SECONDS))
    worker = start_worker(env)
    try:
        run = ComputationRun.objects.create(
            requested_by=leader, first_week=mondays[0], last_week=mondays[-1], weeks_total=WEEKS
        )
        # The job replaces the weeks in batches of at most MAX_SPAN_WEEKS, one transaction each,
        # starting with the batch's recomputation marks. A row lock on a mark of the last week
        # holds the second batch back, however fast the job is, so the worker is always killed
        # between the two.
        assert WEEKS > aggregation.MAX_SPAN_WEEKS
        mark = DirtyWeek.objects.create(unit=commune, week_start=mondays[-1])
        with transaction.atomic():
            DirtyWeek.objects.select_for_update().get(pk=mark.pk)
            manage(
                "shell",
                "-c",
                f"from reports.tasks import run_computation_task as t; t.delay({run.pk})",
                env=env,
            )
            done = wait_until(
                lambda: (w := ComputationRun.objects.get(pk=run.pk).weeks_done) >= 3 and w,
                timeout=60,
                what="the recomputation to be under way",
            )
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
        assert done < WEEKS, "the run finished before it could be killed"
        during = _rows()
    finally:
        if worker.poll() is None:
            worker.kill()

    try:
        # The next run: blocked while the dead worker's lock lives, then it completes.
        deadline = time.monotonic() + 10 * LOCK_SECONDS
        while True:
            try:
                manage("compute_weekly_rates", "--weeks", str(WEEKS), env=env)
                break
            except Exception as error:  # CalledProcessError carrying "Another computation"
                if time.monotonic() > deadline or "Another computation" not in getattr(error, "stderr", ""):
                    raise
                time.sleep(0.5)
    finally:
        redis.stop()
    after = _rows()

    # Every week kept a whole set of rows at the moment of the kill: the old ones or the new ones.
    assert set(during) == set(before) == set(after)
    old_weeks = {key[1] for key, row in during.items() if row == before[key]}
    new_weeks = {key[1] for key, row in during.items() if row == after[key]}
    assert old_weeks | new_weeks == set(mondays)
    assert old_weeks - new_weeks, "some weeks still held their previous rows when the worker died"
    # The completed rows are what a fresh computation gives.
    aggregation.compute_weeks(mondays=mondays)
    assert _rows() == after
    assert after != before

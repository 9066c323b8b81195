"""A recomputation sent through Redis is executed by a real worker process on the test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection
from django.utils import timezone

from dossiers.models import Dossier
from reports.models import ComputationRun, WeeklyRate
from reports.weeks import week_of
from tests.reports.conftest import dossier

BASE = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

needs_broker = pytest.mark.skipif(
    not os.environ.get("CELERY_BROKER_URL") or not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="needs CELERY_BROKER_URL (Redis) and PostgreSQL; .ci/run sets both, "
    "the embedded default runs tasks eagerly",
)


def _test_database_url() -> str:
    """DATABASE_URL pointing at the test database this test writes to."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


@needs_broker
def test_a_requested_recomputation_runs_in_a_worker_over_redis(procedure, commune, leader):
    from reports.tasks import run_computation_task

    monday = week_of(timezone.now()) - timedelta(weeks=1)
    Dossier.objects.bulk_create(
        [dossier(procedure, commune, received_at=timezone.now() - timedelta(weeks=1), intake_channel=3)]
    )
    run = ComputationRun.objects.create(
        requested_by=leader, first_week=monday, last_week=monday + timedelta(weeks=1), weeks_total=2
    )
    queue = f"test-reports-{os.getpid()}"
    worker = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", queue,
            "--concurrency=1", "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "warning",
        ],
        cwd=BASE,
        env={**os.environ, "DATABASE_URL": _test_database_url()},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        run_computation_task.apply_async(args=[run.pk], queue=queue)
        # Task results are not kept (CELERY_TASK_IGNORE_RESULT): the run's own row says it is done.
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.status == "done":
                break
            time.sleep(0.5)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    run.refresh_from_db()
    assert (run.status, run.weeks_done) == ("done", 2)
    row = WeeklyRate.objects.get(unit=commune, week_start=monday)
    assert (row.received, row.received_bcci) == (1, 1)
    assert isinstance(row.week_start, date)


@needs_broker
def test_an_intake_reaches_the_figures_through_redis_and_a_worker_within_a_minute(
    procedure, commune, official, settings
):
    """The recount that follows a write goes through the broker to a real worker."""
    from django.core.cache import cache

    from dossiers.services import Intake, create_dossier
    from reports.services.aggregation import current_monday

    settings.REPORTS_REFRESH_DELAY = 1
    cache.delete("postdesk:reports:refresh-pending")
    worker = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", "celery",
            "--concurrency=1", "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "warning",
        ],
        cwd=BASE,
        env={**os.environ, "DATABASE_URL": _test_database_url()},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        started = time.monotonic()
        create_dossier(
            by=official,
            receiving_unit=commune,
            intake=Intake(
                procedure=procedure,
                applicant_name="Nguyễn Văn An",
                applicant_phone="0912345678",
                applicant_address="Thôn 1, Xã Hoàn Lão",
                intake_channel=2,
                return_channel="bcci",
                documents=[{"name": "Tờ khai", "form": "original", "count": 1}],
                received_at=timezone.now(),
            ),
        )
        while time.monotonic() - started < 60:
            row = WeeklyRate.objects.filter(unit=commune, week_start=current_monday()).first()
            if row is not None and row.received_online == 1:
                break
            time.sleep(0.5)
        else:
            raise AssertionError("the intake was not counted within a minute")
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert time.monotonic() - started < 60

"""With Redis down the web app keeps answering and defers work; the work runs once Redis and a
worker are back (faults 7a), and an import killed while writing leaves nothing and can be
started again (7c)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import date

import pytest

from bench.loadgen import Session
from reports.models import ComputationRun
from reports.weeks import week_label
from tests.services.live import env_for, require_postgres, session_cookies, start_worker, wait_until
from tests.services.private import BASE, Gunicorn, PrivateRedis, manage

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_recompute_asked_while_redis_is_down_runs_when_it_is_back(leader):
    require_postgres()
    redis = PrivateRedis()  # its port is reserved but nothing listens yet: Redis is "down"
    env = env_for(redis.url())
    web = Gunicorn(env, workers=1)
    worker = None
    try:
        session = Session("127.0.0.1", web.port, cookies=session_cookies(leader))
        status, _ = session.request("GET", "/reports/")
        assert status == 200
        monday = date(2026, 3, 2)
        status, _ = session.request("POST", "/reports/recompute/", {"week": week_label(monday)})
        assert status == 302  # back to the dashboard with "could not be queued", not a 500
        status, _ = session.request("GET", "/reports/")
        assert status == 200
        run = ComputationRun.objects.get()
        assert run.status == ComputationRun.Status.PENDING

        redis.start()
        worker = start_worker(env)
        # The periodic task (process_dirty_weeks) re-sends pending runs; call it as beat would.
        manage("shell", "-c", "from reports.tasks import process_dirty_weeks_task as t; t.delay()", env=env)
        wait_until(
            lambda: ComputationRun.objects.get(pk=run.pk).status == ComputationRun.Status.DONE,
            timeout=90,
            what="the deferred recomputation",
        )
    finally:
        web.stop()
        if worker:
            worker.terminate()
            worker.wait(timeout=30)
        redis.stop()


def test_import_killed_while_writing_leaves_nothing_and_the_job_can_be_started_again(
    tmp_path, official, commune, procedure
):
    require_postgres()
    from datetime import timedelta

    from django.db import connection, transaction
    from django.utils import timezone

    from dossiers.importing import BATCH_SIZE, fail_stalled_jobs
    from dossiers.models import Dossier, DossierCodeSequence, DossierEvent, ImportJob

    procedure.national_code = "1.001193"
    procedure.save()
    # More rows than a batch of the check; the last ones' codes are of 1 March. The writing is
    # held in the middle by holding that day's code sequence row, which the file's transaction
    # moves forward after inserting every dossier and event, so the kill lands inside it.
    rows = BATCH_SIZE + 1000
    path = tmp_path / "big.csv"
    header = ",".join(
        ["ma_ho_so", "ma_thu_tuc", "ma_don_vi", "ho_ten_nguoi_nop", "kenh_tiep_nhan",
         "hinh_thuc_tra_ket_qua", "trang_thai", "ngay_tiep_nhan", "so_dien_thoai", "dia_chi"]
    )  # fmt: skip
    lines = [header] + [
        f"000.01.16.H44-{'260302' if n <= BATCH_SIZE else '260301'}-{n:04d},1.001193,19111,"
        f"Người nộp {n},1,bcci,2,02/03/2026 09:15,0912345678,Thôn 3"
        for n in range(1, rows + 1)
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    blocker = DossierCodeSequence.objects.create(unit=commune, day=date(2026, 3, 1), last_number=0)

    def writing_waits():
        with connection.cursor() as cursor:
            # pg_stat_activity is read once per transaction unless the snapshot is cleared.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            )
            return cursor.fetchone()[0] > 0

    env = env_for("", MEDIA_ROOT=str(tmp_path / "media"))
    with transaction.atomic():
        DossierCodeSequence.objects.select_for_update().get(pk=blocker.pk)
        process = subprocess.Popen(
            [sys.executable, "manage.py", "import_dossiers", str(path), "--user", official.username],
            cwd=BASE, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_until(writing_waits, timeout=120, what="the import writing the file")
            os.kill(process.pid, signal.SIGKILL)
        finally:
            process.wait(timeout=30)
    # The lock is released: the killed import's session finds its client gone and rolls back
    # the file's one transaction. Nothing of the file is there.
    assert not Dossier.objects.exists() and not DossierEvent.objects.exists()
    assert DossierCodeSequence.objects.get(pk=blocker.pk).last_number == 0
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.RUNNING  # until the periodic task looks at it

    # 15 minutes without progress: the periodic task marks it failed, never left running.
    assert fail_stalled_jobs(now=timezone.now() + timedelta(minutes=16)) == 1
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED

    # Started again (the page's button), it imports the whole file.
    manage(
        "shell", "-c",
        f"from dossiers.importing import restart_job, run_import; from dossiers.models import ImportJob; "
        f"restart_job(job=ImportJob.objects.get(pk={job.pk}), by=None); run_import({job.pk})",
        env=env,
    )  # fmt: skip
    assert Dossier.objects.count() == rows
    assert DossierEvent.objects.filter(action="dossier.imported").count() == rows
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert (job.created_count, job.unchanged_count) == (rows, 0)
    assert DossierCodeSequence.objects.get(pk=blocker.pk).last_number == rows


def test_with_redis_down_as_cache_and_broker_every_page_answers_and_recompute_returns_at_once(
    official, leader, postal_staff, make_dossier
):
    """Issue 14, item 7, as the production setup runs it: CACHE_URL and the broker on one Redis,
    which is down. Pages, the public lookup (whose limit is in the database) and a leader's
    recomputation request all answer; the request does not wait on Redis's reconnects."""
    require_postgres()
    import time

    dossier = make_dossier()
    redis = PrivateRedis()  # nothing listens on its port: Redis is down
    env = {**env_for(redis.url()), "CACHE_URL": redis.url()}
    web = Gunicorn(env, workers=1)
    try:
        pages = {
            official: ["/", "/dossiers/", f"/dossiers/{dossier.pk}/", "/dossiers/new/", "/postal/handovers/"],
            postal_staff: [
                "/postal/scan/",
                "/postal/appointments/",
                "/postal/intake/",
                "/postal/deliveries/",
            ],
            leader: ["/reports/", "/network/", "/postal/transfers/"],
        }
        for user, paths in pages.items():
            session = Session("127.0.0.1", web.port, cookies=session_cookies(user))
            for path in paths:
                status, _ = session.request("GET", path)
                assert status == 200, (path, status)
        anonymous = Session("127.0.0.1", web.port, cookies={"csrftoken": "a" * 32})
        status, body = anonymous.request(
            "POST", "/track/", {"code": dossier.code, "pin": dossier.tracking_pin}
        )
        assert status == 200 and b"track-result" in body
        session = Session("127.0.0.1", web.port, cookies=session_cookies(leader))
        started = time.monotonic()
        status, _ = session.request("POST", "/reports/recompute/", {"week": week_label(date(2026, 3, 2))})
        took = time.monotonic() - started
        assert status == 302
        assert took < 5, f"the recomputation request took {took:.1f} s with Redis down"
        assert ComputationRun.objects.get().status == ComputationRun.Status.PENDING
    finally:
        web.stop()
        redis.stop()

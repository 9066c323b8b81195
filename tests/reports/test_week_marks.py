"""Every write marks the (unit, week) pairs it changes through communes.weekmarks, explicitly:
desk intake, the workflow, both import writers (bulk: no model signals), postal deliveries and
returns, the admin, the generator; and the next dirty-week run counts them."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from communes.models import DirtyWeek
from communes.weekmarks import dossier_weeks, mark_weeks, monday_of
from dossiers import importing, workflow
from dossiers.models import DeclineReason, ImportJob, IntakeChannel, ReturnChannel
from dossiers.services import Intake, create_dossier
from postal import services as postal_services
from reports import tasks
from reports.models import WeeklyRate
from tests.reports.conftest import local

pytestmark = pytest.mark.django_db

NOW = local(2026, 3, 18, 10)  # Wednesday of 2026-W12
THIS_WEEK = date(2026, 3, 16)
THIRTY_WEEKS_BACK = THIS_WEEK - timedelta(weeks=30)  # 2025-08-18


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def marks() -> set[tuple[int, date]]:
    return set(DirtyWeek.objects.values_list("unit_id", "week_start"))


def log(official, commune, procedure, **fields):
    values = {
        "by": official,
        "receiving_unit": commune,
        "procedure": procedure,
        "applicant_name": "Nguyễn Văn An",
        "intake_channel": IntakeChannel.IN_PERSON,
        "return_channel": ReturnChannel.DESK,
        "decline_reason": DeclineReason.IN_PERSON,
        "documents": [{"name": "Tờ khai", "form": "original", "count": 1}],
    }
    values.update(fields)
    by, unit = values.pop("by"), values.pop("receiving_unit")
    return create_dossier(by=by, receiving_unit=unit, intake=Intake(**values))


def test_the_weeks_of_a_dossier_cover_reception_close_and_the_overdue_stretch():
    weeks = dossier_weeks(
        {
            "receiving_unit_id": 7,
            "received_at": local(2026, 2, 2),
            "due_date": date(2026, 2, 4),
            "finished_at": local(2026, 3, 3),
            "returned_at": None,
        }
    )
    assert weeks == {(7, date(2026, 2, 2) + timedelta(weeks=n)) for n in range(5)}
    assert dossier_weeks({"receiving_unit_id": 7, "received_at": None}) == set()
    assert mark_weeks([(None, NOW), (7, None)]) == 0


def test_a_desk_intake_marks_this_week(official, commune, procedure):
    log(official, commune, procedure)
    assert marks() == {(commune.pk, THIS_WEEK)}


def test_a_backdated_intake_30_weeks_back_is_counted_after_the_next_dirty_week_run(
    official, commune, procedure
):
    dossier = log(official, commune, procedure, received_at=local(2025, 8, 19, 9))
    assert (commune.pk, THIRTY_WEEKS_BACK) in marks()
    tasks.process_dirty_weeks_task.delay()
    assert not DirtyWeek.objects.exists()
    assert WeeklyRate.objects.get(unit=commune, week_start=THIRTY_WEEKS_BACK).received == 1
    # Still open, and overdue since August: every week since counts it as open and overdue.
    assert WeeklyRate.objects.get(unit=commune, week_start=THIS_WEEK - timedelta(weeks=2)).open_overdue == 1

    workflow.finish(dossier=dossier, by=official, at=local(2025, 8, 21, 9))
    # Finished that week after all: its week and every week it had been counted overdue change.
    assert {(commune.pk, THIRTY_WEEKS_BACK), (commune.pk, THIS_WEEK - timedelta(weeks=2))} <= marks()
    call_command("compute_weekly_rates", "--dirty", stdout=StringIO())
    assert not DirtyWeek.objects.exists()
    week = WeeklyRate.objects.get(unit=commune, week_start=THIRTY_WEEKS_BACK)
    assert (week.received, week.finished, week.finished_early) == (1, 1, 1)
    assert not WeeklyRate.objects.filter(unit=commune, open_overdue__gt=0).exists()


def write_csv(path, rows):
    buffer = StringIO()
    writer = csv.DictWriter(buffer, fieldnames=importing.COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode("utf-8"))
    return path


def import_row(commune, procedure, code, **overrides):
    values = {
        "ma_ho_so": code,
        "ma_thu_tuc": procedure.national_code,
        "ma_don_vi": commune.code,
        "ho_ten_nguoi_nop": "Trần Văn Bình",
        "kenh_tiep_nhan": "1",
        "hinh_thuc_tra_ket_qua": "bcci",
        "trang_thai": "10",
        "ngay_tiep_nhan": "19/08/2025 09:15",
        "ngay_ket_thuc_xu_ly": "20/08/2025 10:00",
        "ngay_tra_ket_qua": "21/08/2025 08:00",
    }
    values.update(overrides)
    return values


@pytest.mark.parametrize("writer", ["portable", "native"])
def test_a_backdated_import_marks_its_weeks_with_both_writers(
    writer, tmp_path, administrator, commune, procedure, monkeypatch
):
    if writer == "native" and connection.vendor != "postgresql":
        writer = "portable"  # SQLite has only the portable writer; PostgreSQL runs both
    if writer == "portable":
        from types import SimpleNamespace

        from dossiers.importing import jobs

        # Only the import's choice of writer sees another vendor; the ORM's SQL stays PostgreSQL's.
        monkeypatch.setattr(jobs, "connection", SimpleNamespace(vendor="sqlite"))
    code = f"{commune.dossier_prefix}-250819-0001"
    path = write_csv(tmp_path / "f.csv", [import_row(commune, procedure, code)])
    job = importing.run_import(
        importing.create_job_from_path(by=administrator, path=path, mode=ImportJob.Mode.ALL_OR_NOTHING).pk
    )
    assert job.created_count == 1, job.errors
    assert (commune.pk, THIRTY_WEEKS_BACK) in marks()
    tasks.process_dirty_weeks_task.delay()
    week = WeeklyRate.objects.get(unit=commune, week_start=THIRTY_WEEKS_BACK)
    assert (week.received, week.returned_bcci) == (1, 1)

    # The same dossier corrected by a second file: returned in another week. Both weeks move.
    path = write_csv(
        tmp_path / "g.csv", [import_row(commune, procedure, code, ngay_tra_ket_qua="02/09/2025 08:00")]
    )
    job = importing.run_import(
        importing.create_job_from_path(by=administrator, path=path, mode=ImportJob.Mode.ALL_OR_NOTHING).pk
    )
    assert job.updated_count == 1, job.errors
    assert {(commune.pk, THIRTY_WEEKS_BACK), (commune.pk, date(2025, 9, 1))} <= marks()
    tasks.process_dirty_weeks_task.delay()
    assert WeeklyRate.objects.get(unit=commune, week_start=THIRTY_WEEKS_BACK).returned == 0
    assert WeeklyRate.objects.get(unit=commune, week_start=date(2025, 9, 1)).returned_bcci == 1


def test_a_delivery_recorded_late_marks_the_week_it_happened(
    official, postal_staff, commune, procedure, post_office
):
    dossier = log(
        official,
        commune,
        procedure,
        return_channel=ReturnChannel.BCCI,
        decline_reason="",
        received_at=local(2026, 3, 2),
    )
    workflow.finish(dossier=dossier, by=official, at=local(2026, 3, 3))
    item = postal_services.create_return_item(dossier=dossier, by=official, post_office=post_office)
    DirtyWeek.objects.all().delete()
    item.status = "out_for_delivery"
    item.save()
    postal_services.record_delivery_attempt(
        item=item,
        by=postal_staff,
        outcome="delivered",
        recipient_name="Nguyễn Văn An",
        id_checked=True,
        at=local(2026, 3, 10, 15),  # recorded a week late
    )
    assert (commune.pk, date(2026, 3, 9)) in marks()


def test_monday_of_reads_local_time():
    assert monday_of(local(2026, 3, 16, 0, 30)) == THIS_WEEK  # Sunday 17:30 UTC
    assert monday_of(date(2026, 3, 22)) == THIS_WEEK

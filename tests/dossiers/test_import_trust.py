"""The import holds under hostile and clumsy files (issue 14: #1 all or nothing, #6 compressed
and oversized files, jobs whose worker died, #9 another commune's numbering)."""

from __future__ import annotations

import io
import re
import time
import zipfile
from dataclasses import replace
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from openpyxl import Workbook

from communes.models import DirtyWeek
from communes.weekmarks import dossier_weeks
from dossiers import importing, tasks
from dossiers.importing import jobs, reading
from dossiers.models import Dossier, DossierCodeSequence, DossierEvent, ImportJob

from .test_importing import NOW, row, run, upload, write_csv


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def catalogue(birth_registration, commune, other_commune):
    return birth_registration


def many_rows(count: int) -> list[dict]:
    return [row(f"000.01.16.H44-260302-{n:04d}") for n in range(1, count + 1)]


def nothing_written() -> bool:
    tables = (Dossier, DossierEvent, DossierCodeSequence)
    return not any(model.objects.exists() for model in tables)


# --- #1: all or nothing, whatever the size -----------------------------------------------------


def test_a_nul_in_the_last_row_of_six_thousand_rejects_the_file_and_writes_nothing(tmp_path, catalogue):
    rows = many_rows(6000)
    rows[-1]["ho_ten_nguoi_nop"] = "Trần Văn\x00 Bình"
    job = run(write_csv(tmp_path / "nul.csv", rows))
    assert job.status == ImportJob.Status.REJECTED
    assert job.error_count == 1 and job.errors[0]["line"] == 6001
    assert "ho_ten_nguoi_nop" in job.errors[0]["message"] and "ký tự điều khiển" in job.errors[0]["message"]
    assert nothing_written()


def test_with_good_rows_only_the_nul_row_is_reported_and_the_others_imported(tmp_path, catalogue):
    rows = many_rows(3)
    rows[1]["dia_chi"] = "Thôn\x003"
    job = run(write_csv(tmp_path / "nul.csv", rows), mode=ImportJob.Mode.GOOD_ROWS)
    assert (job.status, job.created_count, job.error_count) == (ImportJob.Status.DONE, 2, 1)
    assert job.errors[0]["line"] == 3 and "dia_chi" in job.errors[0]["message"]
    assert not Dossier.objects.filter(code="000.01.16.H44-260302-0002").exists()


def test_a_small_file_with_a_nul_is_answered_with_the_report_not_a_server_error(
    client_for, official, catalogue
):
    client = client_for(official)
    bad = upload("nul.csv", [row(ho_ten_nguoi_nop="Trần\x00 Bình")])
    response = client.post(reverse("dossiers:import_upload"), {"file": bad, "mode": "all"})
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200 and "ký tự điều khiển" in page.text
    assert ImportJob.objects.get().status == ImportJob.Status.REJECTED
    assert nothing_written()


def test_a_nul_in_a_date_or_a_column_name_is_reported_not_stored(tmp_path, catalogue):
    rows = [row(), row("000.01.16.H44-260302-0002", ngay_tiep_nhan="02/03/2026\x00 09:15")]
    columns = [*importing.COLUMNS, "ghi\x00chu"]
    job = run(write_csv(tmp_path / "nul.csv", rows, columns=columns))
    assert job.status == ImportJob.Status.REJECTED and job.error_count == 1
    assert "ngay_tiep_nhan" in job.errors[0]["message"] and "\x00" not in job.errors[0]["message"]
    assert nothing_written()
    job = run(write_csv(tmp_path / "ok.csv", rows[:1], columns=columns))
    assert job.status == ImportJob.Status.DONE and "ghichu" in job.message


def test_a_database_error_while_writing_leaves_nothing_of_the_file(tmp_path, catalogue, monkeypatch):
    """Whatever fails during the writing (here the last step, after every dossier, event and
    sequence was written), the file's rows are rolled back together."""
    monkeypatch.setattr(jobs, "BATCH_SIZE", 2)  # several batches, as in a large file

    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    from dossiers.importing import writing, writing_postgres

    monkeypatch.setattr(writing, "mark_dossiers", fail)
    monkeypatch.setattr(writing_postgres, "mark_weeks", fail)
    job = run(write_csv(tmp_path / "five.csv", many_rows(5)))
    assert job.status == ImportJob.Status.FAILED
    assert "chưa ghi" in job.message
    assert nothing_written()


# --- #6: limits before reading whole, errors kept in memory ------------------------------------


def _xlsx(rows: list[list], *, dimension: str | None = None) -> bytes:
    book = Workbook()
    for cells in rows:
        book.active.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    if dimension is None:
        return buffer.getvalue()
    # The same workbook declaring another size, as a workbook of 1.7 million rows does.
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="{dimension}"'.encode(), data)
            target.writestr(item, data)
    return out.getvalue()


def test_a_workbook_declaring_millions_of_rows_is_refused_before_any_cell_is_read(
    tmp_path, catalogue, monkeypatch
):
    import openpyxl

    data = _xlsx([importing.COLUMNS, list(row().values())], dimension="A1:P1700001")
    path = tmp_path / "nen.xlsx"
    path.write_bytes(data)
    opened = []
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: opened.append(a))
    job = run(path)
    assert job.status == ImportJob.Status.REJECTED
    assert "500,000 dòng" in job.message
    assert opened == [] and nothing_written()


def test_a_small_workbook_that_unpacks_to_a_lot_is_imported_by_a_worker_not_the_request(tmp_path):
    # 3,000 rows of the same text: a few kilobytes packed, hundreds unpacked.
    data = _xlsx([importing.COLUMNS] + [list(row().values())] * 3000)
    path = tmp_path / "nho.xlsx"
    path.write_bytes(data)
    assert path.stat().st_size <= importing.INLINE_IMPORT_BYTES < importing.work_size(path)


def test_a_header_of_fifty_thousand_columns_is_refused_at_once(tmp_path, catalogue):
    header = ",".join([*importing.COLUMNS, *(f"cot_{n}" for n in range(50_000))])
    path = tmp_path / "rong.csv"
    path.write_text(header + "\n" + ",".join(row().values()) + "\n", encoding="utf-8")
    started = time.perf_counter()
    job = run(path)
    assert time.perf_counter() - started < 5
    assert job.status == ImportJob.Status.REJECTED and "hơn 100 cột" in job.message
    assert nothing_written()


def test_the_file_is_refused_at_the_first_row_past_the_limit(tmp_path, catalogue, monkeypatch):
    monkeypatch.setattr(reading, "LIMITS", replace(reading.LIMITS, max_rows=5))
    job = run(write_csv(tmp_path / "dai.csv", many_rows(8)))
    assert job.status == ImportJob.Status.REJECTED and "hơn 5 dòng" in job.message
    assert nothing_written()


def test_two_checking_processes_refuse_a_file_past_the_limit_too(tmp_path, catalogue, monkeypatch):
    """A big file is read by two processes, each checking every other batch: the limit holds."""
    monkeypatch.setattr(reading, "LIMITS", replace(reading.LIMITS, max_rows=5))
    monkeypatch.setattr(importing.jobs, "BATCH_SIZE", 2)
    monkeypatch.setattr(importing.jobs, "FORK_FROM_ROWS", 1)
    job = run(write_csv(tmp_path / "dai.csv", many_rows(12)))
    assert job.status == ImportJob.Status.REJECTED and "hơn 5 dòng" in job.message
    assert nothing_written()


def test_blank_rows_are_skipped_alike_by_one_process_and_by_two(tmp_path, catalogue, monkeypatch):
    rows = many_rows(9)
    path = tmp_path / "trong.csv"
    write_csv(path, rows)
    lines = path.read_text(encoding="utf-8").splitlines()
    # A blank line, a line of empty cells and a line of spaces among the rows.
    lines[3:3] = ["", ",,,,", " , ,"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    one = run(path)
    assert (one.status, one.total_rows, one.created_count) == (ImportJob.Status.DONE, 9, 9)
    Dossier.objects.all().delete()
    monkeypatch.setattr(importing.jobs, "BATCH_SIZE", 2)
    monkeypatch.setattr(importing.jobs, "FORK_FROM_ROWS", 1)
    two = run(path)
    assert (two.status, two.total_rows, two.created_count) == (ImportJob.Status.DONE, 9, 9)


def test_only_the_first_thousand_bad_rows_stay_in_memory(tmp_path, catalogue, monkeypatch):
    from core import uploads

    largest = []
    add = uploads.ErrorReport.add

    def watched(self, line, message):
        add(self, line, message)
        largest.append(len(self.errors))

    monkeypatch.setattr(uploads.ErrorReport, "add", watched)
    rows = [dict(r, trang_thai="x") for r in many_rows(1500)]
    job = run(write_csv(tmp_path / "sai.csv", rows))
    assert (job.status, job.error_count, len(job.errors)) == (ImportJob.Status.REJECTED, 1500, 1000)
    assert job.errors[0]["line"] == 2 and job.errors[-1]["line"] == 1001
    assert max(largest) == 1000


def test_a_job_whose_worker_died_is_marked_failed_and_can_be_started_again(
    tmp_path, catalogue, official, client_for
):
    job = importing.create_job_from_path(
        by=official, path=write_csv(tmp_path / "a.csv", [row()]), mode=ImportJob.Mode.ALL_OR_NOTHING
    )
    # A worker took it and was killed: running, its last progress 20 minutes ago.
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING,
        started_at=NOW - timedelta(minutes=21),
        heartbeat_at=NOW - timedelta(minutes=20),
    )
    alive = importing.create_job_from_path(
        by=official, path=write_csv(tmp_path / "b.csv", [row()]), mode=ImportJob.Mode.ALL_OR_NOTHING
    )
    ImportJob.objects.filter(pk=alive.pk).update(
        status=ImportJob.Status.RUNNING, started_at=NOW - timedelta(minutes=30), heartbeat_at=NOW
    )
    assert tasks.fail_stalled_imports() == 1
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and job.finished_at is not None
    assert ImportJob.objects.get(pk=alive.pk).status == ImportJob.Status.RUNNING
    client = client_for(official)
    page = client.get(reverse("dossiers:import_detail", args=[job.pk]))
    assert "Nhập lại tệp này" in page.text and "bị gián đoạn" in page.text
    response = client.post(reverse("dossiers:import_restart", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.status, job.created_count) == (ImportJob.Status.DONE, 1)


def test_only_a_failed_job_can_be_started_again(tmp_path, catalogue, official, client_for):
    job = run(write_csv(tmp_path / "a.csv", [row()]), user=official)
    client = client_for(official)
    response = client.post(reverse("dossiers:import_restart", args=[job.pk]), follow=True)
    assert "Chỉ nhập lại được" in response.text
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.DONE
    assert Dossier.objects.count() == 1


# --- #9: a code names the unit that received the dossier ---------------------------------------


def test_an_official_cannot_take_another_communes_numbering(
    tmp_path, catalogue, official, other_official, other_commune
):
    squat = row("000.02.16.H44-260302-0001")  # Đại Trạch's numbering, for the official's commune
    job = run(write_csv(tmp_path / "chiem.csv", [squat]), user=official)
    assert job.status == ImportJob.Status.REJECTED
    assert "000.02.16.H44" in job.errors[0]["message"] and "19111" in job.errors[0]["message"]
    real = row("000.02.16.H44-260302-0001", ma_don_vi="19141")
    job = run(write_csv(tmp_path / "that.csv", [real]), user=other_official)
    assert job.status == ImportJob.Status.DONE
    assert Dossier.objects.get().receiving_unit == other_commune


def test_validate_row_checks_one_dossier_as_the_import_does(catalogue, official, other_commune):
    fields = importing.validate_row(row(), user=official)
    assert fields["code"] == "000.01.16.H44-260302-0007" and fields["status"] == 10
    with pytest.raises(ValueError, match=re.escape("000.02.16.H44")):
        importing.validate_row(row("000.02.16.H44-260302-0001"), user=official)
    Dossier.objects.create(
        code="000.01.16.H44-260302-0007",
        procedure=catalogue,
        receiving_unit=other_commune,
        applicant_name="Lê Thị Hoa",
        tracking_pin="123456",
    )
    with pytest.raises(ValueError, match="đã thuộc hồ sơ của đơn vị khác"):
        importing.validate_row(row(), user=None)


# --- the weeks the import changes are marked ---------------------------------------------------


def test_the_import_marks_the_weeks_of_every_dossier_it_writes_as_it_was_and_as_it_is(tmp_path, catalogue):
    first = [
        row("000.01.16.H44-260302-0001"),
        row("000.01.16.H44-260302-0002", trang_thai="4", ngay_ket_thuc_xu_ly="", ngay_tra_ket_qua=""),
        row("000.01.16.H44-260105-0003", ngay_tiep_nhan="05/01/2026 09:00", ngay_hen_tra="07/01/2026"),
    ]
    run(write_csv(tmp_path / "a.csv", first))
    expected = set()
    for dossier in Dossier.objects.all():
        expected |= dossier_weeks(dossier)
    assert set(DirtyWeek.objects.values_list("unit_id", "week_start")) == expected
    DirtyWeek.objects.all().delete()
    before = dossier_weeks(Dossier.objects.get(code="000.01.16.H44-260105-0003"))
    changed = [first[0], first[1], dict(first[2], ngay_tiep_nhan="12/01/2026 09:00", ngay_hen_tra="")]
    job = run(write_csv(tmp_path / "b.csv", changed))
    assert (job.updated_count, job.unchanged_count) == (1, 2)
    after = dossier_weeks(Dossier.objects.get(code="000.01.16.H44-260105-0003"))
    assert set(DirtyWeek.objects.values_list("unit_id", "week_start")) == before | after

"""Import of provincial exports: good, bad, duplicate and garbage files leave the database right."""

from __future__ import annotations

import csv
import os
from datetime import date
from io import StringIO

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from dossiers import importing
from dossiers.models import Dossier, DossierCodeSequence, DossierEvent, ImportJob, Status
from dossiers.services import next_dossier_code

from .conftest import at

NOW = at(2026, 3, 4, 10)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def row(code="000.01.16.H44-260302-0007", **overrides):
    values = {
        "ma_ho_so": code,
        "ma_thu_tuc": "1.001193",
        "ma_don_vi": "19111",
        "ho_ten_nguoi_nop": "Trần Văn Bình",
        "so_dien_thoai": "0912345678",
        "dia_chi": "Thôn 3",
        "so_dinh_danh": "044090001234",
        "kenh_tiep_nhan": "1",
        "hinh_thuc_tra_ket_qua": "bcci",
        "ly_do_khong_nhan_qua_bcci": "",
        "ghi_chu_ly_do": "",
        "trang_thai": "10",
        "ngay_tiep_nhan": "02/03/2026 09:15",
        "ngay_hen_tra": "",
        "ngay_ket_thuc_xu_ly": "03/03/2026 10:00",
        "ngay_tra_ket_qua": "04/03/2026 08:00",
    }
    values.update(overrides)
    return values


def write_csv(path, rows, *, columns=None, delimiter=",", encoding="utf-8"):
    columns = columns or importing.COLUMNS
    buffer = StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, delimiter=delimiter, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def run(path, *, user=None, mode=ImportJob.Mode.ALL_OR_NOTHING):
    job = importing.create_job_from_path(by=user, path=path, mode=mode)
    return importing.run_import(job.pk)


@pytest.fixture
def catalogue(birth_registration, commune, other_commune):
    return birth_registration


def test_good_file_creates_dossiers_with_events_and_bumps_the_sequence(
    tmp_path, catalogue, official, commune
):
    path = write_csv(
        tmp_path / "good.csv",
        [
            row(),
            row(
                "000.01.16.H44-260302-0008",
                trang_thai="4",
                ngay_ket_thuc_xu_ly="",
                ngay_tra_ket_qua="",
                hinh_thuc_tra_ket_qua="tai_quay",
                ly_do_khong_nhan_qua_bcci="worried_papers",
            ),
            row(
                "000.01.16.H44-260303-0001",
                trang_thai="1",
                kenh_tiep_nhan="3",
                ngay_tiep_nhan="",
                ngay_ket_thuc_xu_ly="",
                ngay_tra_ket_qua="",
            ),
        ],
    )
    job = run(path, user=official)
    assert (job.status, job.created_count, job.error_count) == (ImportJob.Status.DONE, 3, 0), job.errors
    returned = Dossier.objects.get(code="000.01.16.H44-260302-0007")
    assert returned.status == Status.RETURNED
    assert returned.due_date == date(2026, 3, 5)  # Mon 2/3 + 3 working days
    assert returned.timeliness == "early"
    assert returned.finished_at == at(2026, 3, 3, 10) and len(returned.tracking_pin) == 6
    waiting = Dossier.objects.get(code="000.01.16.H44-260303-0001")
    assert waiting.status == Status.REGISTERED and waiting.received_at is None and waiting.due_date is None
    assert DossierEvent.objects.filter(action="dossier.imported").count() == 3
    # The desk continues after the imported numbers, never reusing them.
    assert DossierCodeSequence.objects.get(unit=commune, day=date(2026, 3, 2)).last_number == 8
    assert next_dossier_code(unit=commune, day=date(2026, 3, 2)).endswith("-0009")


def test_reimporting_the_same_file_creates_no_duplicates(tmp_path, catalogue, official):
    path = write_csv(tmp_path / "twice.csv", [row(), row("000.01.16.H44-260302-0008")])
    run(path, user=official)
    again = run(path, user=official)
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 2)
    assert Dossier.objects.count() == 2
    assert DossierEvent.objects.count() == 2


def test_changed_rows_update_the_dossier_and_record_what_changed(tmp_path, catalogue, official):
    run(write_csv(tmp_path / "a.csv", [row(trang_thai="9", ngay_tra_ket_qua="")]), user=official)
    job = run(write_csv(tmp_path / "b.csv", [row()]), user=official)
    assert (job.created_count, job.updated_count) == (0, 1)
    dossier = Dossier.objects.get()
    assert dossier.status == Status.RETURNED and dossier.version == 2
    event = dossier.events.get(action="dossier.import_updated")
    assert set(event.details["fields"]) == {"status", "returned_at"}


def test_an_earlier_due_date_lowers_the_original_one_and_a_later_keeps_it(tmp_path, catalogue, official):
    run(write_csv(tmp_path / "a.csv", [row(ngay_hen_tra="06/03/2026")]), user=official)
    run(write_csv(tmp_path / "b.csv", [row(ngay_hen_tra="09/03/2026")]), user=official)
    later = Dossier.objects.get()
    assert (later.due_date, later.original_due_date) == (date(2026, 3, 9), date(2026, 3, 6))
    job = run(write_csv(tmp_path / "c.csv", [row(ngay_hen_tra="05/03/2026")]), user=official)
    earlier = Dossier.objects.get()
    assert (earlier.due_date, earlier.original_due_date, earlier.version) == (date(2026, 3, 5),) * 2 + (3,)
    assert job.updated_count == 1
    assert earlier.events.filter(action="dossier.import_updated").last().details["fields"] == ["due_date"]


def test_a_code_taken_by_another_unit_after_the_check_is_left_alone(
    tmp_path, catalogue, official, other_commune, birth_registration, monkeypatch
):
    taken = []

    def take_then_write(write):
        def wrapper(self, now):
            # Another unit's dossier gets the code between the check and the writing.
            taken.append(
                Dossier.objects.create(
                    code="000.01.16.H44-260302-0008",
                    procedure=birth_registration,
                    receiving_unit=other_commune,
                    applicant_name="Lê Thị Hoa",
                    tracking_pin="123456",
                    status=Status.ACCEPTED,
                    received_at=at(2026, 3, 2, 8),
                )
            )
            return write(self, now)

        return wrapper

    for stage in (importing.PortableStage, importing.PostgresStage):
        monkeypatch.setattr(stage, "write", take_then_write(stage.write))
    path = write_csv(tmp_path / "race.csv", [row(), row("000.01.16.H44-260302-0008")])
    job = run(path, user=official)
    assert (job.status, job.created_count, job.updated_count, job.unchanged_count) == (
        ImportJob.Status.DONE,
        1,
        0,
        0,
    )
    [dossier] = taken
    dossier.refresh_from_db()
    assert (dossier.receiving_unit, dossier.applicant_name) == (other_commune, "Lê Thị Hoa")
    assert dossier.version == 1
    assert not dossier.events.exists()


BAD_ROWS = [
    (row(ma_thu_tuc="9.999999"), "không có trong danh mục"),
    (row(so_dien_thoai="12345"), "Số điện thoại"),
    (row(so_dinh_danh="04409000"), "12 chữ số"),
    (row(ngay_tiep_nhan="03-02-2026"), "không phải ngày"),
    (row(ngay_tiep_nhan="2026/13/01"), "không phải ngày"),
    (row(trang_thai="11"), "trang_thai"),
    (row(kenh_tiep_nhan="9"), "kenh_tiep_nhan"),
    (row(ma_ho_so="ABC"), "không đúng dạng mã hồ sơ"),
    (row(ma_don_vi="19141"), None),  # fine for the command, outside the official's scope
    (
        row(ngay_tiep_nhan="05/03/2026 09:00", ngay_ket_thuc_xu_ly="", trang_thai="2", ngay_tra_ket_qua=""),
        "tương lai",
    ),
    (row(ngay_tra_ket_qua=""), "ngay_tra_ket_qua"),
    (row(ngay_ket_thuc_xu_ly="01/03/2026 10:00"), "trước ngay_tiep_nhan"),
    (row(hinh_thuc_tra_ket_qua="tai_quay"), "Ghi lý do"),
]


@pytest.mark.parametrize(("bad", "message"), [pair for pair in BAD_ROWS if pair[1]])
def test_a_bad_row_rejects_the_whole_file_with_line_and_reason(tmp_path, catalogue, official, bad, message):
    bad = dict(bad, ma_ho_so=bad["ma_ho_so"] if bad["ma_ho_so"] == "ABC" else "000.01.16.H44-260302-0099")
    path = write_csv(tmp_path / "bad.csv", [row(), bad])
    job = run(path, user=official)
    assert job.status == ImportJob.Status.REJECTED
    assert job.error_count == 1
    assert job.errors[0]["line"] == 3
    assert message.lower() in job.errors[0]["message"].lower(), job.errors
    assert "chưa nhập hồ sơ nào" in job.message
    assert not Dossier.objects.exists() and not DossierEvent.objects.exists()


def test_another_communes_rows_are_refused_for_an_official(tmp_path, catalogue, official):
    job = run(write_csv(tmp_path / "x.csv", [row(ma_don_vi="19141")]), user=official)
    assert job.status == ImportJob.Status.REJECTED and "19141" in job.errors[0]["message"]
    assert not Dossier.objects.exists()


def test_good_rows_only_imports_the_good_and_reports_the_bad(tmp_path, catalogue, official):
    path = write_csv(
        tmp_path / "mixed.csv",
        [row(), row("000.01.16.H44-260302-0008", so_dinh_danh="12"), row("000.01.16.H44-260302-0009")],
    )
    job = run(path, user=official, mode=ImportJob.Mode.GOOD_ROWS)
    assert job.status == ImportJob.Status.DONE
    assert (job.created_count, job.error_count) == (2, 1)
    assert job.errors[0]["line"] == 3
    assert set(Dossier.objects.values_list("code", flat=True)) == {
        "000.01.16.H44-260302-0007",
        "000.01.16.H44-260302-0009",
    }


def test_a_code_twice_in_one_file_is_a_bad_row(tmp_path, catalogue, official):
    job = run(write_csv(tmp_path / "dup.csv", [row(), row()]), user=official)
    assert job.status == ImportJob.Status.REJECTED
    assert job.errors == [
        {"line": 3, "message": "ma_ho_so 000.01.16.H44-260302-0007 xuất hiện hai lần trong tệp."}
    ]


def test_semicolons_bom_and_iso_dates_are_read(tmp_path, catalogue, official):
    path = write_csv(
        tmp_path / "semi.csv",
        [
            row(
                ngay_tiep_nhan="2026-03-02T09:15:00",
                ngay_ket_thuc_xu_ly="2026-03-03",
                ngay_tra_ket_qua="04/03/2026",
            )
        ],
        delimiter=";",
        encoding="utf-8-sig",
    )
    job = run(path, user=official)
    assert job.status == ImportJob.Status.DONE, job.errors
    assert Dossier.objects.get().received_at == at(2026, 3, 2, 9, 15)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"ma_ho_so,ten\n1,2\n", "thiếu cột"),
        (",".join(importing.COLUMNS).encode() + b"\n", "không có dữ liệu"),
        (b"", "Tệp không có dữ liệu"),
        # Windows-1258 (Vietnamese ANSI): "Trần" as T r â + combining grave accent.
        (
            (",".join(importing.COLUMNS) + "\n").encode()
            + b"000.01.16.H44-260302-0007,1.001193,19111,Tr\xe2\xccn\n",
            "UTF-8",
        ),
        ((",".join(importing.COLUMNS) + "\nTrần,Lê\n").encode("utf-16"), "UTF-8"),
        ((",".join(importing.COLUMNS) + "\nTrần,Lê\n").encode("utf-16-le"), "UTF-8"),
        (b"h\xf2o t\xean;s\xf4\n", "UTF-8"),
        (b"PK\x03\x04" + b"\x00garbage" * 100, "Excel"),
        (os.urandom(200_000), None),
    ],
    ids=[
        "wrong-columns",
        "no-rows",
        "empty",
        "cp1258-row",
        "utf16",
        "utf16-no-bom",
        "cp1258-header",
        "bad-xlsx",
        "random",
    ],
)
def test_unreadable_files_are_rejected_with_a_clear_message(tmp_path, catalogue, official, content, message):
    path = tmp_path / "file.csv"
    path.write_bytes(content)
    job = run(path, user=official)
    assert job.status == ImportJob.Status.REJECTED
    assert job.message
    if message:
        assert message in job.message, job.message
    assert not Dossier.objects.exists()


def test_fifty_megabytes_of_garbage_are_rejected_quickly(tmp_path, catalogue, official):
    path = tmp_path / "garbage.bin"
    with path.open("wb") as handle:
        for _ in range(50):
            handle.write(os.urandom(1024 * 1024))
    job = run(path, user=official)
    assert job.status == ImportJob.Status.REJECTED and job.message
    assert not Dossier.objects.exists()


def test_too_large_a_file_is_refused(tmp_path, catalogue, official, monkeypatch):
    monkeypatch.setattr(importing.reading, "MAX_FILE_BYTES", 100)
    job = run(write_csv(tmp_path / "big.csv", [row()]), user=official)
    assert job.status == ImportJob.Status.REJECTED and "MB" in job.message


def test_xlsx_with_excel_numbers_and_dates(tmp_path, catalogue, official):
    from datetime import datetime

    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(importing.COLUMNS)
    values = row(
        so_dien_thoai=912345678,  # Excel dropped the leading 0
        so_dinh_danh=44090001234,
        kenh_tiep_nhan=1,
        trang_thai=10,
        ngay_tiep_nhan=datetime(2026, 3, 2, 9, 15),
        ngay_ket_thuc_xu_ly=datetime(2026, 3, 3, 10, 0),
        ngay_tra_ket_qua=datetime(2026, 3, 4, 8, 0),
    )
    sheet.append([values[name] for name in importing.COLUMNS])
    path = tmp_path / "export.xlsx"
    workbook.save(path)
    job = run(path, user=official)
    assert job.status == ImportJob.Status.DONE, job.errors
    dossier = Dossier.objects.get()
    assert (dossier.applicant_phone, dossier.applicant_id_number) == ("0912345678", "044090001234")


def test_command_imports_and_reports(tmp_path, catalogue):
    good = write_csv(tmp_path / "good.csv", [row(), row("000.02.16.H44-260302-0008", ma_don_vi="19141")])
    out = StringIO()
    call_command("import_dossiers", str(good), stdout=out)
    assert "2 created" in out.getvalue()
    bad = write_csv(tmp_path / "bad.csv", [row("000.01.16.H44-260302-0009", trang_thai="x")])
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_dossiers", str(bad), stderr=err)
    assert "line 2:" in err.getvalue()
    assert Dossier.objects.count() == 2


def test_identity_numbers_stay_out_of_import_reports(tmp_path, catalogue, official):
    job = run(write_csv(tmp_path / "id.csv", [row(so_dinh_danh="04409000123X")]), user=official)
    assert "04409000123X" not in str(job.errors)


# --- upload page -----------------------------------------------------------------------------


def upload(name, rows):
    buffer = StringIO()
    writer = csv.DictWriter(buffer, fieldnames=importing.COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode(), content_type="text/csv")


def test_official_uploads_a_small_file_and_sees_the_result(client_for, official, catalogue):
    client = client_for(official)
    response = client.post(
        reverse("dossiers:import_upload"), {"file": upload("a.csv", [row()]), "mode": "all"}
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "dossiers:import_detail", args=[job.pk]
    )
    page = client.get(response["Location"])
    assert "Đã nhập" in page.text and Dossier.objects.count() == 1
    fragment = client.get(reverse("dossiers:import_status", args=[job.pk]))
    assert 'value="100"' in fragment.text and "hx-trigger" not in fragment.text


def test_large_upload_is_queued_after_commit_and_the_task_imports_it(
    client_for, official, catalogue, monkeypatch, django_capture_on_commit_callbacks
):
    from dossiers import tasks

    monkeypatch.setattr(importing, "INLINE_IMPORT_BYTES", 10)
    queued = []
    monkeypatch.setattr(tasks.run_import, "delay", lambda job_id: queued.append(job_id))
    client = client_for(official)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("dossiers:import_upload"), {"file": upload("b.csv", [row()]), "mode": "all"})
    job = ImportJob.objects.get()
    assert queued == [job.pk] and job.status == ImportJob.Status.PENDING
    pending = client.get(reverse("dossiers:import_status", args=[job.pk]))
    assert "every 1s" in pending.text  # the page keeps polling
    tasks.run_import(job.pk)  # what the worker runs
    tasks.run_import(job.pk)  # delivered twice (acks_late): nothing more happens
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and Dossier.objects.count() == 1
    assert "every 1s" not in client.get(reverse("dossiers:import_status", args=[job.pk])).text


def test_with_the_broker_down_the_import_waits_and_runs_once_it_is_back(
    client_for, official, catalogue, monkeypatch, django_capture_on_commit_callbacks
):
    from dossiers import tasks

    def broker_down(job_id):
        raise ConnectionError("redis down")

    monkeypatch.setattr(importing, "INLINE_IMPORT_BYTES", 10)
    monkeypatch.setattr(tasks.run_import, "delay", broker_down)
    client = client_for(official)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("dossiers:import_upload"), {"file": upload("c.csv", [row()]), "mode": "all"}
        )
    assert response.status_code == 302  # no server error
    job = ImportJob.objects.get()
    assert (job.status, job.phase) == (ImportJob.Status.PENDING, tasks.WAITING_FOR_QUEUE)
    assert "chờ hệ thống xử lý nền" in client.get(reverse("dossiers:import_detail", args=[job.pk])).text
    assert not Dossier.objects.exists()
    # Still down: the periodic task leaves it waiting.
    assert tasks.resend_deferred_imports() == 0
    assert ImportJob.objects.get().phase == tasks.WAITING_FOR_QUEUE
    # The broker is back (tasks run in-process here, even when CI configures Redis): the
    # periodic task sends it and it runs.
    from config.celery import app

    monkeypatch.undo()
    monkeypatch.setattr(importing, "INLINE_IMPORT_BYTES", 10)
    previous, app.conf.task_always_eager = app.conf.task_always_eager, True
    try:
        assert tasks.resend_deferred_imports() == 1
    finally:
        app.conf.task_always_eager = previous
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert Dossier.objects.count() == 1


def test_import_pages_by_role_and_owner(client_for, official, other_official, leader, catalogue):
    job = importing.create_job(by=official, uploaded_file=upload("c.csv", [row()]), mode="all")
    assert client_for(leader).get(reverse("dossiers:import_upload")).status_code == 403
    assert client_for(other_official).get(reverse("dossiers:import_detail", args=[job.pk])).status_code == 404
    assert client_for(other_official).get(reverse("dossiers:import_status", args=[job.pk])).status_code == 404


# --- a big file, checked by two processes ---------------------------------------------------


@pytest.fixture
def small_batches(monkeypatch):
    """The checking helper for a file of a few dozen rows: batches of 3, a helper from 1 row;
    ``os.fork`` counted."""
    monkeypatch.setattr(importing.jobs, "BATCH_SIZE", 3)
    monkeypatch.setattr(importing.jobs, "FORK_FROM_ROWS", 1)
    forks = []
    real_fork = os.fork

    def fork():
        forks.append(os.getpid())
        return real_fork()

    monkeypatch.setattr(importing.jobs.os, "fork", fork)
    return forks


def codes(count):
    return [f"000.01.16.H44-260302-{number:04d}" for number in range(7, 7 + count)]


def test_a_big_file_is_checked_by_two_processes_and_reported_as_by_one(
    tmp_path, catalogue, official, small_batches
):
    rows = [row(code) for code in codes(30)]
    bad = (1, 4, 7, 11, 16, 25)  # in batches of this process and of the helper (half of them)
    for index in bad:
        rows[index]["so_dien_thoai"] = "12345"
    rows[20]["ma_ho_so"] = rows[3]["ma_ho_so"]  # repeated: line 23 repeats line 5
    job = run(write_csv(tmp_path / "big.csv", rows), user=official, mode=ImportJob.Mode.GOOD_ROWS)

    assert small_batches, "the helper process was started"
    assert (job.status, job.total_rows, job.created_count, job.error_count) == (
        ImportJob.Status.DONE,
        30,
        23,
        7,
    )
    assert [error["line"] for error in job.errors] == sorted([index + 2 for index in bad] + [22])
    assert all("Số điện thoại" in error["message"] for error in job.errors if error["line"] != 22)
    expected = {rows[n]["ma_ho_so"] for n in range(30) if n not in bad and n != 20}
    assert set(Dossier.objects.values_list("code", flat=True)) == expected
    assert DossierEvent.objects.filter(action="dossier.imported").count() == 23


def test_the_checking_helper_reads_no_database(
    tmp_path, catalogue, official, province, small_batches, monkeypatch
):
    """What the checks read (a unit's province, its calendar) is read before the fork: a helper
    that had to query would share this process's connection. Forgotten, the job fails whole."""
    from dossiers.models import CalendarOverride

    CalendarOverride.objects.create(province=province, date=date(2026, 3, 5), kind="day_off", reason="Bão")
    monkeypatch.setattr(importing.Catalogue, "prepare", lambda self: None)
    rows = [row(code, trang_thai="4", ngay_ket_thuc_xu_ly="", ngay_tra_ket_qua="") for code in codes(12)]
    job = run(write_csv(tmp_path / "big.csv", rows), user=official)

    assert small_batches
    assert job.status == ImportJob.Status.FAILED
    assert not Dossier.objects.exists()


def test_backslashes_in_cells_are_stored_as_written_by_either_process(
    tmp_path, catalogue, official, small_batches
):
    """The rows go to the database as COPY text written by whichever process checked them: a
    backslash (COPY's escape character) must arrive as it was typed."""
    rows = [
        row(code, dia_chi=f"Thôn 3\\Xóm {n}", ho_ten_nguoi_nop="Lê Thị \\N")
        for n, code in enumerate(codes(9))
    ]
    job = run(write_csv(tmp_path / "slashes.csv", rows), user=official)

    assert small_batches
    assert (job.status, job.created_count) == (ImportJob.Status.DONE, 9)
    stored = dict(Dossier.objects.values_list("code", "applicant_address"))
    assert stored == {code: f"Thôn 3\\Xóm {n}" for n, code in enumerate(codes(9))}
    assert set(Dossier.objects.values_list("applicant_name", flat=True)) == {"Lê Thị \\N"}


def test_copy_lines_escape_what_copy_would_read_otherwise():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from dossiers.importing.writing_postgres import copy_line

    moment = datetime(2026, 3, 2, 9, 15, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    assert copy_line([7, "Thôn 3", None, date(2026, 3, 2), moment, Status.RETURNED, True]) == (
        "7\tThôn 3\t\\N\t2026-03-02\t2026-03-02T09:15:00+07:00\t10\tt"
    )
    assert copy_line(["a\tb", "c\\d", "e\nf\rg", None]) == "a\\tb\tc\\\\d\te\\nf\\rg\t\\N"

"""A commune official imports a provincial export: a file with a bad row is refused whole and
says why; an import whose worker died is started again from its page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from dossiers import importing
from dossiers.models import Dossier, ImportJob, Procedure
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HEADER = ",".join(importing.COLUMNS)


def line(code: str, name: str = "Trần Văn Bình") -> str:
    values = {
        "ma_ho_so": code,
        "ma_thu_tuc": "1.001193",
        "ma_don_vi": "19111",
        "ho_ten_nguoi_nop": name,
        "so_dien_thoai": "0912345678",
        "dia_chi": "Thôn 3",
        "kenh_tiep_nhan": "1",
        "hinh_thuc_tra_ket_qua": "bcci",
        "trang_thai": "4",
        "ngay_tiep_nhan": "02/03/2026 09:15",
    }
    return ",".join(values.get(column, "") for column in importing.COLUMNS)


@pytest.fixture
def procedure(transactional_db):
    from dossiers.models import ProcedureField

    field = ProcedureField.objects.create(code="hotich", name="Hộ tịch")
    return Procedure.objects.create(
        national_code="1.001193", name="Đăng ký khai sinh", field=field, processing_days=3
    )


def test_a_file_with_a_bad_row_is_refused_whole_and_a_died_import_is_started_again(
    page, official, commune, other_commune, procedure, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    log_in(page, "canbo", PASSWORD)
    page.goto("/dossiers/imports/")
    # The second row is in Đại Trạch's numbering: the whole file is refused, line and reason shown.
    bad = tmp_path / "ho-so.csv"
    bad.write_text(
        "\n".join([HEADER, line("000.01.16.H44-260302-0001"), line("000.02.16.H44-260302-0002")]),
        encoding="utf-8",
    )
    page.get_by_label("Tệp (CSV hoặc XLSX)").set_input_files(str(bad))
    page.get_by_role("button", name="Nhập dữ liệu").click()
    errors = page.get_by_test_id("import-errors")
    expect(errors).to_contain_text("000.02.16.H44")
    expect(errors.locator("td").first).to_have_text("3")
    assert not Dossier.objects.exists()

    # A good file whose worker died: marked failed by the periodic task, started again here.
    good = tmp_path / "ho-so-2.csv"
    good.write_text("\n".join([HEADER, line("000.01.16.H44-260302-0001")]), encoding="utf-8")
    job = importing.create_job_from_path(by=official, path=good, mode=ImportJob.Mode.ALL_OR_NOTHING)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, heartbeat_at=timezone.now() - timedelta(minutes=20)
    )
    assert importing.fail_stalled_jobs() == 1
    page.goto(f"/dossiers/imports/{job.pk}/")
    expect(page.get_by_test_id("import-status")).to_contain_text("bị gián đoạn")
    page.get_by_test_id("restart-import").click()
    expect(page.get_by_test_id("created-count")).to_have_text("1")
    assert Dossier.objects.get().code == "000.01.16.H44-260302-0001"

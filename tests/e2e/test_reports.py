"""A leader opens the dashboard, changes the period, reads the ranking and exports the XLSX."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.utils import timezone

from dossiers.models import Dossier, Procedure, ProcedureField
from reports.models import Target
from reports.services.aggregation import compute_weeks
from reports.weeks import week_label, week_of
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in
from tests.reports.conftest import dossier

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def last_week_figures(district, commune, other_commune):
    """Last week: Hoàn Lão returned 2 of 4 results by post, Bố Trạch 3 of 4."""
    field = ProcedureField.objects.create(code="HT", name="Hộ tịch")
    procedure = Procedure.objects.create(
        national_code="1.001193", name="Đăng ký khai sinh", field=field, processing_days=3
    )
    last_monday = week_of(timezone.now()) - timedelta(weeks=1)
    at = timezone.now() - timedelta(weeks=1)
    done = {"status": 10, "finished_at": at, "returned_at": at, "timeliness": "on_time", "received_at": at}
    Dossier.objects.bulk_create(
        [dossier(procedure, commune, return_channel="bcci", **done) for _ in range(2)]
        + [dossier(procedure, commune, decline_reason="worried_papers", **done) for _ in range(2)]
        + [dossier(procedure, other_commune, return_channel="bcci", **done) for _ in range(3)]
        + [dossier(procedure, other_commune, decline_reason="fee", **done)]
    )
    Target.objects.create(
        unit=district, year=last_monday.isocalendar()[0], metric="bcci_return_rate", value=30
    )
    compute_weeks(mondays=[last_monday, last_monday + timedelta(weeks=1)])
    return last_monday


def test_leader_reads_the_dashboard_and_exports_the_weekly_xlsx(page, leader, last_week_figures, tmp_path):
    log_in(page, "lanhdao", PASSWORD)
    page.get_by_role("link", name="Bảng điều hành").first.click()
    page.get_by_role("heading", name="Bảng điều hành: Huyện Bố Trạch (cũ)").wait_for()
    assert page.get_by_test_id("computed-at").inner_text().strip().startswith("Số liệu tính lúc")

    # Change the period to last week with the "previous week" button, and back with the list.
    page.get_by_role("link", name="Tuần trước").click()
    page.wait_for_url(f"**week={week_label(last_week_figures)}**")
    assert page.get_by_test_id("week-bcci_return_rate").inner_text() == "62,5 %"  # 5 of 8
    year, number, _ = last_week_figures.isocalendar()
    assert f"Tuần {number}/{year} ({last_week_figures:%d/%m}–" in page.get_by_test_id("period").inner_text()
    this_week = last_week_figures + timedelta(weeks=1)
    page.get_by_label("Tuần", exact=True).select_option(week_label(this_week))
    page.get_by_role("button", name="Xem").click()
    page.wait_for_url(f"**week={week_label(this_week)}**")
    page.get_by_role("link", name="Tuần trước").click()
    page.wait_for_url(f"**week={week_label(last_week_figures)}**")

    # The ranking: Bố Trạch (75 %) before Hoàn Lão (50 %).
    ranking = page.locator("#ranking tbody tr")
    assert ranking.count() == 2
    assert "Xã Bố Trạch" in ranking.nth(0).inner_text()
    assert "75,0 %" in ranking.nth(0).inner_text()
    assert "Xã Hoàn Lão" in ranking.nth(1).inner_text()
    assert "Lo ngại giao giấy tờ cho bưu điện" in page.locator("#declines").inner_text()
    assert page.locator("#trend-chart").is_visible()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Báo cáo tuần (XLSX)").click()
    path = tmp_path / "bao-cao.xlsx"
    download_info.value.save_as(path)
    sheet = openpyxl.load_workbook(path).active
    headers = [cell.value for cell in sheet[6]]
    rate = headers.index("Tỷ lệ trả kết quả qua BCCI (%)")
    lines = {row[1]: row for row in sheet.iter_rows(min_row=7, values_only=True)}
    assert lines["Xã Bố Trạch"][headers.index("Trả kết quả qua BCCI")] == 3
    assert lines["Xã Bố Trạch"][rate] == pytest.approx(0.75)
    total = lines["Tổng cộng: Huyện Bố Trạch (cũ)"]
    assert total[headers.index("Trả kết quả")] == 8
    assert total[rate] == pytest.approx(0.625)
    assert Decimal(str(total[rate + 1])) == Decimal("0.3")  # the target
    assert total[rate + 2] == pytest.approx(32.5)  # points above it

    # The link to the task-transfer page works.
    page.locator("#related-pages").get_by_role("link", name="Chuyển giao nhiệm vụ").click()
    page.wait_for_url("**/transfers/")
    assert page.locator("h1").first.is_visible()


@pytest.fixture
def embedded_default():
    """Tasks run in-process, as with no broker configured (CI configures one)."""
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


def test_a_new_dossier_reaches_the_leaders_dashboard_within_a_minute(
    page, leader, official, commune, settings, embedded_default
):
    """The embedded default (no worker): the desk logs a dossier, the leader reloads."""
    from dossiers.services import Intake, create_dossier

    settings.REPORTS_REFRESH_DELAY = 2
    field = ProcedureField.objects.create(code="HT", name="Hộ tịch")
    procedure = Procedure.objects.create(
        national_code="1.001193", name="Đăng ký khai sinh", field=field, processing_days=3
    )
    log_in(page, "lanhdao", PASSWORD)
    page.get_by_role("link", name="Bảng điều hành").first.click()
    assert page.get_by_test_id("week-online_rate").inner_text() == "—"
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
        ),
    )
    page.wait_for_timeout(2500)
    page.reload()
    assert page.get_by_test_id("week-online_rate").inner_text() == "100,0 %"
    assert page.get_by_test_id("computed-at").get_attribute("data-state") == "fresh"

"""A commune official's day with one dossier, and the citizen who looks it up afterwards."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from dossiers.models import Dossier, Status
from tests.conftest import PASSWORD
from tests.e2e.conftest import PROCEDURE, do_step, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_official_logs_a_dossier_through_to_the_result_and_the_citizen_tracks_it(
    page, browser, live_server, official, catalogue
):
    urls = []
    page.on("request", lambda request: urls.append(request.url))
    log_in(page, "canbo", PASSWORD)
    page.get_by_role("link", name="Tiếp nhận hồ sơ mới").first.click()
    expect(page.get_by_role("heading", name="Tiếp nhận hồ sơ mới")).to_be_visible()
    # A click returns once the new page commits; htmx wires the procedure picker only when the
    # page has loaded, so a choice made before that would reach no listener.
    page.wait_for_load_state("load")

    # The procedure fills the document list and shows the appointment date before saving.
    page.get_by_label("Thủ tục").select_option(label=PROCEDURE)
    first_document = page.locator("#document-rows input[name$='-name']").first
    expect(first_document).to_have_value("Tờ khai cấp Giấy xác nhận tình trạng hôn nhân")
    expect(page.get_by_test_id("due-date")).to_have_text(re.compile(r"\d{2}/\d{2}/\d{4}"))

    page.get_by_label("Họ tên người nộp").fill("Phan Thị Hồng")
    page.get_by_label("Số điện thoại").fill("0905123456")
    page.get_by_label("Số định danh cá nhân (CCCD)").fill("044195001122")
    page.get_by_label("Địa chỉ").fill("Thôn Tây, Xã Hoàn Lão")
    page.locator("#document-rows select[name$='-form']").nth(1).select_option(label="Bản sao")
    page.get_by_role("button", name="Thêm giấy tờ").click()
    page.locator("#document-rows input[name$='-name']").last.fill("Giấy ủy quyền")
    page.get_by_label("Tại Bộ phận Một cửa").check()
    page.get_by_label("Lý do không nhận kết quả qua bưu điện").select_option(
        label="Lo ngại giao giấy tờ cho bưu điện"
    )
    page.get_by_role("button", name="Lưu hồ sơ").click()

    code = page.get_by_test_id("dossier-code").inner_text()
    assert re.fullmatch(r"000\.01\.16\.H44-\d{6}-0001", code)
    expect(page.get_by_test_id("status")).to_have_text("Được tiếp nhận")
    expect(page.get_by_test_id("masked-id")).to_have_text("0441******22")
    expect(page.get_by_text("Giấy ủy quyền")).to_be_visible()

    # The receipt (Form 01) with the QR code and the PIN for the citizen.
    page.get_by_role("link", name="In Giấy tiếp nhận").click()
    expect(page.get_by_role("heading", name="GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ")).to_be_visible()
    expect(page.get_by_test_id("receipt-code")).to_have_text(code)
    assert page.locator(".qr svg").count() == 1
    pin = page.get_by_test_id("receipt-pin").inner_text()
    assert re.fullmatch(r"\d{6}", pin)
    pdf = page.request.get(page.get_by_role("link", name="Tải PDF").get_attribute("href"))
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    page.get_by_role("link", name="Quay lại hồ sơ").click()

    # Supplement requested, then completed: the deadline starts again.
    do_step(page, "Yêu cầu bổ sung", **{"Giấy tờ cần bổ sung": "Bản sao Giấy khai sinh"})
    expect(page.get_by_test_id("status")).to_have_text("Yêu cầu bổ sung giấy tờ")
    do_step(page, "Đã bổ sung đủ")
    expect(page.get_by_test_id("status")).to_have_text("Đang xử lý")
    do_step(page, "Đã xử lý xong")
    expect(page.get_by_test_id("status")).to_have_text("Đã xử lý xong")
    expect(page.get_by_test_id("timeliness")).to_have_text("Trước hạn")
    do_step(page, "Trả kết quả")
    expect(page.get_by_test_id("status")).to_have_text("Đã trả kết quả")
    timeline = page.get_by_test_id("timeline")
    for step in (
        "Được tiếp nhận",
        "Yêu cầu bổ sung giấy tờ",
        "Đang xử lý",
        "Đã xử lý xong",
        "Đã trả kết quả",
    ):
        expect(timeline).to_contain_text(step)

    assert not [url for url in urls if "044195001122" in url or "0905123456" in url]  # never in a URL
    dossier = Dossier.objects.get(code=code)
    assert dossier.status == Status.RETURNED and dossier.decline_reason == "worried_papers"
    assert dossier.documents.count() == 3

    # A citizen, not logged in, finds it with the code and the PIN from the receipt.
    citizen = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", base_url=live_server.url)
    public = citizen.new_page()
    public.goto("/track/")
    public.get_by_label("Mã hồ sơ").fill(code)
    public.get_by_label("Mã tra cứu").fill(pin)
    public.get_by_role("button", name="Tra cứu").click()
    expect(public.get_by_test_id("track-status")).to_have_text("Đã trả kết quả")
    expect(public.get_by_test_id("track-result")).not_to_contain_text("Phan Thị Hồng")
    citizen.close()


def test_bad_phone_keeps_everything_typed(page, official, catalogue):
    log_in(page, "canbo", PASSWORD)
    page.goto("/dossiers/new/")
    page.get_by_label("Thủ tục").select_option(label=PROCEDURE)
    expect(page.locator("#document-rows input[name$='-name']").first).not_to_have_value("")
    page.get_by_label("Họ tên người nộp").fill("Võ Văn Sai")
    page.get_by_label("Số điện thoại").fill("12345")
    page.get_by_label("Qua dịch vụ bưu chính công ích").last.check()
    page.get_by_role("button", name="Lưu hồ sơ").click()
    expect(page.get_by_text("Số điện thoại phải có 10 hoặc 11 chữ số")).to_be_visible()
    expect(page.get_by_label("Họ tên người nộp")).to_have_value("Võ Văn Sai")
    assert not Dossier.objects.exists()

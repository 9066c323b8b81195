"""The desk journey joined up on one dossier page: the official logs a dossier whose result goes
by post, asks for a supplement (Form 02), finishes it and hands it to the post from the dossier
page; the postal employee delivers it on a phone; the official sees it delivered; the citizen
scans the receipt's QR code and reads the delivery in plain words.

Set POSTDESK_SCREENSHOTS to a folder to keep the pages the docs show (docs/img/)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from dossiers.models import Dossier, Status
from postal.models import Handover, ItemStatus, PostalItem
from tests.conftest import PASSWORD
from tests.e2e.conftest import PROCEDURE, do_step, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def shoot(page, name: str) -> None:
    folder = os.environ.get("POSTDESK_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


class Clicks:
    """Counts the clicks the official makes (buttons, links, boxes) on the page."""

    def __init__(self, page):
        self.count = 0
        page.expose_function("countClick", self._add)
        page.add_init_script(
            "document.addEventListener('click', function (e) {"
            " if (e.isTrusted) window.countClick(); }, true);"
        )

    def _add(self):
        self.count += 1


def test_a_result_by_post_from_intake_to_the_citizens_door(
    browser, page, phone_page, live_server, official, postal_staff, post_office, desk, catalogue
):
    clicks = Clicks(page)
    log_in(page, official.username, PASSWORD)
    page.goto("/dossiers/new/")
    page.get_by_label("Thủ tục").select_option(label=PROCEDURE)
    expect(page.locator("#document-rows input[name$='-name']").first).not_to_have_value("")
    page.get_by_label("Họ tên người nộp").fill("Nguyễn Văn An")
    page.get_by_label("Số điện thoại").fill("0905123456")
    page.get_by_label("Qua dịch vụ bưu chính công ích").last.check()

    # The result goes by post: without a delivery address the dossier is not saved.
    page.get_by_role("button", name="Lưu hồ sơ").click()
    expect(page.get_by_text("Nhập địa chỉ nhận kết quả")).to_be_visible()
    assert not Dossier.objects.exists()
    page.get_by_label("Địa chỉ").fill("Thôn Tây, Xã Hoàn Lão")
    page.get_by_role("button", name="Lưu hồ sơ").click()
    code = page.get_by_test_id("dossier-code").inner_text()
    expect(page.get_by_test_id("status")).to_have_text("Được tiếp nhận")

    # The receipt's QR code: the citizen's way back in later.
    page.get_by_role("link", name="In Giấy tiếp nhận").click()
    track_url = page.locator("[data-track-url]").get_attribute("data-track-url")
    pin = page.get_by_test_id("receipt-pin").inner_text()
    expect(page.get_by_test_id("receipt-lookup")).to_contain_text("0232 3862 111")
    page.get_by_role("link", name="Quay lại hồ sơ").click()

    # A supplement: Form 02 printed for the citizen, then completed.
    do_step(page, "Yêu cầu bổ sung", **{"Giấy tờ cần bổ sung": "Bản sao Giấy khai sinh"})
    page.get_by_test_id("print-form02").click()
    expect(page.get_by_role("heading", name="PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ")).to_be_visible()
    expect(page.get_by_test_id("supplement-items")).to_contain_text("Bản sao Giấy khai sinh")
    page.get_by_role("link", name="Quay lại hồ sơ").click()
    do_step(page, "Đã bổ sung đủ")
    do_step(page, "Đã xử lý xong")
    expect(page.get_by_test_id("status")).to_have_text("Đã xử lý xong")

    # The hub: hand the result to the post from the dossier page, within three clicks.
    shoot(page, "dossier-hub-ready")
    before = clicks.count
    page.get_by_test_id("hand-to-post").click()
    expect(page.get_by_test_id("recipient")).to_contain_text("Thôn Tây, Xã Hoàn Lão")
    expect(page.get_by_label("Bưu cục")).to_have_value(str(post_office.pk))
    expect(page.get_by_label("Lập biên bản giao nhận mới")).to_be_checked()
    shoot(page, "hand-to-post-confirm")
    page.get_by_label("Nhân viên bưu điện đang có mặt: ký biên bản cho Bộ phận Một cửa ngay").check()
    page.get_by_role("button", name="Xác nhận giao cho bưu điện").click()
    expect(page.get_by_test_id("postal-item")).to_be_visible()
    # The action, the box that signs for the desk, the confirmation: the budget is three clicks
    # (the counter sees every trusted click, so it is never zero here).
    assert 0 < clicks.count - before <= 3, f"{clicks.count - before} clicks to hand the result to the post"
    item = PostalItem.objects.get(dossier__code=code)
    handover = Handover.objects.get()
    assert handover.desk_signed_by == official and item.status == ItemStatus.CREATED
    expect(page.get_by_test_id("postal-item-handover")).to_have_text(handover.number)
    expect(page.get_by_test_id("postal-item-progress")).to_have_text(
        "Bộ phận Một cửa đã ký biên bản giao nhận; đang chờ bưu điện ký nhận."
    )

    # The postal employee, on a phone: signs the record, takes the result out, delivers it.
    phone = phone_page
    phone.on("dialog", lambda dialog: dialog.accept())
    log_in(phone, postal_staff.username, PASSWORD)
    phone.goto(f"/postal/handovers/{handover.pk}/")
    phone.get_by_role("button", name="Ký").click()
    phone.get_by_text("đã được hai bên ký").wait_for()
    phone.goto("/postal/scan/")
    phone.get_by_label("Mã bưu gửi").fill(item.code)
    phone.get_by_role("button", name="Tìm").click()
    phone.get_by_role("button", name="Mang đi phát").click()
    phone.get_by_test_id("item-status").filter(has_text="Đang phát").wait_for()
    shoot(phone, "phone-deliver")
    phone.get_by_label("Họ tên người nhận").fill("Nguyễn Văn An")
    phone.get_by_label("Đã kiểm tra giấy tờ tùy thân").check()
    phone.get_by_role("button", name="Đã phát").click()
    phone.get_by_test_id("item-status").filter(has_text="Đã phát").wait_for()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    # Back at the desk: the dossier page says delivered, to whom, on time.
    page.reload()
    expect(page.get_by_test_id("status")).to_have_text("Đã trả kết quả")
    expect(page.get_by_test_id("postal-item-status")).to_have_text("Đã phát")
    expect(page.get_by_test_id("postal-item-recipient")).to_contain_text("Nguyễn Văn An")
    expect(page.get_by_test_id("postal-item-target")).to_contain_text("đạt chỉ tiêu")
    expect(page.get_by_test_id("timeline")).to_contain_text("Đã giao kết quả cho bưu điện")
    assert "postal.handed_to_post" not in page.content()
    shoot(page, "dossier-hub-delivered")
    assert Dossier.objects.get(code=code).status == Status.RETURNED

    # The citizen scans the receipt's QR code: the code is filled in, the PIN is typed.
    citizen = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", base_url=live_server.url)
    public = citizen.new_page()
    public.goto(track_url)
    expect(public.get_by_label("Mã hồ sơ")).to_have_value(code)
    public.get_by_label("Mã tra cứu").fill(pin)
    public.get_by_role("button", name="Tra cứu").click()
    expect(public.get_by_test_id("track-sentence")).to_have_text(
        re.compile(r"Ông/Bà đã nhận kết quả ngày \d\d/\d\d/\d{4}")
    )
    postal = public.get_by_test_id("track-postal")
    expect(postal).to_contain_text(
        re.compile(r"Kết quả đã được gửi qua bưu điện ngày \d\d/\d\d/\d{4}, dự kiến phát trước")
    )
    expect(postal).to_contain_text("Đã phát cho N. V. An lúc")
    expect(public.get_by_test_id("track-desk")).to_contain_text("0232 3862 111")
    result = public.get_by_test_id("track-result").inner_text()
    assert "0905123456" not in result and "Nguyễn Văn An" not in result
    shoot(public, "track-delivered")
    citizen.close()

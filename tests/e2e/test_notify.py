"""The citizen in the loop: a BCCI dossier is logged, handed to the post and delivered; the
outbox (the embedded default: no SMS or Zalo account) holds the citizen's messages in order with
the item code; the citizen rates on a phone, and a 2-star rating becomes the commune's
follow-up and the leader's satisfaction figure."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from dossiers.catalogue import load_catalogue
from dossiers.models import Dossier
from notify.models import Message
from postal import services as postal
from postal.models import Handover
from reports.services.aggregation import compute_weeks, current_monday
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in, log_out
from tests.reports.conftest import eager_tasks  # noqa: F401 - tasks in-process even when CI has a broker

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PROCEDURE = "Hộ tịch · Thủ tục cấp Giấy xác nhận tình trạng hôn nhân (1.004873)"


@pytest.fixture
def catalogue(transactional_db):
    load_catalogue()


def test_citizen_hears_each_step_rates_on_a_phone_and_a_low_rating_is_followed_up(
    page,
    phone_page,
    browser,
    official,
    postal_staff,
    leader,
    commune,
    post_office,
    catalogue,
    settings,
    live_server,
):
    settings.NOTIFY_SMS_URL = settings.NOTIFY_ZNS_URL = ""  # the outbox
    settings.PUBLIC_BASE_URL = live_server.url
    log_in(page, official.username, PASSWORD)
    page.goto("/dossiers/new/")
    page.get_by_label("Thủ tục").select_option(label=PROCEDURE)
    page.get_by_label("Họ tên người nộp").fill("Phan Thị Hồng")
    page.get_by_label("Số điện thoại").fill("0905123456")
    page.get_by_label("Số định danh cá nhân (CCCD)").fill("044195001122")
    page.get_by_label("Địa chỉ").fill("Thôn Tây, Xã Hoàn Lão")
    page.get_by_label("Qua dịch vụ bưu chính công ích").last.check()
    expect(page.get_by_label("Công dân không nhận tin nhắn (Zalo/SMS)")).not_to_be_checked()
    page.get_by_role("button", name="Lưu hồ sơ").click()
    code = page.get_by_test_id("dossier-code").inner_text()
    messages = page.get_by_test_id("dossier-messages")
    expect(messages.get_by_test_id("message-row")).to_have_count(1)
    expect(messages).to_contain_text("Đã tiếp nhận hồ sơ")
    expect(messages).to_contain_text("Đã đưa vào hộp thư đi")

    page.get_by_role("link", name="Đã xử lý xong", exact=True).click()
    page.get_by_role("button", name="Đã xử lý xong", exact=True).click()
    expect(page.get_by_test_id("dossier-code")).to_be_visible()

    # The desk hands the result to the post (its record signed by the desk) …
    dossier = Dossier.objects.get(code=code)
    item = postal.create_return_item(dossier=dossier, by=official, post_office=post_office)
    handover = postal.create_handover(
        by=official, direction=Handover.Direction.DESK_TO_POST, desk_unit=commune, post_office=post_office
    )
    postal.add_item_to_handover(handover=handover, by=official, code=item.code)
    postal.sign_handover(handover=handover, by=official)
    # … and the postal employee signs it and delivers the result, on a phone.
    staff = phone_page
    staff.on("dialog", lambda dialog: dialog.accept())  # "sign this record?"
    log_in(staff, postal_staff.username, PASSWORD)
    staff.goto(f"/postal/handovers/{handover.pk}/")
    staff.get_by_role("button", name="Ký").click()
    staff.get_by_text("đã được hai bên ký").wait_for()
    staff.goto("/postal/scan/")
    staff.get_by_label("Mã bưu gửi").fill(item.code)
    staff.get_by_role("button", name="Tìm").click()
    staff.get_by_role("button", name="Mang đi phát").click()
    staff.get_by_test_id("item-status").filter(has_text="Đang phát").wait_for()
    staff.get_by_label("Họ tên người nhận").fill("Phan Thị Hồng")
    staff.get_by_label("Đã kiểm tra giấy tờ tùy thân").check()
    staff.get_by_role("button", name="Đã phát").click()
    staff.get_by_test_id("item-status").filter(has_text="Đã phát").wait_for()

    page.reload()
    rows = page.get_by_test_id("dossier-messages").get_by_test_id("message-row")
    expect(rows).to_have_count(4)
    assert [rows.nth(n).get_attribute("data-event") for n in range(4)] == [
        "received",
        "result_ready",
        "handed_to_post",
        "delivered",
    ]
    handed = rows.nth(2).inner_text()
    assert item.code in handed and "Đã giao kết quả cho bưu điện" in handed
    texts = "\n".join(Message.objects.filter(dossier=dossier).values_list("text", flat=True))
    assert "044195001122" not in texts and "Phan Thị Hồng" not in texts
    link = re.search(r"https?://\S+/rate/[\w-]+/", rows.nth(3).inner_text()).group(0)

    # The citizen opens the link from the delivered message on their own phone; no login.
    citizen = browser.new_context(
        locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", viewport={"width": 390, "height": 844}, is_mobile=True
    )
    phone = citizen.new_page()
    phone.goto(link)
    expect(phone.get_by_role("heading", name="Đánh giá dịch vụ")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.get_by_label("2 sao").check()
    phone.get_by_label("Góp ý (không bắt buộc)").fill("Chờ lâu, bưu tá gọi không được")
    phone.get_by_role("button", name="Gửi đánh giá").click()
    expect(phone.get_by_test_id("rating-thanks")).to_contain_text(code)
    phone.goto(link)  # one answer per dossier
    expect(phone.get_by_role("button", name="Gửi đánh giá")).to_have_count(0)
    citizen.close()

    # The commune's home page shows the follow-up; the official closes it with a note.
    page.goto("/")
    follow_up = page.get_by_test_id("follow-up")
    expect(follow_up).to_contain_text(code)
    expect(follow_up).to_contain_text("Chờ lâu")
    follow_up.get_by_placeholder("Đã xử lý như thế nào").fill("Đã gọi điện xin lỗi, hẹn phát lại")
    page.get_by_role("button", name="Đóng").click()
    expect(page.get_by_test_id("follow-up")).to_have_count(0)

    # The leader's dashboard: the week's satisfaction figure and the office in the table.
    compute_weeks(mondays=[current_monday()])
    log_out(page)
    log_in(page, leader.username, PASSWORD)
    page.goto(f"/reports/?unit={commune.parent_id}")
    expect(page.get_by_test_id("week-satisfaction_rate")).to_have_text(re.compile(r"0[,.]0\s*%"))
    satisfaction = page.get_by_test_id("satisfaction-office")
    expect(satisfaction).to_contain_text(post_office.name)
    expect(page.get_by_test_id("satisfaction-commune")).to_contain_text(commune.name)

"""Postal staff on a phone: accept a return handover, record a failed attempt, then the
delivery; the commune official then sees the dossier returned by post."""

import pytest

from dossiers.models import Status
from postal import services
from postal.models import Handover
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in, log_out
from tests.postal.conftest import at, justice, make_dossier, procedure  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def prepared_return(make_dossier, official, commune, post_office):  # noqa: F811
    dossier = make_dossier(status=Status.FINISHED, finished_at=at("2026-03-04", 15))
    item = services.create_return_item(dossier=dossier, by=official)
    handover = services.create_handover(
        by=official, direction=Handover.Direction.DESK_TO_POST, desk_unit=commune, post_office=post_office
    )
    services.add_item_to_handover(handover=handover, by=official, code=item.code)
    services.sign_handover(handover=handover, by=official)
    return item, handover


def test_postal_staff_deliver_a_result_on_a_phone(phone_page, prepared_return, postal_staff, official):
    item, handover = prepared_return
    page = phone_page
    page.on("dialog", lambda dialog: dialog.accept())

    log_in(page, postal_staff.username, PASSWORD)
    page.get_by_role("link", name="Biên bản giao nhận").first.click()
    page.get_by_role("link", name=handover.number).click()
    assert item.code in page.get_by_test_id("handover-lines").inner_text()
    page.get_by_role("button", name="Ký").click()
    page.get_by_text("đã được hai bên ký").wait_for()
    assert page.get_by_test_id("handover-status").inner_text() == "Đã ký"

    page.goto("/postal/scan/")
    page.get_by_label("Mã bưu gửi").fill(item.code)
    page.get_by_role("button", name="Tìm").click()
    assert page.get_by_test_id("item-status").inner_text() == "Bưu điện đã nhận"
    page.get_by_role("button", name="Mang đi phát").click()
    page.get_by_test_id("item-status").filter(has_text="Đang phát").wait_for()

    page.get_by_role("button", name="Không có người ở nhà").click()
    page.get_by_test_id("item-status").filter(has_text="Phát không thành công").wait_for()
    assert "Không có người ở nhà" in page.get_by_test_id("item-timeline").inner_text()

    # Delivered without checking the ID is refused with a message; nothing changes.
    page.get_by_label("Họ tên người nhận").fill("Nguyễn Văn An")
    page.get_by_role("button", name="Đã phát").click()
    page.get_by_text("Phải kiểm tra giấy tờ tùy thân").wait_for()
    page.get_by_label("Họ tên người nhận").fill("Nguyễn Văn An")
    page.get_by_label("Đã kiểm tra giấy tờ tùy thân").check()
    page.get_by_role("button", name="Đã phát").click()
    page.get_by_test_id("item-status").filter(has_text="Đã phát").wait_for()
    # Phone width: the big buttons and the card fit without horizontal scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.locator(".navbar-toggler").click()
    log_out(page)
    log_in(page, official.username, PASSWORD)
    page.goto(f"/postal/items/{item.pk}/")
    assert page.get_by_test_id("dossier-status").inner_text() == "Đã trả kết quả"
    timeline = page.get_by_test_id("item-timeline").inner_text()
    assert "Phát không thành công" in timeline and "Đã phát" in timeline

"""A post manager repairs a BĐVHX and the district leader sees the network page change."""

from datetime import timedelta

import pytest
from django.utils import timezone

from communes.models import PostOffice
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in, log_out

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def leaking_bdvhx(post_office, other_post_office):
    """Xã Hoàn Lão's BĐVHX needs repair; Xã Bố Trạch's is fine."""
    PostOffice.objects.filter(pk=post_office.pk).update(
        condition=PostOffice.Condition.NEEDS_REPAIR, latitude=17.5901, longitude=106.5312, floor_area_m2=36
    )
    PostOffice.objects.filter(pk=other_post_office.pk).update(latitude=17.5463, longitude=106.4558)
    return post_office


def network_figures(page) -> dict[str, str]:
    page.goto("/network/")
    page.get_by_role("heading", name="Mạng lưới bưu điện").wait_for()
    return {
        "needs_repair": page.get_by_test_id("condition-needs_repair").inner_text(),
        "good": page.get_by_test_id("condition-good").inner_text(),
        "done": page.get_by_test_id("actions-done").inner_text(),
    }


def test_a_repair_is_recorded_completed_and_seen_by_the_leader(page, leaking_bdvhx, post_manager, leader):
    log_in(page, "lanhdao", PASSWORD)
    before = network_figures(page)
    assert before == {"needs_repair": "1", "good": "2", "done": "0"}
    assert page.get_by_test_id("map-list").get_by_text("Bưu điện văn hóa xã Hoàn Lão").is_visible()
    log_out(page)

    # The post manager finds the BĐVHX that needs repair in the registry.
    log_in(page, "quanlybd", PASSWORD)
    page.locator("#main-nav").get_by_role("button", name="Mạng lưới").or_(
        page.locator("#main-nav").get_by_role("link", name="Mạng lưới")
    ).click()
    page.locator("#main-nav").get_by_role("link", name="Bưu cục").click()
    page.get_by_label("Tình trạng").select_option(label="Cần sửa chữa")
    page.get_by_role("button", name="Lọc").click()
    page.get_by_role("link", name="Bưu điện văn hóa xã Hoàn Lão").click()
    assert page.get_by_test_id("office-condition").inner_text() == "Cần sửa chữa"

    # Records the repair.
    page.get_by_role("link", name="Ghi nhận công việc").click()
    assert page.get_by_label("Loại công việc").input_value() == "repair"
    page.get_by_label("Đơn vị chủ trì").select_option(label="Bưu điện")
    due = timezone.localdate() + timedelta(days=30)
    page.get_by_label("Hạn hoàn thành").fill(due.strftime("%d/%m/%Y"))
    page.get_by_label("Ghi chú").fill("Mái tôn dột, thay mái và sơn lại tường.")
    page.get_by_role("button", name="Lưu").click()
    page.get_by_text("Đã ghi nhận công việc.").wait_for()
    assert page.get_by_test_id("action-status").inner_text() == "Chưa triển khai"

    # Starts the work, then completes it and records the office as in good condition.
    page.get_by_role("button", name="Bắt đầu triển khai").click()
    page.get_by_text("Đã bắt đầu triển khai công việc.").wait_for()
    assert page.get_by_test_id("action-status").inner_text() == "Đang triển khai"
    page.get_by_role("link", name="Xác nhận hoàn thành").click()
    assert page.get_by_label("Ngày hoàn thành").input_value() == timezone.localdate().strftime("%d/%m/%Y")
    page.get_by_label("Tình trạng bưu cục sau khi hoàn thành").select_option(label="Tốt")
    page.get_by_role("button", name="Xác nhận hoàn thành").click()
    page.get_by_text("Công việc đã hoàn thành.").wait_for()
    history = page.get_by_test_id("history").inner_text()
    assert "Ghi nhận công việc" in history and "Hoàn thành" in history and "Cần sửa chữa → Tốt" in history

    page.get_by_role("link", name="Bưu điện văn hóa xã Hoàn Lão").click()
    assert page.get_by_test_id("office-condition").inner_text() == "Tốt"
    assert "Sửa chữa" in page.get_by_test_id("actions").inner_text()
    log_out(page)

    # The leader sees the change on the network page.
    log_in(page, "lanhdao", PASSWORD)
    assert network_figures(page) == {"needs_repair": "0", "good": "3", "done": "1"}

"""The postal employee on the road, on a phone: the day's list opens, the network goes away,
two failed attempts and a signed delivery are recorded, the network returns and the server holds
exactly those three actions once each; replaying the phone's queue again changes nothing. An
action the item has moved past meanwhile is shown to the employee as refused."""

import pytest

from dossiers.models import Status
from postal import services
from postal.models import ClientAction, DeliveryAttempt, Handover, ItemStatus
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in
from tests.postal.conftest import at, justice, make_dossier, procedure  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
Outcome = DeliveryAttempt.Outcome

KEEP_QUEUE = """() => new Promise((resolve) => {
  const open = indexedDB.open("postdesk-postal");
  open.onsuccess = () => {
    const request = open.result.transaction("queue").objectStore("queue").getAll();
    request.onsuccess = () => { window.keptQueue = request.result; resolve(request.result.length); };
  };
})"""
PUT_QUEUE_BACK = """() => new Promise((resolve) => {
  const open = indexedDB.open("postdesk-postal");
  open.onsuccess = () => {
    const tx = open.result.transaction("queue", "readwrite");
    window.keptQueue.forEach((entry) => tx.objectStore("queue").put(entry));
    tx.oncomplete = () => { window.dispatchEvent(new Event("online")); resolve(window.keptQueue.length); };
  };
})"""


@pytest.fixture
def out_for_delivery(make_dossier, official, commune, post_office, postal_staff, settings, tmp_path):  # noqa: F811
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    handover = services.create_handover(
        by=official, direction=Handover.Direction.DESK_TO_POST, desk_unit=commune, post_office=post_office
    )
    items = []
    for name in ("Nguyễn Văn An", "Trần Thị Bình"):
        dossier = make_dossier(status=Status.FINISHED, finished_at=at("2026-03-04", 15), applicant_name=name)
        item = services.create_return_item(dossier=dossier, by=official)
        services.add_item_to_handover(handover=handover, by=official, code=item.code)
        items.append(item)
    services.sign_handover(handover=handover, by=official)
    services.sign_handover(handover=handover, by=postal_staff)
    return [
        services.scan_item(item=item, by=postal_staff, to_status=ItemStatus.OUT_FOR_DELIVERY)
        for item in items
    ]


def open_item(page, item):
    page.goto(f"/postal/scan/?code={item.code}")
    page.get_by_test_id("item-card").wait_for()


def wait_pending(page, count: int) -> None:
    """Wait until the screen says this many actions wait to be sent."""
    page.locator(f"[data-app-pending][data-count='{count}']").wait_for()


def pending(page) -> str:
    return page.get_by_test_id("app-pending").get_attribute("data-count")


def test_offline_attempts_and_a_signed_delivery_reach_the_server_once(
    phone_page, out_for_delivery, postal_staff
):
    first, second = out_for_delivery
    page = phone_page
    log_in(page, postal_staff.username, PASSWORD)
    page.goto("/postal/deliveries/")
    # The service worker is installed and the day's item pages are kept on the phone.
    page.locator("#postal-app[data-ready='1']").wait_for()
    assert page.locator("#postal-app").get_attribute("data-pages-kept") == "3"

    page.context.set_offline(True)
    open_item(page, first)  # from the phone's copy: there is no network
    page.get_by_test_id("app-status").filter(has_text="Mất mạng").wait_for()
    page.get_by_role("button", name="Không có người ở nhà").click()
    wait_pending(page, 1)
    page.get_by_text("Đã lưu trên điện thoại").wait_for()
    page.get_by_role("button", name="Sai địa chỉ").click()
    wait_pending(page, 2)

    open_item(page, second)
    assert pending(page) == "2"  # still said on every screen
    page.get_by_label("Họ tên người nhận").fill("Trần Thị Bình")
    page.get_by_label("Đã kiểm tra giấy tờ tùy thân").check()
    pad = page.get_by_test_id("signature-pad").bounding_box()
    page.mouse.move(pad["x"] + 20, pad["y"] + 60)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(pad["x"] + 20 + step * 20, pad["y"] + 60 + (step % 3) * 15)
    page.mouse.up()
    page.get_by_role("button", name="Đã phát").click()
    wait_pending(page, 3)
    assert not DeliveryAttempt.objects.exists()  # nothing reached the server yet
    assert page.evaluate(KEEP_QUEUE) == 3

    page.context.set_offline(False)
    wait_pending(page, 0)

    def server_state():
        return sorted(DeliveryAttempt.objects.values_list("item__code", "outcome", "at"))

    attempts = server_state()
    assert [(code, outcome) for code, outcome, _ in attempts] == sorted(
        [
            (first.code, Outcome.NOT_HOME),
            (first.code, Outcome.WRONG_ADDRESS),
            (second.code, Outcome.DELIVERED),
        ]
    )
    delivered = DeliveryAttempt.objects.get(outcome=Outcome.DELIVERED)
    assert delivered.signature  # the drawn signature came with it
    second.refresh_from_db()
    assert second.status == ItemStatus.DELIVERED and second.recipient_name == "Trần Thị Bình"
    assert ClientAction.objects.count() == 3

    # The same queue sent again (a phone that lost the answers): nothing changes on the server.
    assert page.evaluate(PUT_QUEUE_BACK) == 3
    wait_pending(page, 0)
    assert server_state() == attempts
    assert ClientAction.objects.count() == 3
    assert page.get_by_test_id("app-conflict").count() == 0


def test_an_offline_action_the_item_moved_past_is_shown_not_applied(
    phone_page, out_for_delivery, postal_staff, colleague
):
    first, _ = out_for_delivery
    page = phone_page
    log_in(page, postal_staff.username, PASSWORD)
    page.goto("/postal/deliveries/")
    page.locator("#postal-app[data-ready='1']").wait_for()
    page.context.set_offline(True)
    open_item(page, first)
    page.get_by_role("button", name="Không có người ở nhà").click()
    wait_pending(page, 1)

    # Meanwhile a colleague at the office delivered it to the citizen who came by.
    services.record_delivery_attempt(
        item=first, by=colleague, outcome=Outcome.DELIVERED, recipient_name="Nguyễn Văn An", id_checked=True
    )
    page.context.set_offline(False)
    wait_pending(page, 0)
    conflict = page.get_by_test_id("app-conflict")
    conflict.wait_for()
    assert first.code in conflict.inner_text() and "đã được phát" in conflict.inner_text()
    assert list(DeliveryAttempt.objects.values_list("outcome", flat=True)) == [Outcome.DELIVERED]
    conflict.get_by_role("button", name="Đã xem").click()
    conflict.wait_for(state="detached")  # seen: it goes away and stays away
    page.reload()
    page.get_by_test_id("app-status").wait_for()
    assert page.get_by_test_id("app-conflict").count() == 0


@pytest.fixture
def colleague(post_office):
    from tests.conftest import make_user

    return make_user("buudien3", "postal_staff", post_office=post_office)

"""Pages: who may open them (403 for another role, 404 for another unit), what they show, and
that lists run a fixed number of queries however much data there is."""

import pytest
from django.template import Context, Template
from django.urls import reverse

from dossiers.models import Status
from postal import services
from postal.models import DeliveryAttempt, Handover, ItemStatus, PostalItem
from tests.postal.conftest import at
from tests.postal.test_items import hand_to_post

S = ItemStatus


@pytest.fixture
def item(finished_dossier, official, postal_staff):
    item = services.create_return_item(dossier=finished_dossier, by=official)
    return hand_to_post(item, official, postal_staff, at("2026-03-05", 10))


def test_scan_shows_the_item_and_its_next_actions(client_for, postal_staff, item):
    response = client_for(postal_staff).get(reverse("postal:scan"), {"code": item.code.lower()})
    body = response.content.decode()
    assert response.status_code == 200
    assert item.code in body and item.dossier.code in body
    assert "Mang đi phát" in body and "Đã phát" in body


def test_scan_with_a_wrong_check_digit_says_so_in_vietnamese(client_for, postal_staff):
    response = client_for(postal_staff).get(reverse("postal:scan"), {"code": "EB123456784VN"})
    assert "Số kiểm tra" in response.content.decode()


def test_scan_of_another_offices_item_shows_a_message_not_the_item(client_for, other_postal_staff, item):
    body = client_for(other_postal_staff).get(reverse("postal:scan"), {"code": item.code}).content.decode()
    assert "Không tìm thấy bưu gửi" in body
    assert item.dossier.code not in body


def test_scan_page_is_for_postal_roles_only(client_for, official):
    assert client_for(official).get(reverse("postal:scan")).status_code == 403


def test_item_of_another_office_is_a_404(client_for, other_postal_staff, other_official, item):
    url = reverse("postal:item_detail", args=[item.pk])
    assert client_for(other_postal_staff).get(url).status_code == 404
    assert client_for(other_official).get(url).status_code == 404


def test_commune_official_sees_the_item_of_their_dossier(client_for, official, item):
    assert client_for(official).get(reverse("postal:item_detail", args=[item.pk])).status_code == 200


def test_delivery_without_a_name_is_refused_on_the_page(client_for, postal_staff, item):
    client = client_for(postal_staff)
    response = client.post(
        reverse("postal:item_attempt", args=[item.pk]),
        {"outcome": DeliveryAttempt.Outcome.DELIVERED, "id_checked": "on"},
        follow=True,
    )
    assert "Nhập họ tên người nhận" in response.content.decode()
    item.refresh_from_db()
    assert item.status == S.ACCEPTED and item.attempts == 0


def test_another_office_cannot_post_an_attempt(client_for, other_postal_staff, item):
    response = client_for(other_postal_staff).post(
        reverse("postal:item_attempt", args=[item.pk]), {"outcome": "not_home"}
    )
    assert response.status_code == 404
    assert not DeliveryAttempt.objects.exists()


def test_return_item_in_one_click(client_for, official, finished_dossier, post_office):
    client = client_for(official)
    url = reverse("postal:return_item_create", args=[finished_dossier.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"post_office": post_office.pk, "tier": "local", "postage": 0, "fees_collected": 0}
    )
    created = PostalItem.objects.get(dossier=finished_dossier)
    assert response.status_code == 302
    assert response.url == reverse("dossiers:detail", args=[finished_dossier.pk]) + "#postal"
    assert created.handover_lines.get().handover.status == Handover.Status.DRAFT


def test_return_item_page_is_404_for_another_commune_and_403_for_postal_staff(
    client_for, other_official, postal_staff, finished_dossier
):
    url = reverse("postal:return_item_create", args=[finished_dossier.pk])
    assert client_for(other_official).get(url).status_code == 404
    assert client_for(postal_staff).get(url).status_code == 403


def test_negative_postage_on_the_page_saves_nothing(client_for, official, finished_dossier, post_office):
    url = reverse("postal:return_item_create", args=[finished_dossier.pk])
    response = client_for(official).post(
        url, {"post_office": post_office.pk, "tier": "local", "postage": -5, "fees_collected": 0}
    )
    assert "không được nhỏ hơn 0" in response.content.decode()
    assert not PostalItem.objects.exists()


def test_handover_pages_print_and_pdf(client_for, official, postal_staff, item, other_official):
    handover = Handover.objects.get()
    client = client_for(official)
    detail = client.get(reverse("postal:handover_detail", args=[handover.pk]))
    assert detail.status_code == 200 and item.code in detail.content.decode()
    printed = client.get(reverse("postal:handover_print", args=[handover.pk])).content.decode()
    assert item.dossier.code in printed and "Đầy đủ" in printed
    pdf = client.get(reverse("postal:handover_pdf", args=[handover.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    client.logout()
    assert (
        client_for(other_official).get(reverse("postal:handover_detail", args=[handover.pk])).status_code
        == 404
    )


def test_signing_through_the_page(client_for, official, postal_staff, make_dossier, commune, post_office):
    item = services.create_return_item(dossier=make_dossier(), by=official)
    client = client_for(official)
    client.post(
        reverse("postal:handover_create"),
        {"direction": "desk_to_post", "desk_unit": commune.pk, "post_office": post_office.pk},
    )
    handover = Handover.objects.get()
    client.post(
        reverse("postal:handover_add_line", args=[handover.pk]), {"code": item.code, "complete": "on"}
    )
    client.post(reverse("postal:handover_sign", args=[handover.pk]))
    client.logout()
    response = client_for(postal_staff).post(reverse("postal:handover_sign", args=[handover.pk]), follow=True)
    assert "đã được hai bên ký" in response.content.decode()
    item.refresh_from_db()
    assert item.status == S.ACCEPTED


def test_signing_an_empty_record_on_the_page_shows_a_message(client_for, official, commune, post_office):
    handover = services.create_handover(
        by=official, direction="desk_to_post", desk_unit=commune, post_office=post_office
    )
    response = client_for(official).post(reverse("postal:handover_sign", args=[handover.pk]), follow=True)
    assert "Không thể ký biên bản trống" in response.content.decode()


def _many_items(make_dossier, official, postal_staff, n):
    for _ in range(n):
        item = services.create_return_item(dossier=make_dossier(), by=official)
        hand_to_post(item, official, postal_staff, at("2026-03-05", 10))


def test_lists_do_not_run_more_queries_with_more_data(
    client_for, official, postal_staff, make_dossier, django_assert_max_num_queries
):
    _many_items(make_dossier, official, postal_staff, 2)
    client = client_for(postal_staff)
    urls = [reverse("postal:deliveries"), reverse("postal:handover_list"), reverse("postal:appointment_list")]
    counts = {}
    for url in urls:
        with django_assert_max_num_queries(20) as ctx:
            client.get(url)
        counts[url] = len(ctx.captured_queries)
    _many_items(make_dossier, official, postal_staff, 6)
    for url in urls:
        with django_assert_max_num_queries(counts[url]):
            assert client.get(url).status_code == 200


def test_dossier_pages_can_include_the_items_timeline(official, postal_staff, item):
    html = Template("{% load postal_tags %}{% postal_items dossier %}").render(
        Context({"dossier": item.dossier})
    )
    assert item.code in html
    assert "Bưu điện đã nhận" in html or "Accepted by the post" in html


def test_deliveries_list_shows_open_results(client_for, postal_staff, item):
    body = client_for(postal_staff).get(reverse("postal:deliveries")).content.decode()
    assert item.code in body


def test_dossier_status_unchanged_by_viewing(client_for, official, item):
    client_for(official).get(reverse("postal:item_detail", args=[item.pk]))
    item.dossier.refresh_from_db()
    assert item.dossier.status == Status.FINISHED


def test_bcci_intake_page_prints_the_slip_with_a_masked_phone(client_for, postal_staff, commune, procedure):
    client = client_for(postal_staff)
    assert client.get(reverse("postal:intake_create")).status_code == 200
    data = {
        "receiving_unit": commune.pk,
        "procedure": procedure.pk,
        "applicant_name": "Hoàng Thị Cúc",
        "applicant_phone": "0912345678",
        "applicant_address": "Thôn 3",
        "return_channel": "bcci",
        "postage": 15000,
        "fees_collected": 0,
        "doc-TOTAL_FORMS": 2,
        "doc-INITIAL_FORMS": 0,
        "doc-0-name": "Tờ khai đăng ký khai sinh",
        "doc-0-form": "original",
        "doc-0-count": 1,
        "doc-1-name": "",
        "doc-1-form": "copy",
        "doc-1-count": 1,
    }
    response = client.post(reverse("postal:intake_create"), data, follow=True)
    body = response.content.decode()
    item = PostalItem.objects.get(direction="intake")
    assert item.code in body and "Tờ khai đăng ký khai sinh" in body
    assert "0912345678" not in body and "0912" in body
    assert item.dossier.status == Status.REGISTERED and item.dossier.received_at is None


def test_intake_page_is_403_for_officials(client_for, official):
    assert client_for(official).get(reverse("postal:intake_create")).status_code == 403


def test_booking_an_appointment_on_the_page(
    client_for, official, commune, procedure, post_office, postal_staff
):
    response = client_for(official).post(
        reverse("postal:appointment_create"),
        {
            "citizen_name": "Trương Văn Đức",
            "citizen_phone": "0987654321",
            "address": "Thôn 2",
            "commune": commune.pk,
            "procedure": procedure.pk,
            "post_office": post_office.pk,
            "slot_start": "05/03/2026 08:00",
            "slot_end": "05/03/2026 09:00",
            "assigned_to": postal_staff.pk,
        },
        follow=True,
    )
    body = response.content.decode()
    assert "Trương Văn Đức" in body and "0987654321" not in body

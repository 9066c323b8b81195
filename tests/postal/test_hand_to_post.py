"""The dossier page is the hub: the result handed to the post in one confirmed click, then the
item's progress on the dossier page."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from dossiers.models import DossierEvent, ReturnChannel, Status
from postal import selectors, services
from postal.models import DeliveryAttempt, DeliveryTier, Handover, HandoverLine, ItemStatus, PostalItem
from tests.postal.conftest import at

S = ItemStatus


@pytest.fixture
def open_record(official, commune, post_office):
    return services.create_handover(
        by=official, direction=Handover.Direction.DESK_TO_POST, desk_unit=commune, post_office=post_office
    )


def test_hand_to_post_starts_a_record_when_the_desk_has_none(finished_dossier, official, post_office):
    handed = services.hand_to_post(dossier=finished_dossier, by=official, postage=18000)
    item = handed.item
    assert handed.new_handover and handed.handover.status == Handover.Status.DRAFT
    assert (
        handed.handover.post_office == post_office
        and handed.handover.desk_unit == finished_dossier.receiving_unit
    )
    # Nothing typed twice: the address and phone come from the dossier.
    assert item.recipient_address == finished_dossier.applicant_address
    assert item.recipient_phone == finished_dossier.applicant_phone
    assert item.postage == 18000 and item.status == S.CREATED
    assert list(handed.handover.lines.values_list("item", flat=True)) == [item.pk]


def test_hand_to_post_adds_to_the_open_record_to_that_office(
    finished_dossier, make_dossier, official, open_record
):
    earlier = services.hand_to_post(dossier=make_dossier(), by=official, handover=open_record)
    handed = services.hand_to_post(dossier=finished_dossier, by=official, handover=open_record)
    assert not handed.new_handover and handed.handover == open_record == earlier.handover
    assert open_record.lines.count() == 2
    assert Handover.objects.count() == 1


def test_records_signed_by_one_side_are_not_offered(official, commune, open_record, make_dossier):
    services.hand_to_post(dossier=make_dossier(), by=official, handover=open_record)
    assert list(selectors.open_handovers(desk_unit_id=commune.pk)) == [open_record]
    services.sign_handover(handover=open_record, by=official)
    assert not selectors.open_handovers(desk_unit_id=commune.pk).exists()


def test_a_dossier_not_finished_leaves_nothing_behind(make_dossier, official):
    dossier = make_dossier(status=Status.PROCESSING)
    with pytest.raises(ValidationError, match="đã xử lý xong"):
        services.hand_to_post(dossier=dossier, by=official)
    assert not PostalItem.objects.exists() and not Handover.objects.exists()


def test_a_desk_return_is_not_handed_to_the_post(make_dossier, official):
    dossier = make_dossier(return_channel=ReturnChannel.DESK, decline_reason="in_person")
    assert not selectors.can_hand_to_post(dossier)
    with pytest.raises(ValidationError):
        services.hand_to_post(dossier=dossier, by=official)
    assert not PostalItem.objects.exists()


def test_another_communes_record_is_refused(
    finished_dossier, other_official, other_commune, other_post_office, official
):
    foreign = services.create_handover(
        by=other_official,
        direction=Handover.Direction.DESK_TO_POST,
        desk_unit=other_commune,
        post_office=other_post_office,
    )
    with pytest.raises(ValidationError):
        services.hand_to_post(dossier=finished_dossier, by=official, handover=foreign)
    assert not PostalItem.objects.exists() and not HandoverLine.objects.exists()


def test_signing_tells_the_dossier_once_with_the_target_date(finished_dossier, official, postal_staff):
    handed = services.hand_to_post(dossier=finished_dossier, by=official, tier=DeliveryTier.PROVINCE)
    services.sign_handover(handover=handed.handover, by=official, at=at("2026-03-05", 10))
    assert not DossierEvent.objects.filter(action="postal.handed_to_post").exists()
    services.sign_handover(handover=handed.handover, by=postal_staff, at=at("2026-03-05", 10))
    event = DossierEvent.objects.get(dossier=finished_dossier, action="postal.handed_to_post")
    # Thursday 05/03 + J+2 working days = Monday 09/03.
    assert event.details == {
        "item": handed.item.code,
        "handover": handed.handover.number,
        "target_date": "2026-03-09",
    }


# --- the confirmation page -------------------------------------------------------------------


def test_confirmation_is_prefilled_with_office_tier_postage_and_the_open_record(
    client_for, official, finished_dossier, make_dossier, post_office, open_record
):
    services.hand_to_post(dossier=make_dossier(), by=official, handover=open_record, postage=16500)
    page = client_for(official).get(reverse("postal:return_item_create", args=[finished_dossier.pk]))
    form = page.context["form"]
    assert form.initial["post_office"] == post_office.pk
    assert form.initial["handover"] == open_record.pk
    assert form.initial["postage"] == 16500
    body = page.content.decode()
    assert "Xác nhận giao cho bưu điện" in body and open_record.number in body
    assert finished_dossier.applicant_address in body
    assert finished_dossier.applicant_phone not in body  # masked


def test_confirming_puts_the_item_on_the_chosen_record(
    client_for, official, finished_dossier, post_office, open_record
):
    response = client_for(official).post(
        reverse("postal:return_item_create", args=[finished_dossier.pk]),
        {
            "post_office": post_office.pk,
            "tier": "local",
            "postage": 0,
            "fees_collected": 0,
            "handover": open_record.pk,
        },
        follow=True,
    )
    item = PostalItem.objects.get(dossier=finished_dossier)
    assert item.handover_lines.get().handover == open_record
    assert response.redirect_chain[-1][0].endswith("#postal")
    assert "đưa vào biên bản giao nhận " + open_record.number in response.content.decode()


def test_a_second_hand_over_is_refused_with_a_message(client_for, official, finished_dossier, post_office):
    services.hand_to_post(dossier=finished_dossier, by=official)
    client = client_for(official)
    url = reverse("postal:return_item_create", args=[finished_dossier.pk])
    assert "Kết quả đã được giao cho bưu điện" in client.get(url).content.decode()
    response = client.post(
        url, {"post_office": post_office.pk, "tier": "local", "postage": 0, "fees_collected": 0}
    )
    assert response.status_code == 400 and PostalItem.objects.count() == 1


# --- the dossier page --------------------------------------------------------------------------


def detail(client, dossier):
    return client.get(reverse("dossiers:detail", args=[dossier.pk])).content.decode()


def test_the_dossier_page_offers_the_hand_over_only_when_the_result_is_ready(
    client_for, official, leader, finished_dossier, make_dossier
):
    client = client_for(official)
    assert 'data-testid="hand-to-post"' in detail(client, finished_dossier)
    assert 'data-testid="hand-to-post"' not in detail(client, make_dossier(status=Status.PROCESSING))
    desk = make_dossier(return_channel=ReturnChannel.DESK, decline_reason="in_person")
    assert 'data-testid="postal-items"' not in detail(client, desk)
    client.logout()
    # A leader reads the dossier but does not hand anything over.
    assert 'data-testid="hand-to-post"' not in detail(client_for(leader), finished_dossier)


def test_the_dossier_page_follows_the_item_to_the_citizen(
    client_for, official, postal_staff, finished_dossier
):
    handed = services.hand_to_post(dossier=finished_dossier, by=official)
    client = client_for(official)
    body = detail(client, finished_dossier)
    assert handed.item.code in body and handed.handover.number in body
    assert "Đang chờ Bộ phận Một cửa và bưu điện ký biên bản giao nhận" in body
    assert 'data-testid="sign-handover"' in body
    services.sign_handover(handover=handed.handover, by=official, at=at("2026-03-05", 10))
    services.sign_handover(handover=handed.handover, by=postal_staff, at=at("2026-03-05", 10))
    item = PostalItem.objects.get()
    services.record_delivery_attempt(
        item=item, by=postal_staff, outcome=DeliveryAttempt.Outcome.NOT_HOME, at=at("2026-03-06", 9)
    )
    services.record_delivery_attempt(
        item=item,
        by=postal_staff,
        outcome=DeliveryAttempt.Outcome.DELIVERED,
        recipient_name="Nguyễn Văn An",
        id_checked=True,
        at=at("2026-03-06", 16),
    )
    body = detail(client, finished_dossier)
    assert "J+1: chậm nhất ngày 06/03/2026" in body and "đạt chỉ tiêu" in body
    assert "Lần phát 1" in body and "Không có người ở nhà" in body
    assert "Đã phát cho Nguyễn Văn An ngày 06/03/2026" in body
    assert 'data-testid="sign-handover"' not in body
    visible = re.sub(r"<[^>]+>", " ", body)  # codes may sit in data- attributes, never in the text
    assert "postal.handed_to_post" not in visible and "delivery_failed" not in visible


def test_signing_for_the_desk_at_once_leaves_the_post_to_sign(finished_dossier, official, postal_staff):
    handed = services.hand_to_post(dossier=finished_dossier, by=official, sign_for_desk=True)
    handover = Handover.objects.get(pk=handed.handover.pk)
    assert handover.desk_signed_by == official and handover.status == Handover.Status.DRAFT
    assert handed.item.status == S.CREATED
    services.sign_handover(handover=handover, by=postal_staff)
    handed.item.refresh_from_db()
    assert handed.item.status == S.ACCEPTED and handed.item.target_date is not None


def test_the_confirmation_names_the_procedures_fee(client_for, official, finished_dossier):
    finished_dossier.procedure.fee = 30000
    finished_dossier.procedure.save()
    body = (
        client_for(official)
        .get(reverse("postal:return_item_create", args=[finished_dossier.pk]))
        .content.decode()
    )
    assert "Phí, lệ phí của thủ tục là 30.000 đồng" in body


def test_a_dossier_whose_result_is_with_the_post_can_no_longer_be_corrected(
    client_for, official, finished_dossier
):
    from dossiers import editing

    assert editing.can_edit(finished_dossier)
    services.hand_to_post(dossier=finished_dossier, by=official)
    assert not editing.can_edit(finished_dossier)
    body = client_for(official).get(reverse("dossiers:detail", args=[finished_dossier.pk])).content.decode()
    assert 'data-testid="edit-dossier"' not in body

"""Corrections after saving, and the rule that a result by post needs an address and a phone."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from dossiers import editing, workflow
from dossiers.models import DossierEvent, ReturnChannel, Status
from dossiers.services import delivery_contact_errors


def edit(dossier, by, **changes):
    fields = {
        "applicant_name": dossier.applicant_name,
        "applicant_phone": dossier.applicant_phone,
        "applicant_address": dossier.applicant_address,
        "applicant_id_number": dossier.applicant_id_number,
        "return_channel": dossier.return_channel,
        "decline_reason": dossier.decline_reason,
        "decline_note": dossier.decline_note,
    }
    fields.update(changes)
    return editing.update_dossier(dossier=dossier, by=by, expected_version=dossier.version, **fields)


# --- the rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "address", "phone", "fields"),
    [
        (ReturnChannel.BCCI, "", "", {"applicant_address", "applicant_phone"}),
        (ReturnChannel.BCCI, "   ", "0912345678", {"applicant_address"}),
        (ReturnChannel.BCCI, "Thôn 1", "", {"applicant_phone"}),
        (ReturnChannel.BCCI, "Thôn 1", "0912345678", set()),
        (ReturnChannel.DESK, "", "", set()),
        (ReturnChannel.ONLINE, "", "", set()),
    ],
)
def test_delivery_contact_rule(channel, address, phone, fields):
    errors = delivery_contact_errors(return_channel=channel, applicant_address=address, applicant_phone=phone)
    assert set(errors) == fields


def test_intake_by_post_without_address_or_phone_is_refused_in_vietnamese(log_dossier):
    with pytest.raises(ValidationError) as caught:
        log_dossier(
            return_channel=ReturnChannel.BCCI, decline_reason="", applicant_phone="", applicant_address=""
        )
    messages = caught.value.message_dict
    assert "Nhập địa chỉ nhận kết quả" in messages["applicant_address"][0]
    assert "Nhập số điện thoại" in messages["applicant_phone"][0]
    assert not DossierEvent.objects.exists()


def test_a_bad_phone_is_reported_once(log_dossier):
    with pytest.raises(ValidationError) as caught:
        log_dossier(return_channel=ReturnChannel.BCCI, decline_reason="", applicant_phone="123")
    assert len(caught.value.message_dict["applicant_phone"]) == 1


def test_the_intake_page_keeps_the_input_and_names_the_missing_address(
    client_for, official, birth_registration
):
    response = client_for(official).post(
        reverse("dossiers:create"),
        {
            "procedure": birth_registration.pk,
            "applicant_name": "Võ Thị Lan",
            "applicant_phone": "0905111222",
            "applicant_address": "",
            "intake_channel": 1,
            "return_channel": "bcci",
            "documents-TOTAL_FORMS": 0,
            "documents-INITIAL_FORMS": 0,
        },
    )
    body = response.content.decode()
    assert response.status_code == 200 and "Nhập địa chỉ nhận kết quả" in body and "Võ Thị Lan" in body


# --- corrections ------------------------------------------------------------------------------


def test_a_correction_is_one_event_with_before_and_after_masked(log_dossier, official):
    dossier = log_dossier()
    edit(
        dossier,
        official,
        applicant_name="Nguyễn Văn Ân",
        applicant_phone="0987654321",
        applicant_id_number="044090009999",
        applicant_address="Thôn 2, Xã Hoàn Lão",
        return_channel=ReturnChannel.BCCI,
    )
    dossier.refresh_from_db()
    assert dossier.return_channel == ReturnChannel.BCCI and dossier.decline_reason == ""
    assert dossier.applicant_phone == "0987654321" and dossier.version == 2
    event = DossierEvent.objects.get(action="dossier.edited")
    changes = event.details["changes"]
    assert changes["applicant_phone"] == {"before": "0912***678", "after": "0987***321"}
    assert changes["applicant_id_number"] == {"before": "0440******34", "after": "0440******99"}
    assert changes["applicant_address"]["after"] == "Thôn 2, Xã Hoàn Lão"
    assert changes["return_channel"] == {"before": "desk", "after": "bcci"}
    assert changes["decline_reason"] == {"before": "in_person", "after": ""}
    assert "0987654321" not in str(event.details) and "044090009999" not in str(event.details)
    assert event.actor == official


def test_nothing_changed_writes_nothing(log_dossier, official):
    dossier = log_dossier()
    edit(dossier, official)
    assert not DossierEvent.objects.filter(action="dossier.edited").exists()


def test_switching_to_post_without_an_address_is_refused(log_dossier, official):
    dossier = log_dossier(applicant_address="")
    with pytest.raises(ValidationError) as caught:
        edit(dossier, official, return_channel=ReturnChannel.BCCI)
    assert "applicant_address" in caught.value.message_dict
    dossier.refresh_from_db()
    assert dossier.return_channel == ReturnChannel.DESK


def test_declining_post_still_needs_a_reason(log_dossier, official):
    dossier = log_dossier(return_channel=ReturnChannel.BCCI, decline_reason="")
    with pytest.raises(ValidationError) as caught:
        edit(dossier, official, return_channel=ReturnChannel.DESK, decline_reason="")
    assert "decline_reason" in caught.value.message_dict


def test_a_stale_form_is_refused(log_dossier, official):
    dossier = log_dossier()
    workflow.start_processing(dossier=dossier, by=official)
    with pytest.raises(workflow.StaleDossier):
        edit(dossier, official, applicant_name="Tên khác")


def test_a_returned_dossier_cannot_be_corrected(log_dossier, official):
    dossier = log_dossier()
    workflow.finish(dossier=dossier, by=official)
    workflow.return_result(dossier=dossier, by=official, channel=ReturnChannel.DESK)
    dossier.refresh_from_db()
    assert dossier.status == Status.RETURNED and not editing.can_edit(dossier)
    with pytest.raises(ValidationError, match="không thể sửa"):
        edit(dossier, official, applicant_name="Tên khác")


# --- the page ---------------------------------------------------------------------------------


def test_edit_page_never_shows_the_numbers_whole(client_for, log_dossier, official):
    dossier = log_dossier()
    body = client_for(official).get(reverse("dossiers:edit", args=[dossier.pk])).content.decode()
    assert "0912345678" not in body and "044090001234" not in body
    assert "0912***678" in body and "0440******34" in body


def test_edit_page_keeps_numbers_left_empty_and_shows_the_history(client_for, log_dossier, official):
    dossier = log_dossier()
    client = client_for(official)
    response = client.post(
        reverse("dossiers:edit", args=[dossier.pk]),
        {
            "version": dossier.version,
            "applicant_name": "Nguyễn Văn An",
            "applicant_phone": "",
            "applicant_id_number": "",
            "applicant_address": "Thôn 5, Xã Hoàn Lão",
            "return_channel": "desk",
            "decline_reason": "in_person",
            "decline_note": "",
        },
        follow=True,
    )
    dossier.refresh_from_db()
    assert dossier.applicant_phone == "0912345678" and dossier.applicant_id_number == "044090001234"
    body = response.content.decode()
    assert "Sửa thông tin hồ sơ" in body
    assert "Địa chỉ: Thôn 1, Xã Hoàn Lão → Thôn 5, Xã Hoàn Lão" in body
    assert "dossier.edited" not in body


def test_edit_page_reports_a_stale_form_with_409(client_for, log_dossier, official):
    dossier = log_dossier()
    response = client_for(official).post(
        reverse("dossiers:edit", args=[dossier.pk]),
        {
            "version": dossier.version - 1,
            "applicant_name": "X",
            "return_channel": "desk",
            "decline_reason": "fee",
        },
    )
    assert response.status_code == 409 and 'data-testid="stale"' in response.content.decode()


def test_edit_page_is_404_for_another_commune_and_403_for_the_post(
    client_for, log_dossier, other_official, postal_staff, client
):
    dossier = log_dossier()
    url = reverse("dossiers:edit", args=[dossier.pk])
    assert client_for(other_official).get(url).status_code == 404
    client.logout()
    assert client_for(postal_staff).post(url, {"applicant_name": "X"}).status_code == 403
    dossier.refresh_from_db()
    assert dossier.applicant_name == "Nguyễn Văn An"

"""Phone and identity numbers: masked everywhere, shown whole only on an explicit, recorded
"show" to the people whose job needs them (privacy/rules.py)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dossiers.personal import mask_id_number, mask_phone
from postal.models import Handover, HandoverLine
from privacy.models import PersonalDataAccess, PersonalField
from tests.trust.conftest import CITIZEN_PHONE, ID_NUMBER, PHONE, RECIPIENT_PHONE

pytestmark = pytest.mark.django_db

WHOLE_VALUES = (PHONE, ID_NUMBER, RECIPIENT_PHONE, CITIZEN_PHONE)


def assert_masked(content: bytes) -> None:
    text = content.decode()
    for value in WHOLE_VALUES:
        assert value not in text


def reveal_url(dossier, field="phone"):
    return reverse("privacy:reveal_dossier", args=[dossier.pk, field])


# --- masked on every page ----------------------------------------------------------------


def test_dossier_list_detail_and_exports_show_numbers_masked(client_for, official, dossier, item):
    client = client_for(official)
    for url in (
        reverse("dossiers:list"),
        reverse("dossiers:detail", args=[dossier.pk]),
        reverse("dossiers:export_csv"),
        reverse("dossiers:receipt", args=[dossier.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert_masked(body)
    detail = client.get(reverse("dossiers:detail", args=[dossier.pk])).content.decode()
    assert mask_phone(PHONE) in detail and mask_id_number(ID_NUMBER) in detail


def test_xlsx_export_holds_masked_numbers_only(client_for, official, dossier):
    import io

    from openpyxl import load_workbook

    response = client_for(official).get(reverse("dossiers:export_xlsx"))
    body = b"".join(response.streaming_content) if response.streaming else response.content
    cells = {str(c.value) for row in load_workbook(io.BytesIO(body)).active.iter_rows() for c in row}
    assert mask_phone(PHONE) in cells and mask_id_number(ID_NUMBER) in cells
    assert not any(value in cell for cell in cells for value in WHOLE_VALUES)


def test_postal_pages_show_numbers_masked(client_for, postal_staff, dossier, item, appointment, official):
    handover = Handover.objects.create(
        number="BG-TEST-1", direction="desk_to_post", desk_unit=dossier.receiving_unit,
        post_office=item.post_office, prepared_by=official,
    )  # fmt: skip
    HandoverLine.objects.create(handover=handover, item=item)
    client = client_for(postal_staff)
    for url in (
        reverse("postal:item_detail", args=[item.pk]),
        reverse("postal:deliveries"),
        reverse("postal:appointment_list") + "?day=2026-03-03",
        reverse("postal:handover_detail", args=[handover.pk]),
        reverse("postal:handover_print", args=[handover.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_masked(response.content)


def test_public_lookup_shows_no_personal_data(client, dossier):
    response = client.post(reverse("tracking:track"), {"code": dossier.code, "pin": dossier.tracking_pin})
    assert response.status_code == 200
    assert_masked(response.content)
    assert dossier.applicant_name not in response.content.decode()


def test_admin_pages_show_numbers_masked(client_for, administrator, dossier, item, appointment):
    client = client_for(administrator)
    for url in (
        reverse("admin:dossiers_dossier_change", args=[dossier.pk]),
        reverse("admin:dossiers_dossier_changelist"),
        reverse("admin:postal_postalitem_change", args=[item.pk]),
        reverse("admin:postal_postalitem_changelist"),
        reverse("admin:postal_pickupappointment_change", args=[appointment.pk]),
        reverse("admin:postal_pickupappointment_changelist"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_masked(response.content)


# --- who may press "show" ------------------------------------------------------------------


def test_official_of_the_receiving_commune_sees_the_number_and_it_is_recorded(client_for, official, dossier):
    client = client_for(official)
    detail = client.get(reverse("dossiers:detail", args=[dossier.pk])).content.decode()
    assert reveal_url(dossier) in detail and reveal_url(dossier, "id-number") in detail

    response = client.post(reveal_url(dossier, "id-number"))
    assert response.status_code == 200
    assert ID_NUMBER in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    access = PersonalDataAccess.objects.get()
    assert (access.actor, access.dossier, access.field) == (
        official,
        dossier,
        PersonalField.APPLICANT_ID_NUMBER,
    )
    assert access.at is not None


def test_show_by_htmx_returns_only_the_value(client_for, official, dossier):
    response = client_for(official).post(reveal_url(dossier), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert PHONE in response.content.decode()
    assert "<html" not in response.content.decode()


def test_show_needs_a_post(client_for, official, dossier):
    assert client_for(official).get(reveal_url(dossier)).status_code == 405
    assert not PersonalDataAccess.objects.exists()


def test_unknown_field_is_not_found(client_for, official, dossier):
    assert client_for(official).post(reveal_url(dossier, "address")).status_code == 404


@pytest.mark.parametrize("role", ["leader", "post_manager", "administrator", "postal_staff"])
def test_roles_without_the_job_get_403_and_no_button(request, client_for, dossier, role):
    # postal_staff here handles no item of the dossier.
    user = request.getfixturevalue(role)
    client = client_for(user)
    detail = client.get(reverse("dossiers:detail", args=[dossier.pk]))
    if detail.status_code == 200:
        assert reveal_url(dossier) not in detail.content.decode()
    assert client.post(reveal_url(dossier)).status_code in (403, 404)
    assert not PersonalDataAccess.objects.exists()


def test_leader_in_scope_is_refused_with_403(client_for, leader, dossier):
    assert client_for(leader).post(reveal_url(dossier)).status_code == 403


def test_official_of_another_commune_gets_404(client_for, other_official, dossier):
    assert client_for(other_official).post(reveal_url(dossier)).status_code == 404
    assert not PersonalDataAccess.objects.exists()


def test_anonymous_is_sent_to_login(client, dossier):
    response = client.post(reveal_url(dossier))
    assert response.status_code == 302 and "login" in response["Location"]


def test_postal_staff_handling_an_item_sees_dossier_and_recipient_numbers(
    client_for, postal_staff, dossier, item
):
    client = client_for(postal_staff)
    assert PHONE in client.post(reveal_url(dossier)).content.decode()
    card = client.get(reverse("postal:item_detail", args=[item.pk])).content.decode()
    url = reverse("privacy:reveal_item", args=[item.pk])
    assert url in card
    assert RECIPIENT_PHONE in client.post(url).content.decode()
    fields = sorted(PersonalDataAccess.objects.values_list("field", flat=True))
    assert fields == [PersonalField.APPLICANT_PHONE, PersonalField.RECIPIENT_PHONE]
    assert PersonalDataAccess.objects.get(field=PersonalField.RECIPIENT_PHONE).item == item


def test_staff_of_another_office_cannot_see_the_recipient_phone(client_for, other_postal_staff, item):
    assert (
        client_for(other_postal_staff).post(reverse("privacy:reveal_item", args=[item.pk])).status_code == 404
    )


def test_post_manager_sees_the_item_but_not_the_number(client_for, post_manager, item):
    client = client_for(post_manager)
    assert client.get(reverse("postal:item_detail", args=[item.pk])).status_code == 200
    assert client.post(reverse("privacy:reveal_item", args=[item.pk])).status_code == 403


def test_appointment_phone_is_shown_on_its_own_page_not_in_the_list(client_for, postal_staff, appointment):
    client = client_for(postal_staff)
    listing = client.get(reverse("postal:appointment_list") + "?day=2026-03-03").content.decode()
    url = reverse("privacy:reveal_appointment", args=[appointment.pk])
    assert url in listing and CITIZEN_PHONE not in listing
    page = client.post(url).content.decode()
    assert CITIZEN_PHONE in page and "<html" in page
    assert PersonalDataAccess.objects.get().appointment == appointment


def test_leader_cannot_see_an_appointment_phone(client_for, leader, appointment):
    url = reverse("privacy:reveal_appointment", args=[appointment.pk])
    assert client_for(leader).post(url).status_code == 403


def test_accesses_are_read_only_rows(official, dossier):
    from core.models import AppendOnlyError

    access = PersonalDataAccess.objects.create(
        actor=official, at=dossier.received_at, field=PersonalField.APPLICANT_PHONE, dossier=dossier
    )
    with pytest.raises(AppendOnlyError):
        access.save()
    with pytest.raises(AppendOnlyError):
        access.delete()
    with pytest.raises(AppendOnlyError):
        PersonalDataAccess.objects.all().delete()

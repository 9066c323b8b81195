"""The server errors a probe of the running app found (issue 14, item 10), one case each.

Each request must be answered with a page, a redirect, a validation message or a 4xx — the test
client re-raises anything a view lets escape, so a server error fails the request itself.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.test_access_matrix import ADMIN, LEADER, MANAGER, OFFICIAL, POSTAL

pytestmark = pytest.mark.django_db

BIG = "2147483648"

GETS = [
    (OFFICIAL, "dossiers:list", {"received_to": "31/12/9999"}),
    (OFFICIAL, "dossiers:list", {"received_from": "01/01/0001"}),
    (OFFICIAL, "dossiers:export_csv", {"received_to": "31/12/9999"}),
    (OFFICIAL, "dossiers:export_xlsx", {"received_to": "31/12/9999"}),
    (OFFICIAL, "dossiers:intake_documents", {"procedure": "abc"}),
    (LEADER, "reports:dashboard", {"week": "0001-W01"}),
    (LEADER, "reports:dashboard", {"week": "9999-W52"}),
    (POSTAL, "postal:appointment_list", {"day": "2026-02-30"}),
    (POSTAL, "postal:appointment_list", {"day": "0001-01-01"}),
    (POSTAL, "postal:appointment_list", {"day": "9999-12-31"}),
    (OFFICIAL, "communes:unit_list", {"q": "\x00"}),
    (MANAGER, "postal:transfer_matrix", {"field": "²"}),
    (MANAGER, "communes:action_create", {"post_office": "²"}),
    (MANAGER, "communes:action_create", {"commune": "²"}),
    (MANAGER, "postal:intake_create", {"appointment": "abc"}),
    (ADMIN, "postal:intake_create", {"appointment": "²"}),
]


@pytest.mark.parametrize(("role", "url_name", "params"), GETS, ids=[f"{u}-{p}" for _r, u, p in GETS])
def test_reported_get_no_longer_fails(role, url_name, params, world, client):
    client.force_login(world["users"][role])
    response = client.get(reverse(url_name), params)
    assert response.status_code < 500


def test_nul_in_a_handover_line_note_is_refused_and_nothing_changes(world, client):
    client.force_login(world["users"][OFFICIAL])
    line = world["line"]
    url = reverse("postal:handover_line", args=[world["handover"].pk, line.pk])
    response = client.post(url, {"complete": "1", "note": "thiếu\x00bản sao"})
    assert response.status_code == 400
    line.refresh_from_db()
    assert "\x00" not in line.note


def test_nul_in_an_appointment_mark_note_is_refused(world, client):
    client.force_login(world["users"][POSTAL])
    appointment = world["appointment"]
    url = reverse("postal:appointment_mark", args=[appointment.pk])
    response = client.post(url, {"status": "missed", "note": "\x00"})
    assert response.status_code == 400
    appointment.refresh_from_db()
    assert appointment.status == "booked"


@pytest.mark.parametrize("field", ["postage", "fees_collected"])
@pytest.mark.parametrize("amount", [BIG, "9223372036854775808", "-1"])
def test_postal_intake_refuses_amounts_the_database_cannot_hold(field, amount, world, client):
    from dossiers.models import Dossier

    client.force_login(world["users"][POSTAL])
    procedure = world["dossier"].procedure
    procedure.bcci_intake_allowed = True
    procedure.save()
    before = Dossier.objects.count()
    data = {
        "receiving_unit": world["commune"].pk,
        "procedure": procedure.pk,
        "applicant_name": "Nguyễn Văn Ba",
        "return_channel": "bcci",
        "postage": "0",
        "fees_collected": "0",
        "doc-TOTAL_FORMS": "1",
        "doc-INITIAL_FORMS": "0",
        "doc-0-name": "Tờ khai",
        "doc-0-form": "original",
        "doc-0-count": "1",
        field: amount,
    }
    response = client.post(reverse("postal:intake_create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert Dossier.objects.count() == before


def test_a_nul_cell_in_the_office_import_is_a_row_error(world, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from communes.models import PostOffice
    from communes.spreadsheets import COLUMNS

    client.force_login(world["users"][MANAGER])
    header = ",".join(c.name for c in COLUMNS if c.required)
    values = {
        c.name: {"code": "BD-NUL", "commune": world["commune"].code}.get(c.field, "x\x00y")
        for c in COLUMNS
        if c.required
    }
    body = ",".join(values[c.name] for c in COLUMNS if c.required)
    upload = SimpleUploadedFile("buucuc.csv", f"{header}\n{body}\n".encode(), content_type="text/csv")
    response = client.post(reverse("communes:office_import"), {"file": upload})
    assert response.status_code == 200
    assert "NUL" in response.text
    assert not PostOffice.objects.filter(code="BD-NUL").exists()


def test_a_login_with_an_overlong_username_is_a_form_error_not_a_record(client, db):
    from axes.models import AccessAttempt

    response = client.post(reverse("accounts:login"), {"username": "a" * 300, "password": "x" * 12})
    assert response.status_code == 200
    assert response.context["form"].errors["username"]
    assert not [name for name in AccessAttempt.objects.values_list("username", flat=True) if len(name) > 150]


# --- item 8: an impossible date never reaches the database -------------------------------------


def _appointment_data(world, **overrides):
    procedure = world["dossier"].procedure
    procedure.bcci_intake_allowed = True
    procedure.save()
    return {
        "citizen_name": "Lê Văn Tám",
        "citizen_phone": "0912000111",
        "address": "Thôn 4",
        "commune": world["commune"].pk,
        "procedure": procedure.pk,
        "post_office": world["post_office"].pk,
        "slot_start": "01/12/2026 09:00",
        "slot_end": "01/12/2026 10:00",
        **overrides,
    }


@pytest.mark.parametrize(
    ("start", "end"),
    [("01/01/0001 00:00", "01/01/0001 01:00"), ("31/12/9999 22:00", "31/12/9999 23:00")],
)
def test_an_appointment_outside_1900_2100_is_refused_and_the_pages_still_answer(start, end, world, client):
    from postal.models import PickupAppointment

    client.force_login(world["users"][POSTAL])
    before = PickupAppointment.objects.count()
    response = client.post(
        reverse("postal:appointment_create"), _appointment_data(world, slot_start=start, slot_end=end)
    )
    assert response.status_code == 200
    assert "1900" in response.text and "2100" in response.text
    assert PickupAppointment.objects.count() == before
    assert client.get(reverse("postal:appointment_list")).status_code == 200


def test_the_booking_service_refuses_an_impossible_date_too(world):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from django.core.exceptions import ValidationError

    from postal.services import book_appointment

    far = datetime(1, 1, 1, 0, 0, tzinfo=ZoneInfo("UTC"))
    with pytest.raises(ValidationError):
        book_appointment(
            by=world["users"][POSTAL],
            citizen_name="Lê Văn Tám",
            citizen_phone="0912000111",
            address="Thôn 4",
            commune=world["commune"],
            procedure=world["dossier"].procedure,
            post_office=world["post_office"],
            slot_start=far,
            slot_end=far.replace(hour=1),
        )


# --- item 11: the smaller ones -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["\u202e\u202e", "\u200b\u200c\u200d", "\u2066\u2069 \u200f"])
def test_an_appointment_for_a_name_of_invisible_characters_is_refused(name, world, client):
    from postal.models import PickupAppointment

    client.force_login(world["users"][POSTAL])
    before = PickupAppointment.objects.count()
    response = client.post(reverse("postal:appointment_create"), _appointment_data(world, citizen_name=name))
    assert response.status_code == 200
    assert PickupAppointment.objects.count() == before


def test_an_appointment_with_phone_abc_is_refused(world, client):
    from postal.models import PickupAppointment

    client.force_login(world["users"][POSTAL])
    before = PickupAppointment.objects.count()
    response = client.post(
        reverse("postal:appointment_create"), _appointment_data(world, citizen_phone="abc")
    )
    assert response.status_code == 200
    assert PickupAppointment.objects.count() == before


def test_a_dossier_for_a_name_of_direction_overrides_is_refused(world):
    from django.core.exceptions import ValidationError

    from dossiers.services import Intake, create_dossier

    with pytest.raises(ValidationError) as refused:
        create_dossier(
            by=world["users"][OFFICIAL],
            receiving_unit=world["commune"],
            intake=Intake(
                procedure=world["dossier"].procedure,
                applicant_name="\u202d\u202e\u200b",
                intake_channel=1,
                return_channel="desk",
                documents=[],
            ),
        )
    assert "applicant_name" in refused.value.message_dict


def test_a_finished_task_transfer_cannot_be_completed_again(world, client):
    from datetime import date

    transfer = world["transfer"]
    client.force_login(world["users"][MANAGER])
    url = reverse("postal:transfer_detail", args=[transfer.pk])
    assert client.post(url, {"done_date": "02/11/2026"}).status_code == 302
    events = transfer.events.count()
    client.post(url, {"done_date": "20/11/2026"})
    transfer.refresh_from_db()
    assert transfer.done_date == date(2026, 11, 2)
    assert transfer.events.count() == events


def test_an_extension_to_9999_or_years_away_is_refused(world, client):
    from datetime import date, timedelta

    from dossiers.models import Extension, Status

    dossier = world["dossier"]
    Extension.objects.filter(dossier=dossier).delete()
    dossier.status = Status.PROCESSING
    dossier.due_date = date.today() + timedelta(days=10)
    dossier.save()
    client.force_login(world["users"][OFFICIAL])
    url = reverse("dossiers:action", args=[dossier.pk, "extend"])
    too_far = (dossier.due_date + timedelta(days=800)).strftime("%d/%m/%Y")
    for new_date, message in (("31/12/9999", "31/12/2100"), (too_far, "một năm")):
        response = client.post(url, {"version": dossier.version, "new_due_date": new_date, "reason": "Chờ"})
        assert response.status_code == 400  # the form again, with the message
        assert message in response.text
        dossier.refresh_from_db()
        assert dossier.due_date == date.today() + timedelta(days=10)
    assert not Extension.objects.filter(dossier=dossier).exists()


@pytest.mark.parametrize(
    "value", ["9223372036854775808", "99999999999999999999", "²", "-9223372036854775809"]
)
def test_a_choice_of_a_row_by_an_impossible_id_is_an_invalid_choice(value, world, client):
    """Found by the every-URL test: a ModelMultipleChoiceField sent 2^63 crashed the database
    driver (SQLite: OverflowError; PostgreSQL: bigint out of range)."""
    from postal.models import TaskTransfer

    client.force_login(world["users"][MANAGER])
    before = TaskTransfer.objects.count()
    response = client.post(
        reverse("postal:transfer_create"),
        {
            "unit": world["commune"].pk,
            "field": world["dossier"].procedure.field_id,
            "task": "return",
            "planned_date": "01/06/2027",
            "staff": [value],
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["staff"]
    assert TaskTransfer.objects.count() == before

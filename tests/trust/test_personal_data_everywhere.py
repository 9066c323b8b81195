"""Every page, file and admin page of every role, on data with known personal numbers: a whole
identity number, phone or lookup PIN appears only where docs/security.md allows it.

Allowed, and nowhere else:
- the receipt (form 01, HTML and PDF) shows the lookup PIN to the commune official of the
  receiving commune, who hands it to the citizen;
- the explicit "show" (privacy:reveal_*), a recorded POST, checked in test_personal_data.py.

Pages are found from the URL patterns (and the admin's registry), so pages added later are
covered; PDFs are read as text, spreadsheets cell by cell.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse

from postal.models import PostalItem
from privacy.models import PersonalDataAccess
from tests.dossiers.pdf_text import pdf_text
from tests.test_access_matrix import ACCESS, ANON, OFFICIAL, ROLES, URL_NAMES

pytestmark = pytest.mark.django_db

ID_NUMBER = "044090001234"
PHONE = "0912345678"
RECIPIENT_PHONE = "0977123456"
CITIZEN_PHONE = "0987654321"
PIN = "738291"
INTAKE_PIN = "582914"
NUMBERS = {
    ID_NUMBER: "identity number",
    PHONE: "applicant phone",
    RECIPIENT_PHONE: "recipient phone",
    CITIZEN_PHONE: "citizen phone",
    PIN: "lookup PIN",
    INTAKE_PIN: "lookup PIN",
}
# (URL name, role) → the numbers it may show.
ALLOWED = {
    ("dossiers:receipt", OFFICIAL): {PIN},
    ("dossiers:receipt_pdf", OFFICIAL): {PIN},
}


@pytest.fixture
def personal_world(world):
    dossier = world["dossier"]
    dossier.applicant_id_number = ID_NUMBER
    dossier.applicant_phone = PHONE
    dossier.tracking_pin = PIN
    dossier.save()
    PostalItem.objects.filter(pk=world["item"].pk).update(recipient_phone=RECIPIENT_PHONE)
    intake = world["intake_item"].dossier
    intake.applicant_phone = PHONE
    intake.applicant_id_number = ID_NUMBER
    intake.tracking_pin = INTAKE_PIN
    intake.save()
    world["appointment"].citizen_phone = CITIZEN_PHONE
    world["appointment"].save()
    return world


def _text(response) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    kind = response.get("Content-Type", "").split(";")[0]
    if kind == "application/pdf":
        return pdf_text(body)
    if body.startswith(b"PK\x03\x04"):  # XLSX: the XML of every part, where cell text lives
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            return "".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())
    return body.decode("utf-8", "replace")


def _leaks(text: str, allowed: set[str]) -> list[str]:
    return [
        f"{label} {number}" for number, label in NUMBERS.items() if number in text and number not in allowed
    ]


def test_no_page_or_file_of_any_role_shows_a_whole_number(personal_world, client):
    leaks, pages = [], 0
    for name in URL_NAMES:
        access = ACCESS[name]
        url = reverse(name, args=access.args(personal_world))
        for role in ROLES:
            if access.expect.get(role) != 200:
                continue
            client.logout()
            if role != ANON:
                client.force_login(personal_world["users"][role])
            response = client.get(url)
            pages += 1
            found = _leaks(_text(response), ALLOWED.get((name, role), set()))
            if found:
                leaks.append(f"{url} as {role}: {', '.join(found)}")
    assert pages > 100  # the walk did reach the pages
    assert not leaks, "\n".join(leaks)
    assert not PersonalDataAccess.objects.exists()  # nothing was shown, so nothing recorded


def test_the_receipt_shows_the_pin_to_the_desk_only(personal_world, client):
    url = reverse("dossiers:receipt", args=[personal_world["dossier"].pk])
    client.force_login(personal_world["users"][OFFICIAL])
    assert PIN in client.get(url).text
    for role in ("leader", "post_manager", "administrator", "postal_staff"):
        client.force_login(personal_world["users"][role])
        response = client.get(url)
        assert response.status_code == 200
        assert PIN not in response.text and "••••••" in response.text


def _admin_urls(world):
    for model in admin.site._registry:
        meta = model._meta
        yield reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        obj = model._default_manager.order_by("pk").first()
        if obj is None:
            continue
        for view in ("change", "history"):
            try:
                yield reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=[obj.pk])
            except NoReverseMatch:
                continue


def test_no_admin_page_shows_a_whole_number(personal_world, client):
    client.force_login(personal_world["users"]["administrator"])
    leaks = []
    for url in _admin_urls(personal_world):
        response = client.get(url)
        assert response.status_code in (200, 302, 403), url
        found = _leaks(_text(response), set())
        if found:
            leaks.append(f"{url}: {', '.join(found)}")
    assert not leaks, "\n".join(leaks)

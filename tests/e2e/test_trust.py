"""The desk officer shows a citizen's identity number on purpose; the viewing is recorded."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from privacy.models import PersonalDataAccess
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in
from tests.postal.conftest import justice, make_dossier, procedure  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_official_shows_the_identity_number_and_the_viewing_is_recorded(
    page,
    live_server,
    official,
    make_dossier,  # noqa: F811
):
    dossier = make_dossier(applicant_id_number="044090001234")
    log_in(page, "canbo", PASSWORD)
    page.goto(f"{live_server.url}/dossiers/{dossier.pk}/")
    expect(page.get_by_test_id("masked-id")).to_have_text("0440******34")
    expect(page.get_by_text("044090001234")).to_have_count(0)
    page.get_by_test_id("reveal-id-number").get_by_role("button", name="Hiện số").click()
    expect(page.get_by_test_id("revealed-value")).to_have_text("044090001234")
    expect(page.get_by_text("đã ghi nhận lượt xem")).to_be_visible()
    access = PersonalDataAccess.objects.get()
    assert (access.actor_id, access.dossier_id, access.field) == (
        official.pk,
        dossier.pk,
        "applicant_id_number",
    )

"""Trust tests reuse the postal fixtures (a procedure, dossiers in a given state)."""

from __future__ import annotations

import pytest

from postal.models import ItemStatus, PickupAppointment, PostalItem
from tests.dossiers.conftest import birth_registration, civil_status, fresh_calendar, log_dossier  # noqa: F401
from tests.postal.conftest import at, justice, make_dossier, procedure  # noqa: F401 (fixtures)
from tests.test_access_matrix import world  # noqa: F401 (one object of every kind)

PHONE = "0912345678"
ID_NUMBER = "044090001234"
RECIPIENT_PHONE = "0987654321"
CITIZEN_PHONE = "0977111222"


@pytest.fixture
def dossier(make_dossier):  # noqa: F811
    return make_dossier(applicant_phone=PHONE, applicant_id_number=ID_NUMBER)


@pytest.fixture
def item(dossier, post_office, postal_staff):
    return PostalItem.objects.create(
        code="EB123456785VN",
        dossier=dossier,
        direction="return",
        post_office=post_office,
        status=ItemStatus.OUT_FOR_DELIVERY,
        recipient_address="Thôn 2, Xã Hoàn Lão",
        recipient_phone=RECIPIENT_PHONE,
        created_by=postal_staff,
    )


@pytest.fixture
def appointment(commune, procedure, post_office, postal_staff):  # noqa: F811
    return PickupAppointment.objects.create(
        citizen_name="Hoàng Thị Lan",
        citizen_phone=CITIZEN_PHONE,
        address="Thôn 3, Xã Hoàn Lão",
        commune=commune,
        procedure=procedure,
        post_office=post_office,
        slot_start=at("2026-03-03", 9),
        slot_end=at("2026-03-03", 10),
        assigned_to=postal_staff,
        created_by=postal_staff,
    )

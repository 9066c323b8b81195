"""Fixtures for the dossiers tests: a small catalogue and a way to log dossiers quickly."""

from __future__ import annotations

from datetime import datetime

import pytest

from dossiers import calendar
from dossiers.models import DeclineReason, IntakeChannel, Procedure, ProcedureField, ReturnChannel
from dossiers.services import Intake, create_dossier
from dossiers.workdays import TZ


@pytest.fixture(autouse=True)
def fresh_calendar():
    """Calendar overrides are cached per process; each test starts from its own table."""
    calendar.forget_overrides()
    yield
    calendar.forget_overrides()


@pytest.fixture
def civil_status(db):
    return ProcedureField.objects.create(code="HT", name="Hộ tịch")


@pytest.fixture
def land(db):
    return ProcedureField.objects.create(code="DD", name="Đất đai")


@pytest.fixture
def birth_registration(civil_status):
    return Procedure.objects.create(
        national_code="1.001193",
        name="Thủ tục đăng ký khai sinh",
        field=civil_status,
        processing_days=3,
        required_documents="Tờ khai đăng ký khai sinh\nGiấy chứng sinh",
    )


@pytest.fixture
def certification(civil_status):
    return Procedure.objects.create(
        national_code="2.000815",
        name="Chứng thực bản sao từ bản chính",
        field=civil_status,
        processing_days=0,
    )


@pytest.fixture
def marriage(civil_status):
    return Procedure.objects.create(
        national_code="1.000894",
        name="Thủ tục đăng ký kết hôn",
        field=civil_status,
        processing_days=5,
        presence_required=True,
        bcci_intake_allowed=False,
    )


def at(year, month, day, hour=9, minute=0, second=0):
    return datetime(year, month, day, hour, minute, second, tzinfo=TZ)


@pytest.fixture
def log_dossier(official, commune, birth_registration):
    """Log a dossier at the official's desk; keyword arguments override the defaults."""

    def make(**overrides):
        fields = {
            "by": official,
            "receiving_unit": commune,
            "procedure": birth_registration,
            "applicant_name": "Nguyễn Văn An",
            "applicant_phone": "0912345678",
            "applicant_address": "Thôn 1, Xã Hoàn Lão",
            "applicant_id_number": "044090001234",
            "intake_channel": IntakeChannel.IN_PERSON,
            "return_channel": ReturnChannel.DESK,
            "decline_reason": DeclineReason.IN_PERSON,
            "documents": [
                {"name": "Tờ khai đăng ký khai sinh", "form": "original", "count": 1},
                {"name": "Giấy chứng sinh", "form": "original", "count": 1},
            ],
        }
        fields.update(overrides)
        by, unit = fields.pop("by"), fields.pop("receiving_unit")
        return create_dossier(by=by, receiving_unit=unit, intake=Intake(**fields))

    return make


@pytest.fixture
def bulk_dossiers(birth_registration):
    """Many dossiers fast (no services): for lists, pagination and query counts."""
    from datetime import timedelta
    from itertools import count as counter

    from dossiers.codes import format_code
    from dossiers.models import Dossier

    numbers = counter(5000)

    def make(unit, count, *, start=None, status=2, due_offset=3, name="Người nộp"):
        start = start or at(2026, 3, 2, 8)
        rows = []
        for n in range(count):
            received = start + timedelta(minutes=7 * n)
            rows.append(
                Dossier(
                    code=format_code(unit.dossier_prefix, received.date(), next(numbers)),
                    procedure=birth_registration,
                    receiving_unit=unit,
                    applicant_name=f"{name} {n}",
                    applicant_id_number="044090001234",
                    tracking_pin="123456",
                    return_channel="bcci",
                    status=status,
                    received_at=received,
                    due_date=received.date() + timedelta(days=due_offset),
                    original_due_date=received.date() + timedelta(days=due_offset),
                )
            )
        return Dossier.objects.bulk_create(rows)

    return make

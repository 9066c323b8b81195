"""Postal fixtures: a procedure catalogue row and dossiers in the states postal work starts from."""

from __future__ import annotations

import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from dossiers.models import Dossier, IntakeChannel, Procedure, ProcedureField, ReturnChannel, Status

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
_numbers = itertools.count(1)


def at(day: str, hour: int = 9, minute: int = 0) -> datetime:
    """at("2026-03-02", 10) → an aware datetime in Asia/Ho_Chi_Minh."""
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=TZ)


@pytest.fixture
def justice(db):
    return ProcedureField.objects.create(code="TP", name="Tư pháp")


@pytest.fixture
def land(db):
    return ProcedureField.objects.create(code="DD", name="Đất đai")


@pytest.fixture
def procedure(justice):
    return Procedure.objects.create(
        national_code="1.001193",
        name="Đăng ký khai sinh",
        field=justice,
        processing_days=3,
        fee=0,
        required_documents="Tờ khai đăng ký khai sinh\nGiấy chứng sinh",
    )


@pytest.fixture
def make_dossier(commune, procedure, post_office):
    def make(*, unit=None, status=Status.FINISHED, return_channel=ReturnChannel.BCCI, **fields) -> Dossier:
        n = next(_numbers)
        received = fields.pop("received_at", at("2026-03-02", 9))
        defaults = {
            "code": f"000.01.16.H44-260302-{n:04d}",
            "procedure": procedure,
            "receiving_unit": unit or commune,
            "applicant_name": "Nguyễn Văn An",
            "applicant_phone": "0912345678",
            "applicant_address": "Thôn 1, Xã Hoàn Lão",
            "tracking_pin": "123456",
            "intake_channel": IntakeChannel.IN_PERSON,
            "return_channel": return_channel,
            "status": status,
            "received_at": received,
            "due_date": None,
            "finished_at": at("2026-03-04", 15) if status in (Status.FINISHED, Status.RETURNED) else None,
        }
        defaults.update(fields)
        return Dossier.objects.create(**defaults)

    return make


@pytest.fixture
def finished_dossier(make_dossier):
    return make_dossier()

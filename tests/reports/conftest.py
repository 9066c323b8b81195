"""Data for the reports tests, created directly with the ORM (bulk_create), as the dossiers and
postal services arrive from other branches."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from dossiers.models import Dossier, Procedure, ProcedureField
from postal.models import ItemEvent, PostalItem

VN = ZoneInfo("Asia/Ho_Chi_Minh")
_numbers = itertools.count(1)


def local(year, month, day, hour=9, minute=0, second=0) -> datetime:
    """An aware datetime in Vietnamese local time."""
    return datetime.combine(date(year, month, day), time(hour, minute, second), tzinfo=VN)


@pytest.fixture(autouse=True)
def eager_tasks(request):
    """Tasks run in-process here even when a broker is configured (CI); the real worker test
    (marked "services") goes through Redis."""
    from config.celery import app

    if request.node.get_closest_marker("services"):
        yield
        return
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def broker_configured():
    """As in production: tasks go to a broker (which the test replaces)."""
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def procedure(db):
    field = ProcedureField.objects.create(code="HT", name="Hộ tịch")
    return Procedure.objects.create(
        national_code="1.001193", name="Đăng ký khai sinh", field=field, processing_days=3
    )


def dossier(procedure, unit, **fields) -> Dossier:
    """An unsaved dossier; pass it to Dossier.objects.bulk_create."""
    number = next(_numbers)
    defaults = {
        "code": f"{unit.dossier_prefix}-260101-{number:05d}",
        "procedure": procedure,
        "receiving_unit": unit,
        "applicant_name": f"Người nộp {number}",
        "tracking_pin": "123456",
        "status": 4,
    }
    defaults.update(fields)
    return Dossier(**defaults)


def item(dossier_obj, post_office, **fields) -> PostalItem:
    number = next(_numbers)
    defaults = {
        "code": f"EB{number:08d}VN",
        "dossier": dossier_obj,
        "direction": "return",
        "post_office": post_office,
    }
    defaults.update(fields)
    if defaults.get("status") == "delivered":
        defaults.setdefault("recipient_name", "Người nhận")
        defaults.setdefault("id_checked", True)
    return PostalItem(**defaults)


def returned_to_sender_event(item_obj, at) -> ItemEvent:
    return ItemEvent(
        item=item_obj,
        at=at,
        action="item.returned_to_sender",
        from_status="delivery_failed",
        to_status="returned_to_sender",
    )

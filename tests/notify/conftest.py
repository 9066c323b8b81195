"""Fixtures for notices, ratings and the portal sync: a fake endpoint on 127.0.0.1 and a BCCI
dossier taken from intake to delivery through the real services."""

from __future__ import annotations

import pytest

from dossiers import workflow
from dossiers.models import IntakeChannel, Procedure, ProcedureField, ReturnChannel
from dossiers.services import Intake, create_dossier
from postal import services as postal
from postal.models import Handover
from tests.fake_endpoints import FakeEndpoints
from tests.reports.conftest import eager_tasks  # noqa: F401 - tasks in-process even when CI has a broker


@pytest.fixture
def fake(settings):
    endpoints = FakeEndpoints().start()
    settings.NOTIFY_TIMEOUT_SECONDS = 0.5
    settings.DVCQG_TIMEOUT_SECONDS = 0.5
    settings.PUBLIC_BASE_URL = "https://dichvu.example.vn"
    yield endpoints
    endpoints.stop()


@pytest.fixture
def sms(settings, fake):
    settings.NOTIFY_SMS_URL = fake.url + "/sms"
    settings.NOTIFY_SMS_API_KEY = "sms-key"
    return fake


@pytest.fixture
def zns(settings, sms):
    settings.NOTIFY_ZNS_URL = sms.url + "/zns"
    settings.NOTIFY_ZNS_ACCESS_TOKEN = "zalo-token"
    settings.NOTIFY_ZNS_TEMPLATES = {
        event: str(200000 + n)
        for n, event in enumerate(
            [
                "received",
                "supplement",
                "result_ready",
                "handed_to_post",
                "delivery_failed",
                "delivered",
                "back_at_desk",
            ]
        )
    }
    return sms


@pytest.fixture
def portal(settings, fake):
    settings.DVCQG_URL = fake.url + "/dvcqg"
    settings.DVCQG_API_KEY = "portal-key"
    return fake


@pytest.fixture
def procedure(db):
    field = ProcedureField.objects.create(code="TP", name="Tư pháp")
    return Procedure.objects.create(
        national_code="1.001193", name="Đăng ký khai sinh", field=field, processing_days=3
    )


@pytest.fixture
def log_dossier(official, commune, procedure, django_capture_on_commit_callbacks):
    def log(**fields):
        values = {
            "procedure": procedure,
            "applicant_name": "Trần Thị Bình",
            "applicant_phone": "0912345678",
            "applicant_address": "Thôn 2, Xã Hoàn Lão",
            "applicant_id_number": "001234567889",
            "intake_channel": IntakeChannel.IN_PERSON,
            "return_channel": ReturnChannel.BCCI,
        }
        values.update(fields)
        with django_capture_on_commit_callbacks(execute=True):
            return create_dossier(by=official, receiving_unit=commune, intake=Intake(**values))

    return log


@pytest.fixture
def step(django_capture_on_commit_callbacks):
    """Call a service as a request would: its own transaction, then what waits for the commit."""

    def run(call, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(**kwargs)

    return run


@pytest.fixture
def journey(official, postal_staff, post_office, commune, step):
    """Take a dossier from processing to the citizen's door; each step commits on its own."""

    def run(dossier, *, deliver=True, fail_twice=False):
        from datetime import timedelta

        from django.utils import timezone

        step(workflow.finish, dossier=dossier, by=official)
        item = step(postal.create_return_item, dossier=dossier, by=official, post_office=post_office)
        handover = step(
            postal.create_handover,
            by=official,
            direction=Handover.Direction.DESK_TO_POST,
            desk_unit=commune,
            post_office=post_office,
        )
        step(postal.add_item_to_handover, handover=handover, by=official, code=item.code)
        step(postal.sign_handover, handover=handover, by=official)
        step(postal.sign_handover, handover=handover, by=postal_staff)
        item.refresh_from_db()
        if fail_twice:
            first = timezone.now() - timedelta(days=4)
            step(postal.record_delivery_attempt, item=item, by=postal_staff, outcome="not_home", at=first)
            step(postal.record_delivery_attempt, item=item, by=postal_staff, outcome="not_home")
        elif deliver:
            step(
                postal.record_delivery_attempt,
                item=item,
                by=postal_staff,
                outcome="delivered",
                recipient_name="Trần Thị Bình",
                id_checked=True,
            )
        item.refresh_from_db()
        return item

    return run

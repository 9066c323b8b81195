"""Intake, codes and the contract other apps build on (create, legal submission, return)."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection

from core.events import append_event
from dossiers.models import (
    Dossier,
    DossierCodeSequence,
    DossierDocument,
    DossierEvent,
    IntakeChannel,
    ReturnChannel,
    Status,
)
from dossiers.services import next_dossier_code, record_legal_submission, return_result
from dossiers.workflow import TransitionNotAllowed, finish

from .conftest import at

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks need PostgreSQL: run with DATABASE_URL=postgres://… (as .ci/run does)",
)


@time_machine.travel(at(2026, 3, 4, 10), tick=False)
def test_desk_intake_is_accepted_with_code_pin_due_date_documents_and_event(log_dossier, commune, official):
    dossier = log_dossier()
    assert dossier.status == Status.ACCEPTED
    assert dossier.code == "000.01.16.H44-260304-0001"
    assert len(dossier.tracking_pin) == 6 and dossier.tracking_pin.isdigit()
    assert dossier.received_at == at(2026, 3, 4, 10)
    assert dossier.due_date == dossier.original_due_date == date(2026, 3, 9)  # Wed + 3 → Mon
    assert list(dossier.documents.values_list("name", "form", "count")) == [
        ("Tờ khai đăng ký khai sinh", "original", 1),
        ("Giấy chứng sinh", "original", 1),
    ]
    event = dossier.events.get()
    assert (event.action, event.actor, event.to_status) == ("dossier.accepted", official, Status.ACCEPTED)
    assert log_dossier().code == "000.01.16.H44-260304-0002"


def test_bcci_intake_waits_for_the_handover_then_counts_from_its_signature(log_dossier, postal_staff):
    traveller = time_machine.travel(at(2026, 3, 4, 10), tick=False)
    clock = traveller.start()
    dossier = log_dossier(
        by=postal_staff,
        intake_channel=IntakeChannel.BCCI,
        return_channel=ReturnChannel.BCCI,
        decline_reason="in_person",  # ignored when the result goes by post
        received_by_post=True,
    )
    assert dossier.status == Status.REGISTERED
    assert dossier.received_at is None and dossier.due_date is None
    assert dossier.decline_reason == ""
    assert dossier.events.get().action == "dossier.registered"

    clock.move_to(at(2026, 3, 4, 16))
    dossier = record_legal_submission(dossier=dossier, by=postal_staff, at=at(2026, 3, 4, 15, 30))
    traveller.stop()
    assert dossier.status == Status.ACCEPTED
    assert dossier.received_at == at(2026, 3, 4, 15, 30)
    assert dossier.due_date == date(2026, 3, 10)  # after 15:00: counts from Thu → Tue
    assert dossier.version == 2
    assert list(dossier.events.values_list("action", flat=True)) == [
        "dossier.registered",
        "dossier.submitted_by_post",
    ]


def test_legal_submission_twice_is_refused(log_dossier, official):
    dossier = log_dossier()
    with pytest.raises(TransitionNotAllowed):
        record_legal_submission(dossier=dossier, by=official, at=dossier.received_at)


@time_machine.travel(at(2026, 3, 4, 10), tick=False)
def test_return_result_by_post_closes_the_dossier(log_dossier, official, postal_staff):
    dossier = log_dossier(return_channel=ReturnChannel.BCCI)
    dossier = finish(dossier=dossier, by=official)
    dossier = return_result(dossier=dossier, by=postal_staff, channel=ReturnChannel.BCCI)
    assert dossier.status == Status.RETURNED
    assert dossier.returned_at == at(2026, 3, 4, 10)
    assert dossier.timeliness == "early"
    assert dossier.events.last().action == "dossier.returned"


def test_return_result_before_processing_finished_is_refused(log_dossier, official):
    dossier = log_dossier()
    with pytest.raises(TransitionNotAllowed):
        return_result(dossier=dossier, by=official, channel=ReturnChannel.DESK)
    dossier.refresh_from_db()
    assert dossier.status == Status.ACCEPTED and dossier.returned_at is None


def test_append_event_for_other_apps(log_dossier, postal_staff):
    dossier = log_dossier()
    event = append_event(
        dossier, by=postal_staff, action="dossier.postal_return_failed", details={"attempts": 2}
    )
    assert event.details == {"attempts": 2}
    assert dossier.events.count() == 2
    with pytest.raises(ValueError):
        append_event(dossier, by=postal_staff, action="failed")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"procedure": None}, "procedure", "Chọn thủ tục"),
        ({"applicant_name": "  "}, "applicant_name", "Nhập họ tên"),
        ({"applicant_phone": "12345"}, "applicant_phone", "Số điện thoại"),
        ({"applicant_id_number": "04409000123"}, "applicant_id_number", "12 chữ số"),
        ({"applicant_id_number": "04409000123A"}, "applicant_id_number", "12 chữ số"),
        ({"received_at": at(2030, 1, 1)}, "received_at", "tương lai"),
        ({"decline_reason": ""}, "decline_reason", "lý do"),
        ({"decline_reason": "other", "decline_note": ""}, "decline_note", "lý do khác"),
        ({"documents": [{"name": "", "form": "original", "count": 1}]}, "documents", "Giấy tờ 1"),
        ({"documents": [{"name": "Tờ khai", "form": "scan", "count": 1}]}, "documents", "bản chính"),
        ({"documents": [{"name": "Tờ khai", "form": "copy", "count": 0}]}, "documents", "số bản"),
    ],
)
def test_bad_intake_is_refused_in_vietnamese_and_saves_nothing(log_dossier, overrides, field, message):
    with pytest.raises(ValidationError) as excinfo:
        log_dossier(**overrides)
    errors = excinfo.value.message_dict
    assert field in errors
    assert any(message.lower() in text.lower() for text in errors[field]), errors
    assert not Dossier.objects.exists()
    assert not DossierDocument.objects.exists() and not DossierEvent.objects.exists()
    assert not DossierCodeSequence.objects.exists()


def test_bcci_intake_refused_for_a_procedure_needing_presence(log_dossier, marriage):
    with pytest.raises(ValidationError) as excinfo:
        log_dossier(procedure=marriage, intake_channel=IntakeChannel.BCCI)
    assert "intake_channel" in excinfo.value.message_dict
    assert not Dossier.objects.exists()


def test_phone_in_international_form_is_normalised(log_dossier):
    assert log_dossier(applicant_phone="+84 912 345 678").applicant_phone == "0912345678"


def test_codes_count_per_unit_per_day(commune, other_commune):
    day = date(2026, 3, 4)
    assert next_dossier_code(unit=commune, day=day).endswith("-260304-0001")
    assert next_dossier_code(unit=commune, day=day).endswith("-260304-0002")
    assert next_dossier_code(unit=other_commune, day=day) == "000.02.16.H44-260304-0001"
    assert next_dossier_code(unit=commune, day=day + timedelta(days=1)).endswith("-260305-0001")


def test_a_code_already_taken_is_skipped(log_dossier, commune):
    first = log_dossier()
    DossierCodeSequence.objects.update(last_number=0)  # as if the sequence had been reset
    assert next_dossier_code(unit=commune, day=first.received_at.date()) != first.code


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_intakes_never_share_a_code(official, commune, birth_registration):
    from dossiers.services import Intake, create_dossier

    workers = 8
    barrier = threading.Barrier(workers)
    codes, errors = [], []

    def intake(n):
        try:
            barrier.wait()
            dossier = create_dossier(
                by=official,
                receiving_unit=commune,
                intake=Intake(
                    procedure=birth_registration,
                    applicant_name=f"Người nộp {n}",
                    intake_channel=IntakeChannel.IN_PERSON,
                    return_channel=ReturnChannel.BCCI,
                ),
            )
            codes.append(dossier.code)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=intake, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(set(codes)) == workers
    assert sorted(int(code.rsplit("-", 1)[1]) for code in codes) == list(range(1, workers + 1))

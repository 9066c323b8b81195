"""Every transition of the workflow table, allowed and refused, and what each one records."""

from __future__ import annotations

import threading
from datetime import date

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection

from dossiers import workflow
from dossiers.models import Dossier, Extension, ReturnChannel, Status
from dossiers.workflow import TRANSITIONS, StaleDossier, TransitionNotAllowed

from .conftest import at

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks need PostgreSQL: run with DATABASE_URL=postgres://… (as .ci/run does)",
)

RECEIVED = at(2026, 3, 4, 10)  # Wednesday; 3 working days → due Monday 9/3

CALLS = {
    "accept": lambda d, u: workflow.accept(dossier=d, by=u, at=RECEIVED),
    "refuse": lambda d, u: workflow.refuse(dossier=d, by=u, reason="Thiếu giấy chứng sinh"),
    "start": lambda d, u: workflow.start_processing(dossier=d, by=u),
    "request_supplement": lambda d, u: workflow.request_supplement(dossier=d, by=u, items="Bản sao CCCD"),
    "complete_supplement": lambda d, u: workflow.complete_supplement(dossier=d, by=u),
    "request_payment": lambda d, u: workflow.request_payment(dossier=d, by=u, amount=50000),
    "confirm_payment": lambda d, u: workflow.confirm_payment(dossier=d, by=u),
    "extend": lambda d, u: workflow.extend(
        dossier=d, by=u, reason="Chờ xác minh", new_due_date=date(2026, 3, 12)
    ),
    "withdraw": lambda d, u: workflow.withdraw(dossier=d, by=u, reason="Công dân đề nghị"),
    "stop": lambda d, u: workflow.stop(dossier=d, by=u, reason="Có tranh chấp"),
    "finish": lambda d, u: workflow.finish(dossier=d, by=u),
    "return_result": lambda d, u: workflow.return_result(dossier=d, by=u, channel=ReturnChannel.DESK),
}


def test_every_action_has_a_call_and_a_label():
    assert set(CALLS) == set(TRANSITIONS) == set(workflow.ACTION_LABELS)


@pytest.mark.parametrize("status", list(Status), ids=lambda s: s.name)
@pytest.mark.parametrize("action", list(TRANSITIONS))
@time_machine.travel(RECEIVED, tick=False)
def test_transition_table_is_enforced(log_dossier, official, action, status):
    dossier = log_dossier()
    Dossier.objects.filter(pk=dossier.pk).update(status=status)
    dossier.refresh_from_db()
    sources, target = TRANSITIONS[action]
    if status in sources:
        changed = CALLS[action](dossier, official)
        assert changed.status == (target if target is not None else status)
        assert changed.version == 2
        event = changed.events.last()
        assert (event.from_status, event.to_status, event.actor) == (status, changed.status, official)
    else:
        with pytest.raises(TransitionNotAllowed) as excinfo:
            CALLS[action](dossier, official)
        assert "Không thể thực hiện" in excinfo.value.messages[0]
        dossier.refresh_from_db()
        assert (dossier.status, dossier.version, dossier.events.count()) == (status, 1, 1)


def test_supplement_restarts_the_deadline_and_waiting_does_not_count(log_dossier, official):
    with time_machine.travel(RECEIVED, tick=False) as clock:
        dossier = log_dossier()
        assert dossier.due_date == date(2026, 3, 9)
        clock.move_to(at(2026, 3, 5, 9))  # Thursday: ask for a supplement
        dossier = workflow.request_supplement(dossier=dossier, by=official, items="Giấy chứng sinh bản chính")
        assert dossier.status == Status.SUPPLEMENT_REQUESTED
        clock.move_to(at(2026, 3, 10, 10))  # Tuesday: the citizen brings it
        dossier = workflow.complete_supplement(dossier=dossier, by=official)
    assert dossier.status == Status.PROCESSING
    assert dossier.due_date == date(2026, 3, 13)  # Tue + 3 → Fri: full time again from completion
    assert dossier.original_due_date == date(2026, 3, 9)
    request = dossier.supplement_requests.get()
    assert request.completed_at == at(2026, 3, 10, 10) and request.completed_by == official
    event = dossier.events.last()
    assert event.details["previous_due_date"] == "2026-03-09"
    assert event.details["due_date"] == "2026-03-13"


@time_machine.travel(RECEIVED, tick=False)
def test_extension_is_allowed_once_with_reason_and_later_working_day(log_dossier, official):
    dossier = log_dossier()
    dossier = workflow.extend(
        dossier=dossier, by=official, reason="Chờ xác minh", new_due_date=date(2026, 3, 12)
    )
    assert dossier.due_date == date(2026, 3, 12)
    assert Extension.objects.get(dossier=dossier).previous_due_date == date(2026, 3, 9)
    with pytest.raises(TransitionNotAllowed) as excinfo:
        workflow.extend(dossier=dossier, by=official, reason="Lần nữa", new_due_date=date(2026, 3, 16))
    assert "một lần" in excinfo.value.messages[0]
    dossier.refresh_from_db()
    assert dossier.due_date == date(2026, 3, 12) and Extension.objects.count() == 1


@pytest.mark.parametrize(
    ("reason", "new_date", "field"),
    [
        ("", date(2026, 3, 12), "reason"),
        ("Chờ xác minh", date(2026, 3, 9), "new_due_date"),  # not after the due date
        ("Chờ xác minh", date(2026, 3, 14), "new_due_date"),  # a Saturday
    ],
)
@time_machine.travel(RECEIVED, tick=False)
def test_bad_extension_changes_nothing(log_dossier, official, reason, new_date, field):
    dossier = log_dossier()
    with pytest.raises(ValidationError) as excinfo:
        workflow.extend(dossier=dossier, by=official, reason=reason, new_due_date=new_date)
    assert field in excinfo.value.message_dict
    dossier.refresh_from_db()
    assert dossier.due_date == date(2026, 3, 9) and not Extension.objects.exists()


def test_extension_on_the_due_date_is_too_late(log_dossier, official):
    with time_machine.travel(RECEIVED, tick=False) as clock:
        dossier = log_dossier()
        clock.move_to(at(2026, 3, 8, 9))  # the day before: still allowed
        assert workflow.can_extend(dossier)
        clock.move_to(at(2026, 3, 9, 8))  # the due date itself
        assert "extend" not in workflow.allowed_actions(dossier)
        with pytest.raises(TransitionNotAllowed):
            workflow.extend(dossier=dossier, by=official, reason="Muộn", new_due_date=date(2026, 3, 12))


@pytest.mark.parametrize(
    ("finished_at", "expected"),
    [
        (at(2026, 3, 6, 16), "early"),
        (at(2026, 3, 9, 16), "on_time"),
        (at(2026, 3, 10, 8), "late"),
    ],
)
def test_timeliness_is_fixed_when_processing_ends(log_dossier, official, finished_at, expected):
    with time_machine.travel(RECEIVED, tick=False) as clock:
        dossier = log_dossier()
        clock.move_to(finished_at)
        dossier = workflow.finish(dossier=dossier, by=official)
        assert dossier.timeliness == expected and dossier.finished_at == finished_at
        clock.move_to(at(2026, 3, 20, 9))
        dossier = workflow.return_result(dossier=dossier, by=official, channel=ReturnChannel.DESK)
    assert dossier.timeliness == expected  # returning later does not change it
    assert dossier.returned_at == at(2026, 3, 20, 9)


def test_stop_is_judged_and_withdrawal_is_left_out(log_dossier, official):
    with time_machine.travel(at(2026, 3, 11, 9), tick=False):
        late = log_dossier(received_at=RECEIVED)
        late = workflow.stop(dossier=late, by=official, reason="Có tranh chấp")
        withdrawn = workflow.withdraw(dossier=log_dossier(received_at=RECEIVED), by=official)
    assert late.status == Status.STOPPED and late.timeliness == "late"
    assert withdrawn.status == Status.WITHDRAWN and withdrawn.timeliness == ""


def test_refusal_needs_a_reason(log_dossier, official):
    dossier = log_dossier()
    with pytest.raises(ValidationError) as excinfo:
        workflow.refuse(dossier=dossier, by=official, reason=" ")
    assert "reason" in excinfo.value.message_dict
    dossier.refresh_from_db()
    assert dossier.status == Status.ACCEPTED


def test_stale_version_is_refused_and_changes_nothing(log_dossier, official, other_official):
    dossier = log_dossier()
    shown_version = dossier.version
    workflow.start_processing(dossier=dossier, by=other_official, expected_version=shown_version)
    with pytest.raises(StaleDossier) as excinfo:
        workflow.request_supplement(
            dossier=dossier, by=official, items="CCCD", expected_version=shown_version
        )
    assert "người khác" in excinfo.value.messages[0]
    dossier.refresh_from_db()
    assert dossier.status == Status.PROCESSING and dossier.version == 2
    assert not dossier.supplement_requests.exists()


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_updates_one_wins_the_other_is_told(log_dossier, official, other_official):
    dossier = log_dossier()
    barrier = threading.Barrier(2)
    outcomes = []

    def act(user):
        try:
            barrier.wait()
            workflow.start_processing(dossier=dossier, by=user, expected_version=1)
            outcomes.append("ok")
        except StaleDossier:
            outcomes.append("stale")
        finally:
            connection.close()

    threads = [threading.Thread(target=act, args=(u,)) for u in (official, other_official)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok", "stale"]
    dossier.refresh_from_db()
    assert dossier.version == 2
    assert list(dossier.events.values_list("action", flat=True)) == [
        "dossier.accepted",
        "dossier.processing_started",
    ]

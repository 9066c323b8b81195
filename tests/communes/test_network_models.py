"""Invariants the database keeps for the network, whatever code writes to it."""

from datetime import date, timedelta

import pytest
import time_machine
from django.db import IntegrityError, transaction

from communes.models import NetworkAction, NetworkActionEvent, PostOffice, PostOfficeEvent

pytestmark = pytest.mark.django_db

Status = NetworkAction.Status


def make_action(commune, **fields):
    values = {
        "kind": NetworkAction.Kind.REPAIR,
        "commune": commune,
        "responsible": NetworkAction.Responsible.POST,
        "due_date": date(2026, 12, 31),
    }
    values.update(fields)
    return NetworkAction.objects.create(**values)


def refused(create) -> bool:
    try:
        with transaction.atomic():
            create()
    except IntegrityError:
        return True
    return False


def test_a_done_action_has_a_completion_date_and_only_then(commune):
    assert refused(lambda: make_action(commune, status=Status.DONE))
    assert refused(lambda: make_action(commune, status=Status.PLANNED, completed_on=date(2026, 11, 1)))
    assert refused(lambda: make_action(commune, status=Status.CANCELLED, completed_on=date(2026, 11, 1)))
    make_action(commune, status=Status.DONE, completed_on=date(2026, 11, 1))


@pytest.mark.parametrize(
    "field, value", [("kind", "demolish"), ("status", "paused"), ("responsible", "citizen")]
)
def test_unknown_choices_are_refused_by_the_database(commune, field, value):
    assert refused(lambda: make_action(commune, **{field: value}))


@pytest.mark.parametrize("area", [-5, 0, 10_001, 250_000])
def test_floor_area_must_be_positive_and_plausible(commune, area):
    assert refused(
        lambda: PostOffice.objects.create(
            code="X1", name="X", kind=PostOffice.Kind.CULTURAL, commune=commune, floor_area_m2=area
        )
    )


def test_office_codes_are_unique(post_office):
    assert refused(
        lambda: PostOffice.objects.create(
            code=post_office.code, name="Trùng mã", kind=PostOffice.Kind.CULTURAL, commune=post_office.commune
        )
    )


def test_history_rows_are_append_only(commune, post_office):
    action = make_action(commune)
    event = NetworkActionEvent.objects.create(network_action=action, action="network_action.created")
    office_event = PostOfficeEvent.objects.create(post_office=post_office, action="post_office.created")
    for row in (event, office_event):
        row.details = {"rewritten": True}
        with pytest.raises(ValueError, match="append-only"):
            row.save()
        with pytest.raises(ValueError, match="append-only"):
            row.delete()
    assert NetworkActionEvent.objects.get().details == {}


def test_an_open_action_past_its_due_date_is_overdue(commune):
    action = make_action(commune, due_date=date(2026, 11, 20))
    with time_machine.travel(date(2026, 11, 20)):
        assert not action.is_overdue  # due today: not yet late
    with time_machine.travel(date(2026, 11, 20) + timedelta(days=1)):
        assert action.is_overdue
        action.status, action.completed_on = Status.DONE, date(2026, 11, 21)
        assert not action.is_overdue

"""The improvement plan and the registry change only through services, with history."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from communes import services
from communes.models import NetworkAction, NetworkActionEvent, PostOffice, PostOfficeEvent

pytestmark = pytest.mark.django_db

Status = NetworkAction.Status
Kind = NetworkAction.Kind


def messages(error: ValidationError) -> str:
    return " ".join(error.messages)


# --- actions -------------------------------------------------------------------------------


def test_recording_an_action_appends_an_event_with_its_actor(record_action, repair_office, post_manager):
    action = record_action(office=repair_office)
    assert action.commune == repair_office.commune
    assert action.created_by == post_manager
    event = NetworkActionEvent.objects.get(network_action=action)
    assert (event.action, event.actor, event.from_status, event.to_status) == (
        "network_action.created",
        post_manager,
        "",
        Status.PLANNED,
    )
    assert event.details["post_office"] == repair_office.code


def test_finishing_a_repair_sets_the_office_condition_in_the_same_step(
    record_action, repair_office, post_manager
):
    action = record_action(office=repair_office)
    action = services.network_action_start(network_action=action, by=post_manager)
    action = services.network_action_complete(
        network_action=action,
        by=post_manager,
        completed_on=timezone.localdate(),
        office_condition=PostOffice.Condition.GOOD,
        note="Đã thay mái",
    )
    repair_office.refresh_from_db()
    assert action.status == Status.DONE
    assert repair_office.condition == PostOffice.Condition.GOOD
    verbs = list(action.events.values_list("action", "actor__username", "from_status", "to_status"))
    assert verbs == [
        ("network_action.created", "quanlybd", "", "planned"),
        ("network_action.started", "quanlybd", "planned", "in_progress"),
        ("network_action.done", "quanlybd", "in_progress", "done"),
    ]
    office_event = PostOfficeEvent.objects.get(post_office=repair_office)
    assert office_event.actor == post_manager
    assert office_event.details["changes"] == {"condition": ["needs_repair", "good"]}
    assert office_event.details["network_action"] == action.pk


def test_a_failure_while_updating_the_office_keeps_the_action_open(
    record_action, repair_office, post_manager, monkeypatch
):
    action = record_action(office=repair_office)

    from core import events

    save_new = events.save_new

    def broken_save(row):  # the office's history row fails to be written; the action's is fine
        if isinstance(row, PostOfficeEvent):
            raise RuntimeError("database went away")
        return save_new(row)

    monkeypatch.setattr(events, "save_new", broken_save)
    with pytest.raises(RuntimeError):
        services.network_action_complete(
            network_action=action,
            by=post_manager,
            completed_on=timezone.localdate(),
            office_condition=PostOffice.Condition.GOOD,
        )
    action.refresh_from_db()
    repair_office.refresh_from_db()
    assert action.status == Status.PLANNED and action.completed_on is None
    assert repair_office.condition == PostOffice.Condition.NEEDS_REPAIR
    assert action.events.count() == 1


def test_a_completion_date_before_the_action_was_recorded_is_refused(
    record_action, repair_office, post_manager
):
    with time_machine.travel(timezone.now() - timedelta(days=3)):
        action = record_action(office=repair_office)
    with pytest.raises(ValidationError) as error:
        services.network_action_complete(
            network_action=action, by=post_manager, completed_on=timezone.localdate() - timedelta(days=4)
        )
    assert "không thể trước ngày ghi nhận" in messages(error.value)
    action.refresh_from_db()
    assert action.status == Status.PLANNED
    assert action.events.count() == 1


def test_a_completion_date_in_the_future_is_refused(record_action, repair_office, post_manager):
    action = record_action(office=repair_office)
    with pytest.raises(ValidationError):
        services.network_action_complete(
            network_action=action, by=post_manager, completed_on=timezone.localdate() + timedelta(days=1)
        )


@pytest.mark.parametrize(
    "first, then",
    [
        ("complete", "start"),
        ("complete", "cancel"),
        ("complete", "complete"),
        ("cancel", "start"),
        ("cancel", "complete"),
    ],
)
def test_done_and_cancelled_actions_are_final(record_action, repair_office, post_manager, first, then):
    action = record_action(office=repair_office)
    moves = {
        "start": lambda a: services.network_action_start(network_action=a, by=post_manager),
        "complete": lambda a: services.network_action_complete(
            network_action=a, by=post_manager, completed_on=timezone.localdate()
        ),
        "cancel": lambda a: services.network_action_cancel(network_action=a, by=post_manager, reason="Trùng"),
    }
    action = moves[first](action)
    count = action.events.count()
    with pytest.raises(ValidationError) as error:
        moves[then](action)
    assert "không thể thay đổi" in messages(error.value)
    assert action.events.count() == count


def test_an_in_progress_action_cannot_start_again(record_action, repair_office, post_manager):
    action = services.network_action_start(
        network_action=record_action(office=repair_office), by=post_manager
    )
    with pytest.raises(ValidationError):
        services.network_action_start(network_action=action, by=post_manager)


def test_cancelling_needs_a_reason(record_action, repair_office, post_manager):
    action = record_action(office=repair_office)
    with pytest.raises(ValidationError):
        services.network_action_cancel(network_action=action, by=post_manager, reason="  ")
    action = services.network_action_cancel(
        network_action=action, by=post_manager, reason="Đã có kinh phí khác"
    )
    assert action.events.last().details == {"reason": "Đã có kinh phí khác"}


def test_editing_an_action_records_what_changed(record_action, repair_office, post_manager):
    action = record_action(office=repair_office)
    new_due = action.due_date + timedelta(days=14)
    services.network_action_update(
        network_action=action, by=post_manager, responsible="commune", due_date=new_due, notes=action.notes
    )
    event = action.events.last()
    assert event.action == "network_action.updated"
    assert event.details["changes"] == {
        "responsible": ["post", "commune"],
        "due_date": [action.due_date.isoformat(), new_due.isoformat()],
    }
    # Saving the same values again appends nothing.
    services.network_action_update(
        network_action=action, by=post_manager, responsible="commune", due_date=new_due, notes=action.notes
    )
    assert action.events.count() == 2


def test_a_repair_is_for_an_existing_office(record_action, commune):
    with pytest.raises(ValidationError) as error:
        record_action(commune=commune, kind=Kind.REPAIR)
    assert "post_office" in error.value.error_dict


def test_a_new_point_can_be_planned_for_a_commune_without_one(record_action, other_commune):
    action = record_action(commune=other_commune, kind=Kind.OPEN_POINT)
    assert action.post_office is None and action.commune == other_commune


def test_actions_outside_the_users_scope_are_refused(record_action, far_commune, far_post):
    with pytest.raises(ValidationError) as error:
        record_action(commune=far_commune, kind=Kind.FIND_PREMISES)
    assert "ngoài phạm vi" in messages(error.value)
    with pytest.raises(ValidationError):
        record_action(office=far_post)
    assert not NetworkAction.objects.exists()


def test_roles_without_the_right_cannot_write(record_action, repair_office, leader, official, postal_staff):
    for user in (leader, official, postal_staff):
        with pytest.raises(PermissionDenied):
            record_action(office=repair_office, by=user)
    assert not NetworkAction.objects.exists()


# --- offices -------------------------------------------------------------------------------


def office_data(commune, parent, changes=()):
    data = {
        "code": "BDVHX-19141-2",
        "name": "Điểm BĐVHX thôn Đại Phong",
        "kind": PostOffice.Kind.CULTURAL,
        "commune": commune,
        "parent": parent,
        "floor_area_m2": 40,
        "staff_count": 1,
    }
    data.update(dict(changes))
    return data


def test_creating_an_office_records_its_fields(post_manager, other_commune, district_post):
    office = services.post_office_create(by=post_manager, data=office_data(other_commune, district_post))
    event = office.events.get()
    assert (event.action, event.actor) == ("post_office.created", post_manager)
    assert event.details["fields"]["commune"] == "19141"
    assert event.details["fields"]["floor_area_m2"] == "40"


@pytest.mark.parametrize(
    "changes, field, text",
    [
        ({"floor_area_m2": -12}, "floor_area_m2", "lớn hơn 0"),
        ({"floor_area_m2": 0}, "floor_area_m2", "lớn hơn 0"),
        ({"floor_area_m2": 50_000}, "floor_area_m2", "10.000 m²"),
        ({"code": "BDVHX-19111"}, "code", "đã có bưu cục khác"),
        ({"code": "BĐVHX 1"}, "code", "chỉ gồm"),
        ({"parent": None}, "parent", "bưu cục cấp trên"),
        ({"latitude": 17.5}, "longitude", "cả vĩ độ và kinh độ"),
        ({"staff_count": 5000}, "staff_count", "1000"),
    ],
)
def test_bad_office_input_is_refused_with_a_clear_message(
    post_manager, other_commune, district_post, post_office, changes, field, text
):
    with pytest.raises(ValidationError) as error:
        services.post_office_create(by=post_manager, data=office_data(other_commune, district_post, changes))
    assert text in " ".join(error.value.message_dict[field])
    assert not PostOffice.objects.filter(name="Điểm BĐVHX thôn Đại Phong").exists()


def test_an_office_in_a_commune_outside_the_scope_is_refused(post_manager, far_commune, district_post):
    with pytest.raises(ValidationError) as error:
        services.post_office_create(by=post_manager, data=office_data(far_commune, district_post))
    assert error.value.message_dict["commune"] == ["Phường Đông Hà nằm ngoài phạm vi quản lý của bạn."]


def test_an_office_cannot_be_placed_under_its_own_child(administrator, district_post, post_office):
    with pytest.raises(ValidationError) as error:
        services.post_office_update(office=district_post, by=administrator, data={"parent": post_office})
    assert "parent" in error.value.message_dict


def test_updating_an_office_records_the_changes_only_when_there_are_some(post_manager, post_office):
    services.post_office_update(office=post_office, by=post_manager, data={"name": post_office.name})
    assert not post_office.events.exists()
    services.post_office_update(
        office=post_office,
        by=post_manager,
        data={"condition": PostOffice.Condition.DEGRADED, "status": PostOffice.Status.SUSPENDED},
    )
    event = post_office.events.get()
    assert event.details["changes"] == {
        "condition": ["good", "degraded"],
        "status": ["operating", "suspended"],
    }
    assert (event.from_status, event.to_status) == ("operating", "suspended")


def test_editing_an_office_of_another_network_is_denied(far_manager, post_office):
    with pytest.raises(PermissionDenied):
        services.post_office_update(office=post_office, by=far_manager, data={"name": "Đổi tên"})
    post_office.refresh_from_db()
    assert post_office.name == "Bưu điện văn hóa xã Hoàn Lão"

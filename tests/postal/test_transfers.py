"""Task transfers to postal staff: plan, update, complete, the matrix and per-field progress."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from postal import selectors, transfers
from postal.models import TaskTransfer, TaskTransferEvent

T = TaskTransfer.Task


@pytest.fixture
def planned(post_manager, commune, justice, postal_staff):
    return transfers.plan_transfer(
        by=post_manager,
        unit=commune,
        field=justice,
        task=T.INTAKE,
        planned_date=date(2022, 7, 31),
        staff=[postal_staff],
    )


def test_planning_records_who_did_it(planned, post_manager, postal_staff):
    assert planned.status == TaskTransfer.Status.PLANNED
    assert list(planned.staff.all()) == [postal_staff]
    event = TaskTransferEvent.objects.get(transfer=planned)
    assert (event.action, event.actor) == ("transfer.planned", post_manager)


def test_completion_and_lateness(planned, leader):
    transfers.complete_transfer(transfer=planned, by=leader, done_date=date(2022, 8, 2))
    planned.refresh_from_db()
    assert planned.status == TaskTransfer.Status.DONE
    assert selectors.transfer_state(planned) == "done_late"
    assert planned.events.order_by("id").last().details["late"] is True


def test_done_date_in_the_future_is_refused(planned, post_manager):
    with pytest.raises(ValidationError, match="tương lai"):
        transfers.complete_transfer(
            transfer=planned, by=post_manager, done_date=timezone.localdate() + timedelta(days=1)
        )
    planned.refresh_from_db()
    assert planned.status == TaskTransfer.Status.PLANNED and planned.done_date is None


def test_a_field_that_does_not_exist_is_refused(post_manager, commune):
    with pytest.raises(ValidationError, match="không tồn tại"):
        transfers.plan_transfer(
            by=post_manager, unit=commune, field=999999, task=T.INTAKE, planned_date=date(2022, 7, 31)
        )
    assert not TaskTransfer.objects.exists()


def test_a_unit_outside_scope_is_refused(leader, far_commune, justice):
    with pytest.raises(ValidationError, match="ngoài phạm vi"):
        transfers.plan_transfer(
            by=leader, unit=far_commune, field=justice, task=T.INTAKE, planned_date=date(2022, 7, 31)
        )
    assert not TaskTransfer.objects.exists()


def test_postal_staff_cannot_plan(postal_staff, commune, justice):
    with pytest.raises(ValidationError):
        transfers.plan_transfer(
            by=postal_staff, unit=commune, field=justice, task=T.INTAKE, planned_date=date(2022, 7, 31)
        )


def test_the_same_task_twice_is_refused(planned, post_manager, commune, justice):
    with pytest.raises(ValidationError, match="đã có kế hoạch"):
        transfers.plan_transfer(
            by=post_manager, unit=commune, field=justice, task=T.INTAKE, planned_date=date(2022, 8, 31)
        )


def test_update_keeps_the_change_in_history(planned, post_manager):
    transfers.update_transfer(transfer=planned, by=post_manager, planned_date=date(2022, 9, 30), staff=[])
    planned.refresh_from_db()
    assert planned.planned_date == date(2022, 9, 30)
    last = planned.events.order_by("id").last()
    assert last.action == "transfer.updated" and "planned_date" in last.details and "staff" in last.details


def test_progress_per_field(post_manager, leader, commune, other_commune, justice, land):
    done = transfers.plan_transfer(
        by=post_manager, unit=commune, field=justice, task=T.INTAKE, planned_date=date(2022, 7, 31)
    )
    transfers.complete_transfer(transfer=done, by=post_manager, done_date=date(2022, 7, 20))
    transfers.plan_transfer(
        by=post_manager, unit=other_commune, field=justice, task=T.INTAKE, planned_date=date(2022, 7, 31)
    )
    transfers.plan_transfer(
        by=post_manager,
        unit=commune,
        field=land,
        task=T.RETURN,
        planned_date=timezone.localdate() + timedelta(days=30),
    )
    progress = {p["field"]: p for p in selectors.transfer_progress(leader)}
    assert (progress["Tư pháp"]["done"], progress["Tư pháp"]["total"], progress["Tư pháp"]["late"]) == (
        1,
        2,
        1,
    )
    assert (progress["Đất đai"]["done"], progress["Đất đai"]["total"], progress["Đất đai"]["late"]) == (
        0,
        1,
        0,
    )


def test_matrix_page_for_leaders_not_for_postal_staff(
    client_for, leader, postal_staff, planned, other_commune
):
    response = client_for(leader).get(reverse("postal:transfer_matrix"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Xã Hoàn Lão" in body and "Xã Bố Trạch" in body and "31/07/2022" in body
    client_for(postal_staff)
    assert client_for(postal_staff).get(reverse("postal:transfer_matrix")).status_code == 403


def test_transfer_of_another_district_is_a_404(
    client_for, post_manager, far_commune, justice, province_leader, leader
):
    transfer = transfers.plan_transfer(
        by=province_leader, unit=far_commune, field=justice, task=T.INTAKE, planned_date=date(2022, 7, 31)
    )
    assert client_for(leader).get(reverse("postal:transfer_detail", args=[transfer.pk])).status_code == 404


def test_form_with_an_unknown_field_says_so(client_for, post_manager, commune):
    response = client_for(post_manager).post(
        reverse("postal:transfer_create"),
        {"unit": commune.pk, "field": 999999, "task": "intake", "planned_date": "31/07/2022"},
    )
    assert "Lĩnh vực không tồn tại" in response.content.decode()
    assert not TaskTransfer.objects.exists()


def test_matrix_queries_do_not_grow_with_communes(client_for, leader, planned, django_assert_max_num_queries):
    client = client_for(leader)
    with django_assert_max_num_queries(20) as ctx:
        client.get(reverse("postal:transfer_matrix"))
    with django_assert_max_num_queries(len(ctx.captured_queries)):
        client.get(reverse("postal:transfer_matrix"))

"""History cannot be rewritten: every *Event table refuses change and deletion — in the model,
in bulk and in the admin — and leaders read who did what on the dossier page."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from communes.models import (
    NetworkAction,
    NetworkActionEvent,
    PostOfficeEvent,
)
from core.models import AppendOnlyError
from dossiers.models import DossierEvent
from postal.models import ItemEvent, PostalItem, TaskTransfer, TaskTransferEvent
from privacy.models import AnonymisedDossier, PersonalDataAccess
from reports.models import Target, TargetChange

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(dossier, item, official, postal_staff, post_office, commune, procedure, leader):
    now = timezone.now()
    action = NetworkAction.objects.create(
        kind=NetworkAction._meta.get_field("kind").choices[0][0], commune=commune, post_office=post_office,
        responsible=NetworkAction._meta.get_field("responsible").choices[0][0], due_date=date(2026, 12, 31),
    )  # fmt: skip
    transfer = TaskTransfer.objects.create(
        unit=commune, field=procedure.field, task="intake", planned_date=date(2026, 9, 1)
    )
    target = Target.objects.create(
        unit=commune, year=2026, metric=Target._meta.get_field("metric").choices[0][0], value=50
    )
    return {
        DossierEvent: DossierEvent.objects.create(
            dossier=dossier, actor=official, at=now, action="dossier.accepted"
        ),
        ItemEvent: ItemEvent.objects.create(item=item, actor=postal_staff, at=now, action="item.accepted"),
        NetworkActionEvent: NetworkActionEvent.objects.create(
            network_action=action, actor=leader, action="x"
        ),
        PostOfficeEvent: PostOfficeEvent.objects.create(post_office=post_office, actor=leader, action="x"),
        TaskTransferEvent: TaskTransferEvent.objects.create(
            transfer=transfer, actor=leader, at=now, action="x"
        ),
        TargetChange: TargetChange.objects.create(target=target, actor=leader, at=now, new_value=50),
    }


HISTORY_MODELS = [
    DossierEvent, ItemEvent, NetworkActionEvent, PostOfficeEvent, TaskTransferEvent, TargetChange,
]  # fmt: skip


@pytest.mark.parametrize("model", HISTORY_MODELS, ids=lambda m: m.__name__)
def test_saving_an_existing_history_row_raises(history, model):
    row = history[model]
    row.at = timezone.now()
    with pytest.raises(AppendOnlyError):
        row.save()


@pytest.mark.parametrize("model", HISTORY_MODELS, ids=lambda m: m.__name__)
def test_deleting_a_history_row_raises(history, model):
    with pytest.raises(AppendOnlyError):
        history[model].delete()
    assert model.objects.filter(pk=history[model].pk).exists()


@pytest.mark.parametrize("model", HISTORY_MODELS, ids=lambda m: m.__name__)
def test_bulk_update_and_delete_of_history_raise(history, model):
    with pytest.raises(AppendOnlyError):
        model.objects.filter(pk=history[model].pk).update(at=timezone.now())
    with pytest.raises(AppendOnlyError):
        model.objects.all().delete()
    assert model.objects.count() == 1


@pytest.mark.parametrize(
    "model", [*HISTORY_MODELS, PersonalDataAccess, AnonymisedDossier], ids=lambda m: m.__name__
)
def test_admin_has_no_add_change_or_delete_permission(administrator, model):
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/")
    request.user = administrator
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert model_admin.has_view_permission(request)


@pytest.mark.parametrize("model", HISTORY_MODELS, ids=lambda m: m.__name__)
def test_admin_refuses_to_delete_or_change_a_history_row(client_for, administrator, history, model):
    row = history[model]
    client = client_for(administrator)
    info = (model._meta.app_label, model._meta.model_name)
    delete = client.post(reverse("admin:{}_{}_delete".format(*info), args=[row.pk]), {"post": "yes"})
    assert delete.status_code == 403
    change_url = reverse("admin:{}_{}_change".format(*info), args=[row.pk])
    page = client.get(change_url)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(change_url, {}).status_code == 403
    assert model.objects.filter(pk=row.pk).exists()


def test_history_inlines_cannot_be_edited(administrator):
    request = RequestFactory().get("/")
    request.user = administrator
    for parent in (PostalItem, TaskTransfer, Target):
        for inline in admin.site._registry[parent].get_inline_instances(request):
            if inline.model in HISTORY_MODELS:
                assert not inline.has_add_permission(request, None)
                assert not inline.has_change_permission(request, None)
                assert not inline.has_delete_permission(request, None)


def test_workflow_events_appear_with_actor_names_for_the_leader(
    client_for, leader, official, commune, log_dossier
):
    from dossiers import workflow

    dossier = log_dossier()
    workflow.start_processing(dossier=dossier, by=official, expected_version=dossier.version)
    page = client_for(leader).get(reverse("dossiers:detail", args=[dossier.pk]))
    assert page.status_code == 200
    timeline = page.content.decode().split('data-testid="timeline"')[1]
    assert official.full_name in timeline
    assert timeline.count("<li") == dossier.events.count() == 2


def test_leader_outside_the_scope_cannot_read_the_timeline(client_for, far_commune, make_dossier):
    from accounts.models import Role
    from tests.conftest import make_user

    dossier = make_dossier()
    stranger = make_user("lanhdaokhac", Role.LEADER, unit=far_commune)
    assert client_for(stranger).get(reverse("dossiers:detail", args=[dossier.pk])).status_code == 404

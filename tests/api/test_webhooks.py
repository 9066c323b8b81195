"""Outbound webhooks: subscriptions, signatures a receiver verifies, retries with back-off for
24 hours, disabling with a note to the administrators, the attempt log and replay."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from api import webhooks
from api.models import WebhookDelivery, WebhookSubscription
from dossiers import workflow
from dossiers.models import Dossier, Status

from .conftest import at
from .fakes import Receiver

pytestmark = pytest.mark.django_db
NOW = at("2026-03-04", 10)


@pytest.fixture
def receiver():
    with Receiver() as fake:
        yield fake


@pytest.fixture
def subscribed(api_for, province_system, receiver):
    """The provincial system subscribes through the API; the receiver learns the secret."""
    answer = api_for(province_system[1]).post(
        "/api/v1/webhooks",
        {"url": receiver.url, "events": ["dossier.status_changed", "dossier.result_ready"]},
    )
    assert answer.status_code == 201, answer.json()
    receiver.secret = answer.json()["secret"]
    return WebhookSubscription.objects.get(pk=answer.json()["id"])


@pytest.fixture
def dossier(commune, procedure):
    return Dossier.objects.create(
        code="000.01.16.H44-260302-0001",
        procedure=procedure,
        receiving_unit=commune,
        applicant_name="Nguyễn Văn An",
        applicant_id_number="044090001234",
        tracking_pin="123456",
        return_channel="bcci",
        status=Status.PROCESSING,
        received_at=at("2026-03-02"),
        due_date=date(2026, 3, 5),
        original_due_date=date(2026, 3, 5),
    )


def test_a_desk_change_reaches_the_subscriber_signed(
    subscribed, receiver, dossier, official, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        workflow.finish(dossier=dossier, by=official)
    assert [message["type"] for message in receiver.messages] == [
        "dossier.status_changed",
        "dossier.result_ready",
    ]
    data = receiver.messages[0]["data"]
    assert data["code"] == dossier.code and (data["from_status"], data["to_status"]) == (4, 9)
    assert "044090001234" not in str(receiver.messages)  # no personal data in webhooks
    assert not receiver.rejected
    delivery = WebhookDelivery.objects.filter(subscription=subscribed).first()
    assert delivery.status == "delivered" and delivery.attempt_log.get().status_code == 204


def test_another_units_changes_are_not_sent(
    api_for, commune_system, receiver, dossier, other_commune, official, django_capture_on_commit_callbacks
):
    from api.clients import create_client

    _client, token = create_client(name="other", unit=other_commune, scopes=["webhooks:manage"])
    answer = api_for(token).post(
        "/api/v1/webhooks", {"url": receiver.url, "events": ["dossier.status_changed"]}
    )
    receiver.secret = answer.json()["secret"]
    with django_capture_on_commit_callbacks(execute=True):
        workflow.finish(dossier=dossier, by=official)
    assert receiver.messages == []


def test_failures_are_retried_with_back_off_and_logged(
    subscribed, receiver, dossier, official, django_capture_on_commit_callbacks
):
    receiver.fail_next = 3
    with time_machine.travel(NOW, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            workflow.finish(dossier=dossier, by=official)
        deliveries = list(WebhookDelivery.objects.order_by("id"))
        assert [d.status for d in deliveries] == ["pending", "pending"]
        assert {d.next_attempt_at for d in deliveries} == {NOW + timedelta(seconds=30)}
        assert webhooks.send_due() == 0  # not due yet
    with time_machine.travel(NOW + timedelta(seconds=31), tick=False):
        assert webhooks.send_due() == 2  # one fails again (its next try in 2 minutes), one passes
    with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
        assert webhooks.send_due() == 0
    with time_machine.travel(NOW + timedelta(minutes=3), tick=False):
        assert webhooks.send_due() == 1
    codes = sorted(
        [a.status_code for a in delivery.attempt_log.all()] for delivery in WebhookDelivery.objects.all()
    )
    assert codes == [[500, 204], [500, 500, 204]]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}
    # Each message arrived once, whatever the retries.
    assert sorted(m["type"] for m in receiver.messages) == ["dossier.result_ready", "dossier.status_changed"]


def test_a_stalled_receiver_counts_as_a_failure(
    subscribed, receiver, dossier, official, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(webhooks, "TIMEOUT_SECONDS", 0.5)
    receiver.stall_next, receiver.stall_seconds = 1, 1.5
    with django_capture_on_commit_callbacks(execute=True):
        workflow.finish(dossier=dossier, by=official)
    first = WebhookDelivery.objects.order_by("id").first()
    assert first.status == "pending" and "timed out" in first.attempt_log.get().error.lower()


def test_a_day_of_failures_disables_the_subscription_and_tells_the_administrators(
    subscribed, receiver, dossier, official, settings, django_capture_on_commit_callbacks
):
    settings.ADMINS = [("Quản trị", "quantri@example.org")]
    receiver.fail_next = 1000
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        workflow.finish(dossier=dossier, by=official)
    moment = NOW
    for _ in range(12):
        delivery = WebhookDelivery.objects.get(event_type="dossier.status_changed")
        if delivery.next_attempt_at is None:
            break
        moment = delivery.next_attempt_at
        with time_machine.travel(moment, tick=False), django_capture_on_commit_callbacks(execute=True):
            webhooks.send_due()
    delivery.refresh_from_db()
    assert delivery.status == "failed" and moment == NOW + timedelta(hours=24)
    assert delivery.attempts == 8  # at 0, 30 s, 2½ min, 10½ min, 42½ min, 2 h 50, 11 h 22, 24 h
    subscribed.refresh_from_db()
    assert not subscribed.is_active and "24" in subscribed.disabled_note
    assert len(mail.outbox) == 1 and "one-stop-44" in mail.outbox[0].subject


def test_the_administrator_sends_a_message_again(
    subscribed, receiver, dossier, official, administrator, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        workflow.finish(dossier=dossier, by=official)
    delivery = WebhookDelivery.objects.get(event_type="dossier.status_changed")
    client.force_login(administrator)
    page = client.get(reverse("admin:api_webhookdelivery_change", args=[delivery.pk]))
    assert page.status_code == 200 and b"204" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:api_webhookdelivery_changelist"),
            {"action": "send_again", "_selected_action": [delivery.pk]},
        )
    assert receiver.ids.count(delivery.message_id) == 2  # same id: the receiver can tell it is a repeat
    assert delivery.attempt_log.count() == 2


def test_item_and_handover_events_reach_a_carrier_subscription(
    api_for,
    carrier,
    receiver,
    dossier,
    official,
    postal_staff,
    post_office,
    django_capture_on_commit_callbacks,
):
    from postal import services as postal_services

    answer = api_for(carrier[1]).post(
        "/api/v1/webhooks", {"url": receiver.url, "events": ["item.status_changed", "handover.signed"]}
    )
    receiver.secret = answer.json()["secret"]
    with django_capture_on_commit_callbacks(execute=True):
        workflow.finish(dossier=dossier, by=official)
        item = postal_services.create_return_item(dossier=dossier, by=official, post_office=post_office)
        handover = postal_services.create_handover(
            by=official, direction="desk_to_post", desk_unit=dossier.receiving_unit, post_office=post_office
        )
        postal_services.add_item_to_handover(handover=handover, by=official, code=item.code)
        postal_services.sign_handover(handover=handover, by=official)
        postal_services.sign_handover(handover=handover, by=postal_staff)
    types = [message["type"] for message in receiver.messages]
    assert types.count("handover.signed") == 1
    signed = receiver.of_type("handover.signed")[0]["data"]
    assert signed["items"] == [item.code] and signed["unit"] == dossier.receiving_unit.code
    moves = [
        (m["data"]["from_status"], m["data"]["to_status"]) for m in receiver.of_type("item.status_changed")
    ]
    assert moves == [(None, "created"), ("created", "accepted")]


def test_weekly_rates_are_announced_once_per_computation(
    api_for, province_system, receiver, dossier, django_capture_on_commit_callbacks
):
    from reports.services import aggregation

    answer = api_for(province_system[1]).post(
        "/api/v1/webhooks", {"url": receiver.url, "events": ["weekly_rates.updated"]}
    )
    receiver.secret = answer.json()["secret"]
    aggregation.compute_weeks(mondays=[date(2026, 3, 2)])
    with django_capture_on_commit_callbacks(execute=True):
        assert webhooks.announce_new_weekly_rates() == 1
        assert webhooks.announce_new_weekly_rates() == 0
    assert receiver.messages[0]["data"]["weeks"] == ["2026-W10"]


def test_subscriptions_are_managed_by_their_own_client(api_for, province_system, carrier, receiver):
    mine = api_for(province_system[1]).post(
        "/api/v1/webhooks", {"url": receiver.url, "events": ["dossier.result_ready"]}
    )
    pk = mine.json()["id"]
    assert api_for(carrier[1]).get(f"/api/v1/webhooks/{pk}").status_code == 404
    assert api_for(carrier[1]).delete(f"/api/v1/webhooks/{pk}").status_code == 404
    bad = api_for(province_system[1]).post("/api/v1/webhooks", {"url": "ftp://x", "events": ["nothing"]})
    assert bad.status_code == 400 and {e["field"] for e in bad.json()["errors"]} == {"url", "events"}
    assert api_for(province_system[1]).delete(f"/api/v1/webhooks/{pk}").status_code == 204
    assert not WebhookSubscription.objects.exists()

"""Notices to the citizen: what is queued on which event, sent once, on which channel."""

from __future__ import annotations

import pytest

from dossiers import workflow
from dossiers.models import ReturnChannel
from notify import services
from notify.models import Channel, Event, Message, MessageStatus

pytestmark = pytest.mark.django_db


def events_of(dossier):
    return list(Message.objects.filter(dossier=dossier).order_by("id").values_list("event", flat=True))


def test_bcci_journey_sends_the_citizen_each_step_in_order_with_the_item_code(sms, log_dossier, journey):
    dossier = log_dossier()
    item = journey(dossier)
    assert events_of(dossier) == [Event.RECEIVED, Event.RESULT_READY, Event.HANDED_TO_POST, Event.DELIVERED]
    assert set(Message.objects.filter(dossier=dossier).values_list("status", flat=True)) == {
        MessageStatus.SENT
    }
    texts = [body["message"] for body in sms.delivered["/sms"]]
    assert len(texts) == 4
    assert dossier.code in texts[0] and dossier.due_date.strftime("%d/%m/%Y") in texts[0]
    assert item.code in texts[2] and item.target_date.strftime("%d/%m/%Y") in texts[2]
    assert "/rate/" in texts[3]
    assert all("/stop/" in text and len(text) <= 400 for text in texts)
    # Law 91/2025: no identity number, no name, no address in any message.
    assert not any("001234567889" in t or "Bình" in t or "Thôn 2" in t for t in texts)
    assert sms.problems == []


def test_supplement_message_says_what_to_bring(
    sms, log_dossier, official, django_capture_on_commit_callbacks
):
    dossier = log_dossier()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.request_supplement(dossier=dossier, by=official, items="Bản sao giấy chứng sinh")
    assert "Bản sao giấy chứng sinh" in sms.delivered["/sms"][-1]["message"]


def test_two_failed_notices_tell_the_citizen_once_and_then_that_the_result_is_back(sms, log_dossier, journey):
    dossier = log_dossier()
    journey(dossier, fail_twice=True)
    assert events_of(dossier) == [
        Event.RECEIVED,
        Event.RESULT_READY,
        Event.HANDED_TO_POST,
        Event.DELIVERY_FAILED,
        Event.BACK_AT_DESK,
    ]


def test_a_citizen_who_declined_at_intake_gets_nothing_and_the_reason_is_recorded(sms, log_dossier, journey):
    dossier = log_dossier(messages_declined=True)
    journey(dossier)
    assert set(Message.objects.filter(dossier=dossier).values_list("status", flat=True)) == {
        MessageStatus.OPTED_OUT
    }
    assert sms.requests["/sms"] == 0


def test_no_phone_number_is_recorded_as_not_sent(sms, log_dossier):
    # A result collected at the desk needs no phone; a result by post does (dossiers.services).
    dossier = log_dossier(applicant_phone="", return_channel=ReturnChannel.DESK, decline_reason="in_person")
    message = Message.objects.get(dossier=dossier)
    assert message.status == MessageStatus.NO_PHONE and sms.requests["/sms"] == 0


def test_the_same_event_twice_queues_one_message(sms, log_dossier, django_capture_on_commit_callbacks):
    dossier = log_dossier()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.queue(dossier=dossier, event=Event.RECEIVED) is None
    assert Message.objects.filter(dossier=dossier).count() == 1
    assert len(sms.delivered["/sms"]) == 1


def test_zns_first_with_template_id_and_parameters(zns, log_dossier):
    dossier = log_dossier()
    message = Message.objects.get(dossier=dossier)
    assert message.channel == Channel.ZNS and message.status == MessageStatus.SENT
    body = zns.delivered["/zns"][0]
    assert body["template_id"] == "200000" and body["phone"] == "84912345678"
    assert body["template_data"]["ma_ho_so"] == dossier.code
    assert zns.requests["/sms"] == 0


def test_zns_refusal_falls_back_to_sms_at_once(zns, log_dossier):
    zns.zns_error = -118  # not a Zalo user: trying again will not help
    dossier = log_dossier()
    statuses = dict(Message.objects.filter(dossier=dossier).values_list("channel", "status"))
    assert statuses == {Channel.ZNS: MessageStatus.FAILED, Channel.SMS: MessageStatus.SENT}
    assert len(zns.delivered["/sms"]) == 1


def test_an_unreachable_endpoint_is_retried_with_back_off(sms, log_dossier, time_machine):
    sms.mode = "down"
    dossier = log_dossier()
    message = Message.objects.get(dossier=dossier)
    assert message.status == MessageStatus.QUEUED and message.attempts == 1
    first_retry = message.next_attempt_at
    assert services.send_due() == 0  # not due yet
    time_machine.move_to(first_retry, tick=False)
    services.send_due(now=first_retry)
    message.refresh_from_db()
    assert message.attempts == 2
    assert (message.next_attempt_at - first_retry).total_seconds() == 120
    sms.mode = "ok"
    services.send_due(now=message.next_attempt_at)
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and len(sms.delivered["/sms"]) == 1


def test_default_backend_writes_to_the_outbox_log(log_dossier, caplog, settings):
    settings.NOTIFY_SMS_URL = ""
    settings.NOTIFY_ZNS_URL = ""
    with caplog.at_level("INFO", logger="notify.channels"):
        dossier = log_dossier()
    message = Message.objects.get(dossier=dossier)
    assert message.status == MessageStatus.OUTBOX and message.channel == Channel.SMS
    assert dossier.code in caplog.text and "0912***678" in caplog.text
    assert "0912345678" not in caplog.text


def test_stop_link_stops_further_messages(client, sms, log_dossier, journey):
    dossier = log_dossier()
    url = f"/stop/{services.stop_token(dossier.pk)}/"
    assert client.get(url).status_code == 200
    dossier.refresh_from_db()
    assert not dossier.messages_declined  # a link preview must not unsubscribe
    assert client.post(url).status_code == 302
    dossier.refresh_from_db()
    assert dossier.messages_declined
    journey(dossier)
    assert len(sms.delivered["/sms"]) == 1
    assert client.get(f"/stop/{dossier.pk}-000000000000/").status_code == 404


def test_dossier_page_shows_message_statuses(client_for, official, other_official, sms, log_dossier):
    dossier = log_dossier()
    page = client_for(official).get(f"/dossiers/{dossier.pk}/")
    assert page.status_code == 200
    assert 'data-testid="message-row"' in page.content.decode()
    assert client_for(other_official).get(f"/dossiers/{dossier.pk}/").status_code == 404


@pytest.mark.parametrize("declined", [False, True])
def test_bcci_intake_tells_the_citizen_when_the_desk_signs_the_handover(
    sms, declined, postal_staff, official, commune, post_office, procedure, step
):
    from postal import services as postal
    from postal.models import Handover

    item = step(
        postal.receive_bcci_dossier,
        by=postal_staff,
        receiving_unit=commune,
        procedure=procedure,
        applicant_name="Hoàng Thị Cúc",
        applicant_phone="0987654321",
        applicant_address="Thôn 3, Xã Hoàn Lão",
        documents=[{"name": "Tờ khai", "form": "original", "count": 1}],
        messages_declined=declined,
    )
    assert not Message.objects.exists()  # not received yet: the handover is the legal submission
    handover = step(
        postal.create_handover,
        by=postal_staff,
        direction=Handover.Direction.POST_TO_DESK,
        desk_unit=commune,
        post_office=post_office,
    )
    step(postal.add_item_to_handover, handover=handover, by=postal_staff, code=item.code)
    step(postal.sign_handover, handover=handover, by=postal_staff)
    step(postal.sign_handover, handover=handover, by=official)
    message = Message.objects.get(dossier=item.dossier)
    assert message.event == Event.RECEIVED
    assert message.status == (MessageStatus.OPTED_OUT if declined else MessageStatus.SENT)
    assert len(sms.delivered["/sms"]) == (0 if declined else 1)

"""Faults: the SMS/ZNS gateway or the portal down for an hour, answers lost to timeouts, a flaky
endpoint. Once it is back nothing is lost and nothing reaches the citizen or the portal twice.

The hour is simulated: the beat sweep runs once a minute (``send_due(now=…)``) over 60 minutes of
outage and then until the queue is empty; the fake endpoint answers 503 meanwhile."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dvcqg import services as sync
from dvcqg.models import SyncEntry
from notify import services
from notify.models import Message, MessageStatus

pytestmark = pytest.mark.django_db


def sweep(start, minutes: int, *, portal=False):
    for minute in range(minutes):
        now = start + timedelta(minutes=minute)
        services.send_due(now=now)
        if portal:
            sync.send_due(now=now)


def assert_each_once(fake, path: str, expected: int):
    assert len(fake.delivered[path]) == expected
    assert set(fake.keys[path].keys()) and all(n >= 1 for n in fake.keys[path].values())
    keys = [fake._key(path, body, {}) for body in fake.delivered[path]] if path != "/dvcqg" else None
    if keys is not None:
        assert len(keys) == len(set(keys)), "a message reached the citizen twice"


def test_sms_gateway_down_for_an_hour_loses_nothing_and_sends_nothing_twice(sms, log_dossier, journey):
    sms.mode = "down"
    start = timezone.now()
    dossiers = [log_dossier() for _ in range(3)]
    for dossier in dossiers:
        journey(dossier)
    expected = Message.objects.count()
    assert expected == 12
    sweep(start, 60)
    assert sms.delivered["/sms"] == []
    assert not Message.objects.filter(status=MessageStatus.FAILED).exists()
    attempts = set(Message.objects.values_list("attempts", flat=True))
    assert max(attempts) >= 6  # 1, 2, 4, 8, 16, 32 minutes of back-off within the hour
    sms.mode = "ok"
    sweep(start + timedelta(minutes=60), 61)
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.SENT}
    assert_each_once(sms, "/sms", expected)
    for dossier in dossiers:
        texts = [b["message"] for b in sms.delivered["/sms"] if dossier.code in b["message"]]
        assert len(texts) == 4


def test_zns_down_for_an_hour_falls_back_to_sms_once(zns, log_dossier, settings):
    zns.mode = "down"
    start = timezone.now()
    dossier = log_dossier()
    sweep(start, 5)  # attempts at 0, 1 and 3 minutes: ZNS gives up after the third
    zns.mode = "ok"
    sweep(start + timedelta(minutes=5), 60)
    assert dict(Message.objects.filter(dossier=dossier).values_list("channel", "status")) == {
        "zns": MessageStatus.FAILED,
        "sms": MessageStatus.SENT,
    }
    assert zns.delivered["/zns"] == [] and len(zns.delivered["/sms"]) == 1


def test_an_answer_lost_to_a_timeout_does_not_send_twice(sms, log_dossier, settings):
    sms.mode = "timeout_after_accept"  # the gateway sends, but its answer comes too late
    sms.delay = 1.0
    dossier = log_dossier()
    message = Message.objects.get(dossier=dossier)
    assert message.status == MessageStatus.QUEUED and message.last_error == "timeout"
    sms.mode = "ok"
    services.send(message_id=message.pk, now=message.next_attempt_at)
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert sms.requests["/sms"] == 2 and len(sms.delivered["/sms"]) == 1  # the repeat was dropped


def test_portal_down_for_an_hour_keeps_every_change_in_order(portal, sms, log_dossier, journey):
    portal.mode = "down"
    start = timezone.now()
    dossiers = [log_dossier() for _ in range(3)]
    for dossier in dossiers:
        journey(dossier)
    sweep(start, 60, portal=True)
    assert portal.delivered["/dvcqg"] == []
    portal.mode = "ok"
    sweep(start + timedelta(minutes=60), 61, portal=True)
    assert not SyncEntry.objects.exclude(status=SyncEntry.Status.SENT).exists()
    sent = portal.delivered["/dvcqg"]
    assert len(sent) == SyncEntry.objects.count() == 9
    for dossier in dossiers:
        assert [p["SoThuTuThayDoi"] for p in sent if p["MaHoSo"] == dossier.code] == [1, 2, 3]
    assert all(n == 1 for n in portal.keys["/dvcqg"].values())  # each change once
    assert portal.problems == []


def test_a_flaky_endpoint_that_also_times_out_gets_everything_exactly_once(portal, sms, log_dossier, journey):
    portal.mode = sms.mode = "flaky"
    portal.flaky_rate = 0.5
    start = timezone.now()
    dossiers = [log_dossier() for _ in range(2)]
    for dossier in dossiers:
        journey(dossier)
    portal.mode = "timeout"
    portal.delay = 0.8
    sweep(start, 2, portal=True)
    portal.mode = "flaky"
    sweep(start + timedelta(minutes=2), 240, portal=True)
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.SENT}
    assert not SyncEntry.objects.exclude(status=SyncEntry.Status.SENT).exists()
    assert len(sms.delivered["/sms"]) == Message.objects.count()
    assert len(portal.delivered["/dvcqg"]) == SyncEntry.objects.count()
    for dossier in dossiers:
        seqs = [p["SoThuTuThayDoi"] for p in portal.delivered["/dvcqg"] if p["MaHoSo"] == dossier.code]
        assert seqs == sorted(seqs) == [1, 2, 3]

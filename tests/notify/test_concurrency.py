"""Two workers on the same message or the same dossier's portal queue (PostgreSQL row locks):
the citizen gets the message once, the portal each change once and in order."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from dvcqg import services as sync
from dvcqg.models import SyncEntry
from notify import services
from notify.models import Message, MessageStatus

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks need PostgreSQL: run with DATABASE_URL=postgres://… (as .ci/run does)",
)
pytestmark = [needs_postgresql, pytest.mark.django_db(transaction=True)]


def run_together(target, workers: int = 4):
    barrier = threading.Barrier(workers)
    errors = []

    def work():
        try:
            barrier.wait()
            target()
        except Exception as exc:  # collected and asserted by the caller
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_four_workers_send_one_queued_message_once(sms, log_dossier):
    sms.mode = "down"
    dossier = log_dossier()
    message = Message.objects.get(dossier=dossier)
    sms.mode = "ok"
    sms.delay = 0.3
    errors = run_together(lambda: services.send(message_id=message.pk, now=message.next_attempt_at))
    assert not errors
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.attempts == 2
    assert len(sms.delivered["/sms"]) == 1 and sms.requests["/sms"] == 2  # the failed one + one


def test_four_workers_on_one_dossier_send_each_change_once_in_order(portal, sms, log_dossier, journey):
    portal.mode = "down"
    dossier = log_dossier()
    journey(dossier)
    due = SyncEntry.objects.order_by("-next_attempt_at").first().next_attempt_at
    portal.mode = "ok"
    errors = run_together(lambda: sync.sync_dossier(dossier_id=dossier.pk, now=due))
    assert not errors
    sent = [p["SoThuTuThayDoi"] for p in portal.delivered["/dvcqg"]]
    assert sent == [1, 2, 3]
    assert all(n == 1 for n in portal.keys["/dvcqg"].values())

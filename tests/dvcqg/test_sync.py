"""The national portal sync: payloads as the interface expects (checked against the schema by
the fake endpoint), after commit, in order per dossier, retried, each attempt logged."""

from __future__ import annotations

import pytest

from dossiers import workflow
from dvcqg import payloads, services
from dvcqg.models import SyncAttempt, SyncEntry
from tests.notify.conftest import *  # noqa: F403 - the same fixtures as the notices

pytestmark = pytest.mark.django_db


def test_creation_and_every_status_change_reach_the_portal_in_order(portal, log_dossier, journey):
    dossier = log_dossier()
    journey(dossier)
    sent = portal.delivered["/dvcqg"]
    assert [p["TrangThaiHoSo"] for p in sent] == [2, 9, 10]
    assert [p["SoThuTuThayDoi"] for p in sent] == [1, 2, 3]
    last = sent[-1]
    assert last["MaHoSo"] == dossier.code and last["HinhThuc"] == 1  # returned by post
    assert last["NgayTra"] and last["QuaTrinhXuLy"][0]["NoiDungXuLy"] == "Đã trả kết quả"
    assert portal.problems == []
    assert not any("001234567889" in str(p) or "0912345678" in str(p) for p in sent)
    assert SyncEntry.objects.filter(status=SyncEntry.Status.SENT).count() == 3
    assert SyncAttempt.objects.filter(ok=True).count() == 3


def test_nothing_is_recorded_when_the_sync_is_off(settings, log_dossier):
    settings.DVCQG_URL = ""
    log_dossier()
    assert not SyncEntry.objects.exists()


def test_a_rolled_back_change_sends_nothing(portal, log_dossier, official):
    dossier = log_dossier()
    with pytest.raises(RuntimeError), __import__("django").db.transaction.atomic():
        workflow.finish(dossier=dossier, by=official)
        raise RuntimeError("the desk's transaction fails after the change")
    assert SyncEntry.objects.filter(dossier=dossier).count() == 1
    assert len(portal.delivered["/dvcqg"]) == 1


def test_a_later_change_waits_for_an_earlier_one(
    portal, log_dossier, official, django_capture_on_commit_callbacks
):
    portal.mode = "down"
    dossier = log_dossier()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.finish(dossier=dossier, by=official)
    first, second = SyncEntry.objects.filter(dossier=dossier).order_by("seq")
    assert first.attempts == 1 and second.attempts == 0  # never sent before the first
    portal.mode = "ok"
    services.send_due(now=first.next_attempt_at)
    assert [p["SoThuTuThayDoi"] for p in portal.delivered["/dvcqg"]] == [1, 2]
    log = list(SyncAttempt.objects.filter(entry=first).order_by("id").values_list("ok", "http_status"))
    assert log == [(False, 503), (True, 200)]


def test_a_payload_breaking_the_schema_is_not_sent(portal, log_dossier, monkeypatch):
    original = payloads.build

    def broken(**kwargs):
        payload = original(**kwargs)
        payload["TrangThaiHoSo"] = 42
        return payload

    monkeypatch.setattr(payloads, "build", broken)
    dossier = log_dossier()
    entry = SyncEntry.objects.get(dossier=dossier)
    assert entry.status == SyncEntry.Status.FAILED and "schema" in entry.last_error
    assert portal.requests["/dvcqg"] == 0


def test_the_schema_in_the_repository_accepts_what_we_build(portal, log_dossier):
    dossier = log_dossier()
    assert payloads.problems(SyncEntry.objects.get(dossier=dossier).payload) == []
    assert payloads.problems({"MaHoSo": "x"})  # and refuses an incomplete one

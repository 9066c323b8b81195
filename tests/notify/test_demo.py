"""demo/notify.py: the demo's delivered results have their messages and some ratings."""

from __future__ import annotations

from io import StringIO

import pytest

from demo import notify as demo
from notify.models import FollowUp, Message, MessageStatus, Rating

pytestmark = pytest.mark.django_db


def test_demo_gives_results_messages_and_ratings_once(sms, log_dossier, journey, commune, monkeypatch):
    monkeypatch.setattr(demo, "COMMUNE_CODES", [commune.code])
    dossiers = [log_dossier() for _ in range(6)]
    for dossier in dossiers:
        journey(dossier)
    # As the demo generator leaves them: delivered, but without messages or ratings.
    Message.objects.all().delete()
    Rating.objects.all().delete()
    monkeypatch.setattr(demo, "STARS", [1, 5])
    out = StringIO()
    demo.seed(options={"seed": 3}, stdout=out)
    assert "24 messages" in out.getvalue()
    assert Message.objects.filter(status=MessageStatus.OUTBOX).count() == 24
    assert Rating.objects.count() == 6
    low = Rating.objects.filter(stars=1).count()
    assert FollowUp.objects.count() == low
    demo.seed(options={"seed": 3}, stdout=StringIO())
    assert Message.objects.count() == 24 and Rating.objects.count() == 6

"""Fresh within a minute: writes are recounted a few seconds later, a burst shares one recount,
and the freshness line says how old the figures are and why when they are late."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse

from communes.models import DirtyWeek
from dossiers.models import DeclineReason, IntakeChannel, ReturnChannel
from dossiers.services import Intake, create_dossier
from reports import freshness, tasks
from reports.models import WeeklyRate
from reports.services import aggregation, recount
from tests.reports.conftest import local

pytestmark = pytest.mark.django_db

NOW = local(2026, 3, 18, 10)
THIS_WEEK = date(2026, 3, 16)
DASHBOARD = reverse("reports:dashboard")


@pytest.fixture(autouse=True)
def clean_cache():
    cache.clear()
    yield
    cache.clear()


def intake(official, commune, procedure):
    return create_dossier(
        by=official,
        receiving_unit=commune,
        intake=Intake(
            procedure=procedure,
            applicant_name="Nguyễn Văn An",
            intake_channel=IntakeChannel.IN_PERSON,
            return_channel=ReturnChannel.DESK,
            decline_reason=DeclineReason.IN_PERSON,
            documents=[{"name": "Tờ khai", "form": "original", "count": 1}],
        ),
    )


@pytest.fixture
def queued(broker_configured, monkeypatch):
    """A broker that takes the task: the countdowns it was given, sent in the foreground."""
    sent = []
    monkeypatch.setattr(freshness, "_in_background", lambda function: function())
    monkeypatch.setattr(freshness, "_queue", sent.append)
    return sent


def test_a_burst_of_1000_intakes_queues_one_recount_per_delay_window(
    queued, official, commune, procedure, django_capture_on_commit_callbacks, settings
):
    settings.REPORTS_REFRESH_DELAY = 10
    with time_machine.travel(NOW, tick=False) as clock:
        for n in range(1000):
            with django_capture_on_commit_callbacks(execute=True):
                intake(official, commune, procedure)
            if n % 100 == 99:
                clock.shift(timedelta(seconds=3))  # 1,000 intakes over 30 seconds
        # One recount a window of 10 seconds, each 10 seconds after the first write of its window.
        assert 1 <= len(queued) <= 4
        assert set(queued) == {10}
        # One row a write (a write never waits on a recount), one (unit, week) to recount.
        marks = DirtyWeek.objects.filter(week_start=THIS_WEEK)
        assert set(marks.values_list("unit_id", flat=True)) == {commune.pk}
        tasks.process_dirty_weeks_task.apply()
        assert WeeklyRate.objects.get(unit=commune, week_start=THIS_WEEK).received == 1000
        assert not DirtyWeek.objects.exists()


def test_on_the_embedded_default_the_dashboard_shows_a_change_within_the_delay(
    client_for, leader, official, commune, procedure, district, settings, monkeypatch
):
    settings.REPORTS_REFRESH_DELAY = 10
    computed = []
    whole, marked = aggregation.compute_weeks, recount.recount_marked
    monkeypatch.setattr(aggregation, "compute_weeks", lambda **kw: computed.append(kw) or whole(**kw))
    monkeypatch.setattr(recount, "recount_marked", lambda **kw: computed.append(kw) or marked(**kw))
    client = client_for(leader)
    with time_machine.travel(NOW, tick=False) as clock:
        client.get(DASHBOARD)  # the week in progress, counted on first read
        assert len(computed) == 1
        intake(official, commune, procedure)
        clock.shift(timedelta(seconds=3))
        html = client.get(DASHBOARD).content.decode()
        # Read 3 s after the change: not yet, and the page says the change is on its way.
        assert len(computed) == 1
        assert 'data-state="counting"' in html
        clock.shift(timedelta(seconds=8))
        html = client.get(DASHBOARD).content.decode()
        assert len(computed) == 2
        assert 'data-state="fresh"' in html
        assert WeeklyRate.objects.get(unit=district, week_start=THIS_WEEK).received == 1
        # Nothing changed since: reading again recounts nothing.
        clock.shift(timedelta(seconds=30))
        client.get(DASHBOARD)
        assert len(computed) == 2


def test_the_freshness_line_says_why_figures_are_late(
    client_for, leader, official, commune, procedure, district, settings, monkeypatch, broker_configured
):
    settings.REPORTS_STALE_SECONDS = 90
    client = client_for(leader)
    with time_machine.travel(NOW, tick=False) as clock:
        aggregation.compute_weeks(mondays=[THIS_WEEK])
        monkeypatch.setattr(freshness, "_in_background", lambda function: function())

        def down(countdown):
            raise ConnectionRefusedError("broker down")

        monkeypatch.setattr(freshness, "_queue", down)
        intake(official, commune, procedure)  # the write itself succeeds
        freshness.request_refresh()
        clock.shift(timedelta(seconds=30))
        assert 'data-state="counting"' in client.get(DASHBOARD).content.decode()
        clock.shift(timedelta(seconds=70))
        html = client.get(DASHBOARD).content.decode()
        assert 'data-state="late" data-reason="queue"' in html
        assert "Số liệu đang chậm:" in html and "hàng đợi tác vụ không phản hồi từ 10:00" in html

        # The queue answers again but the recount fails: that is what the line says now.
        cache.clear()
        monkeypatch.setattr(recount, "recount_marked", lambda **kw: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            freshness.process_marked_weeks()
        html = client.get(DASHBOARD).content.decode()
        assert 'data-reason="failed"' in html and "lần cập nhật gần nhất bị lỗi lúc 10:01" in html

        # No problem recorded, yet nothing ran: no worker.
        cache.clear()
        html = client.get(DASHBOARD).content.decode()
        assert 'data-reason="no_run"' in html and "Hãy kiểm tra tiến trình chạy nền" in html


def test_the_beat_backstop_runs_every_minute():
    from celery.schedules import crontab

    from config.celery import app

    entry = app.conf.beat_schedule["reports-process-dirty-weeks"]
    assert entry["task"] == "reports.process_dirty_weeks"
    assert entry["schedule"] == crontab(minute="*")

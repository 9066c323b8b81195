"""The rating after delivery: one-time link, no login, 30 days, one answer, low ones followed up."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from notify.models import FollowUp, Rating

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivered(sms, log_dossier, journey):
    dossier = log_dossier()
    journey(dossier)
    return Rating.objects.get(dossier=dossier)


def test_delivery_invites_a_rating_of_the_desk_the_office_and_the_employee(
    delivered, post_office, postal_staff
):
    assert delivered.post_office == post_office and delivered.employee == postal_staff
    assert delivered.expires_at - delivered.created_at >= timedelta(days=29, hours=23)


def test_a_citizen_rates_without_logging_in(client, delivered):
    url = f"/rate/{delivered.token}/"
    page = client.get(url)
    assert page.status_code == 200 and delivered.dossier.code in page.content.decode()
    assert client.post(url, {"stars": "5", "comment": "Nhanh, chu đáo"}).status_code == 302
    delivered.refresh_from_db()
    assert delivered.stars == 5 and delivered.comment == "Nhanh, chu đáo"
    assert not FollowUp.objects.exists()


def test_one_answer_per_dossier(client, delivered):
    url = f"/rate/{delivered.token}/"
    client.post(url, {"stars": "4"})
    client.post(url, {"stars": "1"})
    delivered.refresh_from_db()
    assert delivered.stars == 4
    assert 'data-testid="rating-thanks"' in client.get(url).content.decode()


@pytest.mark.parametrize("stars", ["0", "6", "abc", ""])
def test_stars_outside_1_to_5_are_refused(client, delivered, stars):
    page = client.post(f"/rate/{delivered.token}/", {"stars": stars})
    assert page.status_code == 200
    delivered.refresh_from_db()
    assert delivered.stars is None


def test_the_link_expires_after_30_days(client, delivered, time_machine):
    time_machine.move_to(timezone.now() + timedelta(days=31), tick=False)
    assert client.post(f"/rate/{delivered.token}/", {"stars": "5"}).status_code == 410
    delivered.refresh_from_db()
    assert delivered.stars is None


def test_an_unknown_token_is_not_found(client, db):
    assert client.get("/rate/not-a-token/").status_code == 404


def test_a_low_rating_opens_a_follow_up_on_the_commune_home(
    client, client_for, delivered, official, other_official, leader
):
    client.post(f"/rate/{delivered.token}/", {"stars": "2", "comment": "Chờ lâu"})
    follow_up = FollowUp.objects.get()
    home = client_for(official).get("/").content.decode()
    assert 'data-testid="follow-up"' in home and "Chờ lâu" in home
    assert 'data-testid="follow-up"' not in client_for(other_official).get("/").content.decode()
    # Another commune cannot close it (404); a leader reads it but cannot close it (403).
    url = f"/follow-ups/{follow_up.pk}/close/"
    assert client_for(other_official).post(url, {"note": "x"}).status_code == 404
    assert client_for(leader).post(url, {"note": "x"}).status_code == 403
    client_for(official).post(url, {"note": ""})
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.OPEN  # a note is required
    client_for(official).post(url, {"note": "Đã gọi điện xin lỗi công dân"})
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.CLOSED and follow_up.closed_by == official
    assert 'data-testid="follow-up"' not in client_for(official).get("/").content.decode()

"""Client tokens are read once every TOKEN_CACHE_SECONDS per process: revocation still takes
effect within that delay everywhere (at once in the process that saved it), and the last use is
written at most once a minute."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from api import authentication
from api.clients import create_client
from api.models import ApiClient

pytestmark = pytest.mark.django_db
URL = "/api/v1/dossiers"


@pytest.fixture
def reader(official, procedure):
    return create_client(name="reader", unit=official.unit, scopes=["dossiers:read"])


@pytest.fixture
def clock(monkeypatch):
    """The monotonic clock the token cache reads, moved by hand."""
    now = [1000.0]
    monkeypatch.setattr(authentication.time, "monotonic", lambda: now[0])
    return now


def test_a_token_revoked_elsewhere_is_refused_within_the_cache_delay(api_for, reader, clock):
    client, token = reader
    api = api_for(token)
    assert api.get(URL).status_code == 200
    # Another process revokes it (no signal reaches this one).
    ApiClient.objects.filter(pk=client.pk).update(revoked_at=timezone.now())
    clock[0] += authentication.TOKEN_CACHE_SECONDS - 1
    assert api.get(URL).status_code == 200  # still within the promised delay
    clock[0] += 2
    refused = api.get(URL)
    assert refused.status_code == 401 and refused["WWW-Authenticate"].startswith("Bearer")


def test_a_token_revoked_or_rotated_in_this_process_is_refused_at_once(api_for, reader, official, clock):
    from api.clients import rotate_token

    client, token = reader
    assert api_for(token).get(URL).status_code == 200
    new_token = rotate_token(client=client)
    assert api_for(token).get(URL).status_code == 401
    assert api_for(new_token).get(URL).status_code == 200
    client.revoke()
    assert api_for(new_token).get(URL).status_code == 401


def test_a_deactivated_service_user_is_refused(api_for, reader, clock):
    client, token = reader
    assert api_for(token).get(URL).status_code == 200
    client.user.is_active = False
    client.user.save(update_fields=["is_active"])
    assert api_for(token).get(URL).status_code == 401


def test_the_last_use_is_written_at_most_once_a_minute(api_for, reader, clock):
    client, token = reader
    api = api_for(token)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        api.get(URL)
    client.refresh_from_db()
    assert client.last_used_at == start
    with time_machine.travel(start + timedelta(seconds=50), tick=False):
        api.get(URL)
    client.refresh_from_db()
    assert client.last_used_at == start
    clock[0] += authentication.TOKEN_CACHE_SECONDS + 1  # read afresh: the stored last use counts
    with time_machine.travel(start + timedelta(seconds=55), tick=False):
        api.get(URL)
    client.refresh_from_db()
    assert client.last_used_at == start
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        api.get(URL)
    client.refresh_from_db()
    assert client.last_used_at == start + timedelta(seconds=61)

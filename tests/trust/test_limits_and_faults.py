"""Issue 14, items 7 and 11: the lookup limit is shared by every web process and holds with
Redis down; pages answer with the shared cache unreachable; an intake form posted twice makes one
dossier; a forged document count builds no thousand rows."""

from __future__ import annotations

import uuid

import pytest
from django.core.cache import caches
from django.urls import reverse

from config.env import cache_from_url
from dossiers import tracking
from dossiers.models import Dossier, LookupWindow
from tests.services.private import free_port
from tests.test_access_matrix import ACCESS, ANON, OFFICIAL, POSTAL, ROLES, URL_NAMES

pytestmark = pytest.mark.django_db


def _look_up(client, code, pin, address="203.0.113.9"):
    return client.post(reverse("tracking:track"), {"code": code, "pin": pin}, REMOTE_ADDR=address)


def test_the_lookup_limit_is_shared_by_every_web_process(world, client):
    dossier = world["dossier"]
    for _ in range(tracking.LIMIT):
        assert _look_up(client, "nope", "000000").status_code == 200
    # Another gunicorn worker has a cache of its own: emptying this process's cache is what the
    # next request looks like when it lands on another worker.
    caches["default"].clear()
    blocked = _look_up(client, dossier.code, dossier.tracking_pin)
    assert blocked.status_code == 429 and "track-result" not in blocked.text


def test_the_lookup_table_keeps_no_address(world, client):
    _look_up(client, "nope", "000000", address="198.51.100.23")
    assert LookupWindow.objects.count() == 1
    assert "198.51.100.23" not in LookupWindow.objects.get().client


def test_old_lookup_windows_are_deleted_when_a_new_one_starts(db):
    tracking.count_attempt("198.51.100.1", now=0)
    tracking.count_attempt("198.51.100.1", now=tracking.WINDOW * (tracking.KEEP_WINDOWS + 2))
    assert LookupWindow.objects.count() == 1


@pytest.fixture
def redis_down(settings):
    """The shared cache as the settings build it for a CACHE_URL, on a Redis that does not
    answer (a port nothing listens on)."""
    settings.CACHES = {"default": cache_from_url(f"redis://127.0.0.1:{free_port()}/0")}
    yield
    caches["default"].close()


def test_with_redis_down_the_lookup_answers_and_still_counts(redis_down, world, client):
    dossier = world["dossier"]
    found = _look_up(client, dossier.code, dossier.tracking_pin)
    assert found.status_code == 200 and "track-result" in found.text
    for _ in range(tracking.LIMIT):
        _look_up(client, "nope", "000000")
    assert _look_up(client, dossier.code, dossier.tracking_pin).status_code == 429


def test_with_redis_down_every_page_answers(redis_down, world, client):
    """Every URL pattern, as a role that may open it, with the shared cache unreachable."""
    from dossiers import workdays

    workdays.invalidate_overrides()  # the calendar must be read through the (dead) cache
    failures = []
    for name in URL_NAMES:
        access = ACCESS[name]
        url = reverse(name, args=access.args(world))
        for role in [r for r in ROLES if access.expect.get(r) == 200][:1]:
            client.logout()
            if role != ANON:
                client.force_login(world["users"][role])
            status = client.get(url).status_code
            if status != 200:
                failures.append(f"{url} as {role}: {status}")
    assert not failures


def test_the_cache_degrades_to_misses_and_skipped_writes(redis_down):
    cache = caches["default"]
    assert cache.get("k", "fallback") == "fallback"
    assert cache.add("k", 1) is False
    cache.set("k", 1)
    cache.delete("k")
    assert cache.get_many(["a", "b"]) == {}


# --- the same form posted twice -----------------------------------------------------------------


def _desk_intake(world, key):
    return {
        "submission": key,
        "procedure": world["dossier"].procedure.pk,
        "applicant_name": "Phan Văn Đức",
        "applicant_phone": "0912000222",
        "applicant_address": "Thôn 4, Xã Hoàn Lão",  # a result by post needs an address
        "intake_channel": "1",
        "return_channel": "bcci",
        "documents-TOTAL_FORMS": "1",
        "documents-INITIAL_FORMS": "0",
        "documents-0-name": "Tờ khai",
        "documents-0-form": "original",
        "documents-0-count": "1",
    }


def test_the_desk_intake_posted_five_times_makes_one_dossier(world, client):
    client.force_login(world["users"][OFFICIAL])
    form = client.get(reverse("dossiers:create")).context["form"]
    key = str(form["submission"].value())
    uuid.UUID(key)  # the page carries a one-time key
    before = Dossier.objects.count()
    answers = [client.post(reverse("dossiers:create"), _desk_intake(world, key)) for _ in range(5)]
    assert Dossier.objects.count() == before + 1
    assert {a.status_code for a in answers} == {302}
    assert len({a.url for a in answers}) == 1  # every answer shows the one dossier
    assert "đã được gửi" in client.get(answers[-1].url).text
    # A new form (new key) is a new dossier.
    client.post(reverse("dossiers:create"), _desk_intake(world, str(uuid.uuid4())))
    assert Dossier.objects.count() == before + 2


def test_the_empty_form_gets_a_new_key_each_time(world, client):
    client.force_login(world["users"][OFFICIAL])
    keys = {
        str(client.get(reverse("dossiers:create")).context["form"]["submission"].value()) for _ in range(3)
    }
    assert len(keys) == 3


def _postal_intake(world, key, **extra):
    procedure = world["dossier"].procedure
    procedure.bcci_intake_allowed = True
    procedure.save()
    return {
        "submission": key,
        "receiving_unit": world["commune"].pk,
        "procedure": procedure.pk,
        "applicant_name": "Phan Văn Đức",
        "applicant_address": "Thôn 4, Xã Hoàn Lão",  # a result by post needs an address
        "return_channel": "bcci",
        "postage": "0",
        "fees_collected": "0",
        "doc-TOTAL_FORMS": "1",
        "doc-INITIAL_FORMS": "0",
        "doc-0-name": "Tờ khai",
        "doc-0-form": "original",
        "doc-0-count": "1",
        **extra,
    }


def test_the_postal_intake_posted_five_times_makes_one_dossier(world, client):
    client.force_login(world["users"][POSTAL])
    key = str(uuid.uuid4())
    before = Dossier.objects.count()
    data = _postal_intake(world, key, applicant_phone="0912000333")
    answers = [client.post(reverse("postal:intake_create"), data) for _ in range(5)]
    assert Dossier.objects.count() == before + 1
    assert len({a.url for a in answers}) == 1


def test_a_forged_document_count_builds_no_thousand_rows(world, client):
    client.force_login(world["users"][POSTAL])
    data = _postal_intake(world, str(uuid.uuid4()), **{"doc-TOTAL_FORMS": "2000"})
    before = Dossier.objects.count()
    response = client.post(reverse("postal:intake_create"), data)
    assert response.status_code == 200
    assert len(response.context["documents"].forms) <= 40
    assert Dossier.objects.count() == before


# --- the intake form for an appointment never carries the full phone -----------------------------


@pytest.mark.parametrize("role", [POSTAL, "post_manager", "administrator"])
def test_the_intake_form_for_an_appointment_shows_no_full_phone(role, world, client):
    appointment = world["appointment"]
    client.force_login(world["users"][role])
    response = client.get(reverse("postal:intake_create"), {"appointment": appointment.pk})
    assert response.status_code == 200
    assert appointment.citizen_phone not in response.text
    assert "0987***321" in response.text  # the masked phone says which number will be used


def test_an_intake_from_an_appointment_keeps_its_phone_when_left_empty(world, client):
    appointment = world["appointment"]
    appointment.procedure.bcci_intake_allowed = True
    appointment.procedure.save()
    client.force_login(world["users"][POSTAL])
    data = _postal_intake(
        world, str(uuid.uuid4()), appointment=appointment.pk, procedure=appointment.procedure.pk
    )
    response = client.post(reverse("postal:intake_create"), data)
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.dossier.applicant_phone == appointment.citizen_phone


@pytest.mark.django_db(transaction=True)
def test_two_posts_of_one_form_at_the_same_instant_make_one_dossier(world):
    """Both posts pass the "sent before?" check before either commits; the key's unique index
    makes the second wait for the first and give up its own dossier."""
    import threading

    from django.db import connection

    from dossiers.services import submit_once

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises the two writers before the check")
    key = uuid.uuid4()
    both_created = threading.Barrier(2, timeout=30)
    results, errors = [], []

    def create():
        from dossiers.models import Dossier as D

        dossier = D.objects.create(
            code=f"000.01.16.H44-261120-{threading.get_ident() % 10000:04d}",
            procedure=world["dossier"].procedure,
            receiving_unit=world["commune"],
            applicant_name="Phan Văn Đức",
            tracking_pin="111111",
            return_channel="desk",
        )
        both_created.wait()  # neither has committed: both passed the check
        return dossier

    def post():
        try:
            results.append(submit_once(key=key, by=world["users"][OFFICIAL], create=create))
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sorted(created for _dossier, created in results) == [False, True]
    assert len({dossier.pk for dossier, _created in results}) == 1
    assert Dossier.objects.filter(applicant_name="Phan Văn Đức").count() == 1

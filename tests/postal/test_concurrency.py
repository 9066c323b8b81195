"""Two postal staff scanning the same item at once: both scans are kept as events and the final
status is consistent (select_for_update on the item). Real threads; meaningful on PostgreSQL,
where the row lock is what serialises them."""

import contextlib
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from postal import services
from postal.models import DeliveryAttempt, ItemEvent, ItemStatus, PostalItem
from tests.postal.conftest import at
from tests.postal.test_items import hand_to_post

pytestmark = pytest.mark.django_db(transaction=True)
S = ItemStatus


def run_together(*calls):
    """Start the calls at the same moment in threads; return what each returned or raised."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    # SQLite has no row locks: its shared in-memory test database refuses a second writer
    # ("table is locked") instead of waiting, so there the threads take turns. On PostgreSQL
    # they really race and select_for_update does the serialising.
    turns = threading.Lock() if connection.vendor == "sqlite" else contextlib.nullcontext()

    def worker(index, call):
        try:
            barrier.wait(timeout=10)
            with turns:
                results[index] = call()
        except Exception as error:  # the test inspects what each thread met
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.fixture
def item(finished_dossier, official, postal_staff):
    item = services.create_return_item(dossier=finished_dossier, by=official)
    return hand_to_post(item, official, postal_staff, at("2026-03-05", 10))


@pytest.fixture
def colleague(post_office):
    from tests.conftest import make_user

    return make_user("buudien3", "postal_staff", post_office=post_office)


def test_two_staff_taking_the_same_item_out_keep_both_scans(item, postal_staff, colleague):
    before = ItemEvent.objects.filter(item=item).count()
    results = run_together(
        lambda: services.scan_item(item=item, by=postal_staff, to_status=S.OUT_FOR_DELIVERY),
        lambda: services.scan_item(item=item, by=colleague, to_status=S.OUT_FOR_DELIVERY),
    )
    assert not any(isinstance(r, Exception) for r in results), results
    item.refresh_from_db()
    assert item.status == S.OUT_FOR_DELIVERY
    new_events = list(
        ItemEvent.objects.filter(item=item).order_by("id")[before:].values_list("action", flat=True)
    )
    assert sorted(new_events) == ["item.out_for_delivery", "item.scanned"]
    assert item.version == 3  # created 1, accepted 2, out for delivery 3: the second scan changed nothing


def test_delivered_and_failed_at_once_end_consistent(item, postal_staff, colleague):
    results = run_together(
        lambda: services.record_delivery_attempt(
            item=item,
            by=postal_staff,
            outcome=DeliveryAttempt.Outcome.DELIVERED,
            at=at("2026-03-06", 9),
            recipient_name="Nguyễn Văn An",
            id_checked=True,
        ),
        lambda: services.record_delivery_attempt(
            item=item, by=colleague, outcome=DeliveryAttempt.Outcome.NOT_HOME, at=at("2026-03-06", 9)
        ),
    )
    item = PostalItem.objects.get(pk=item.pk)
    assert item.status == S.DELIVERED
    errors = [r for r in results if isinstance(r, Exception)]
    # Either the failed attempt came first (two attempts, both kept) or it was refused cleanly.
    assert all(isinstance(e, ValidationError) for e in errors)
    assert item.attempts == DeliveryAttempt.objects.filter(item=item).count() == 2 - len(errors)
    assert item.dossier.status == 10


def test_the_same_app_action_posted_four_times_at_once_is_one_attempt(item, postal_staff, settings, tmp_path):
    """The postal app resends an action whose answer it lost; copies may arrive together. The
    ClientAction primary key makes the later copies wait for the first and answer "duplicate"."""
    from uuid import uuid4

    from django.test import Client
    from django.urls import reverse

    from postal.models import ClientAction

    settings.PRIVATE_MEDIA_ROOT = tmp_path
    action = str(uuid4())
    url = reverse("postal:item_attempt", args=[item.pk])

    def post():
        client = Client()
        client.force_login(postal_staff)
        response = client.post(
            url,
            {"outcome": DeliveryAttempt.Outcome.NOT_HOME, "client_id": action},
            HTTP_ACCEPT="application/json",
        )
        return response.status_code, response.json()["result"]

    results = run_together(post, post, post, post)
    assert all(not isinstance(r, Exception) for r in results), results
    assert all(status == 200 for status, _ in results), results
    assert sorted(result for _, result in results) == ["done", "duplicate", "duplicate", "duplicate"]
    item.refresh_from_db()
    assert item.attempts == DeliveryAttempt.objects.filter(item=item).count() == 1
    assert ItemEvent.objects.filter(item=item, action="item.delivery_failed").count() == 1
    assert ClientAction.objects.filter(pk=action).count() == 1

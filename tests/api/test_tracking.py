"""Carrier tracking events: normalised onto item statuses, forward only, de-duplicated, recorded
as a scan would be (item events, delivery attempts, the dossier's return, the weeks marked)."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from api.models import CarrierEvent
from communes.models import DirtyWeek
from dossiers.models import Dossier, Status
from postal.models import DeliveryAttempt, ItemEvent, ItemStatus, PostalItem

from .conftest import at

pytestmark = pytest.mark.django_db
NOW = at("2026-03-13", 17)
S = ItemStatus


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def item(commune, procedure, post_office):
    dossier = Dossier.objects.create(
        code="000.01.16.H44-260302-0001",
        procedure=procedure,
        receiving_unit=commune,
        applicant_name="Nguyễn Văn An",
        tracking_pin="123456",
        return_channel="bcci",
        status=Status.FINISHED,
        received_at=at("2026-03-02"),
        due_date=date(2026, 3, 5),
        original_due_date=date(2026, 3, 5),
        finished_at=at("2026-03-04", 15),
        timeliness="early",
    )
    return PostalItem.objects.create(
        code="EB123456785VN",
        dossier=dossier,
        direction="return",
        post_office=post_office,
        status=S.ACCEPTED,
        handover_date=date(2026, 3, 5),
        target_date=date(2026, 3, 6),
    )


def send(api, code="EB123456785VN", **event):
    return api.post(f"/api/v1/items/{code}/events", event)


def test_events_move_the_item_and_delivery_returns_the_result(api_for, carrier, item):
    api = api_for(carrier[1])
    assert (
        send(api, event_id="e1", kind="in_transit", at="2026-03-05T14:00:00+07:00").json()["outcome"]
        == "applied"
    )
    send(api, event_id="e2", kind="out_for_delivery", at="2026-03-06T08:00:00+07:00")
    delivered = send(
        api,
        event_id="e3",
        kind="delivered",
        at="2026-03-06T10:30:00+07:00",
        recipient={"name": "Nguyễn Văn An", "id_checked": True},
    )
    assert delivered.status_code == 201
    assert delivered.json() == {
        "event_id": "e3",
        "outcome": "applied",
        "duplicate": False,
        "item_status": "delivered",
    }
    item.refresh_from_db()
    assert item.status == S.DELIVERED and item.recipient_name == "Nguyễn Văn An"
    assert item.delivered_at == at("2026-03-06", 10, 30)
    assert list(ItemEvent.objects.filter(item=item).values_list("action", flat=True)) == [
        "item.in_transit",
        "item.out_for_delivery",
        "item.delivered",
    ]
    dossier = Dossier.objects.get(pk=item.dossier_id)
    assert dossier.status == Status.RETURNED and dossier.returned_at == at("2026-03-06", 10, 30)
    # Last week's delivery changes last week's figures: the week is marked for recomputation.
    assert DirtyWeek.objects.filter(unit=dossier.receiving_unit, week_start=date(2026, 3, 2)).exists()


def test_a_repeated_event_id_changes_nothing(api_for, carrier, item):
    api = api_for(carrier[1])
    first = send(api, event_id="e1", kind="in_transit", at="2026-03-05T14:00:00+07:00")
    again = send(api, event_id="e1", kind="in_transit", at="2026-03-05T14:00:00+07:00")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["duplicate"] is True
    assert ItemEvent.objects.filter(item=item).count() == 1
    clash = send(api, event_id="e1", kind="out_for_delivery", at="2026-03-05T15:00:00+07:00")
    assert clash.status_code == 409 and clash.json()["type"].endswith("event-id-conflict")


def test_a_late_event_never_undoes_a_later_status(api_for, carrier, item):
    api = api_for(carrier[1])
    send(
        api,
        event_id="e3",
        kind="delivered",
        at="2026-03-06T10:30:00+07:00",
        recipient={"name": "An", "id_checked": True},
    )
    late = send(api, event_id="e1", kind="in_transit", at="2026-03-05T14:00:00+07:00")
    assert late.status_code == 201 and late.json()["outcome"] == "stale"
    item.refresh_from_db()
    assert item.status == S.DELIVERED
    assert CarrierEvent.objects.get(event_id="e1").outcome == "stale"
    assert ItemEvent.objects.filter(item=item).count() == 1


def test_out_of_order_failed_attempt_is_kept_but_not_applied(api_for, carrier, item):
    api = api_for(carrier[1])
    send(api, event_id="e2", kind="out_for_delivery", at="2026-03-06T08:00:00+07:00")
    older = send(
        api, event_id="e1", kind="delivery_failed", reason="not_home", at="2026-03-05T16:00:00+07:00"
    )
    assert older.json()["outcome"] == "stale"
    assert not DeliveryAttempt.objects.filter(item=item).exists()


def test_two_failed_notices_two_working_days_apart_send_the_result_back(api_for, carrier, item):
    api = api_for(carrier[1])
    send(api, event_id="f1", kind="delivery_failed", reason="not_home", at="2026-03-06T10:00:00+07:00")
    early = send(api, event_id="r0", kind="returned_to_sender", at="2026-03-06T11:00:00+07:00")
    assert early.status_code == 422 and "hai lần" in early.json()["detail"]
    second = send(
        api, event_id="f2", kind="delivery_failed", reason="not_home", at="2026-03-10T10:00:00+07:00"
    )
    assert second.json()["item_status"] == "returned_to_sender"
    assert DeliveryAttempt.objects.filter(item=item).count() == 2
    back = send(api, event_id="r1", kind="returned_to_sender", at="2026-03-10T15:00:00+07:00")
    assert back.json()["outcome"] == "unchanged"


def test_bad_events_are_refused_with_a_reason(api_for, carrier, item):
    api = api_for(carrier[1])
    no_reason = send(api, event_id="x1", kind="delivery_failed", at="2026-03-06T10:00:00+07:00")
    assert no_reason.status_code == 422
    no_id = send(
        api,
        event_id="x2",
        kind="delivered",
        at="2026-03-06T10:00:00+07:00",
        recipient={"name": "An", "id_checked": False},
    )
    assert no_id.status_code == 422
    bad_time = send(api, event_id="x6", kind="in_transit", at="hôm qua")
    assert bad_time.status_code == 400 and "Ngày giờ sai định dạng" in bad_time.json()["detail"]
    unknown_kind = send(api, event_id="x3", kind="teleported", at="2026-03-06T10:00:00+07:00")
    assert unknown_kind.status_code == 400 and unknown_kind.json()["errors"][0]["field"] == "kind"
    future = send(api, event_id="x4", kind="in_transit", at="2026-03-20T10:00:00+07:00")
    assert future.status_code == 422
    assert (
        send(
            api, code="EB123456786VN", event_id="x5", kind="in_transit", at="2026-03-06T10:00:00+07:00"
        ).status_code
        == 422
    )
    assert not CarrierEvent.objects.exists()


def test_items_of_other_offices_and_missing_scope(api_for, item, other_post_office, commune_system):
    from api.clients import create_client

    _client, token = create_client(
        name="other-carrier", post_office=other_post_office, scopes=["items:write"]
    )
    answer = send(api_for(token), event_id="e1", kind="in_transit", at="2026-03-05T14:00:00+07:00")
    assert answer.status_code == 404 and answer.json()["type"].endswith("not-found")
    assert (
        send(
            api_for(commune_system[1]), event_id="e1", kind="in_transit", at="2026-03-05T14:00:00+07:00"
        ).status_code
        == 403
    )


def _second_item(item, code="EB123456799VN", number="0002"):
    dossier = Dossier.objects.get(pk=item.dossier_id)
    dossier.pk, dossier.code, dossier.tracking_pin = None, f"000.01.16.H44-260302-{number}", "654321"
    dossier.applicant_phone = "0912345678"
    dossier.save()
    return PostalItem.objects.create(
        code=code,
        dossier=dossier,
        direction="return",
        post_office=item.post_office,
        status=S.ACCEPTED,
        handover_date=item.handover_date,
        target_date=item.target_date,
    )


def _trace(item):
    """What a delivery leaves behind, without ids, actors and notes (the API's say "carrier")."""
    from notify.models import Message, Rating

    dossier = Dossier.objects.get(pk=item.dossier_id)
    item.refresh_from_db()
    return {
        "item": (item.status, item.attempts, item.delivered_at, item.recipient_name, item.id_checked),
        "item_events": [
            (e.action, e.from_status, e.to_status, e.at, {k: v for k, v in e.details.items() if k != "note"})
            for e in ItemEvent.objects.filter(item=item).order_by("id")
        ],
        "attempts": list(DeliveryAttempt.objects.filter(item=item).values_list("outcome", "at")),
        "dossier": (dossier.status, dossier.returned_at, dossier.return_channel, dossier.version),
        "dossier_events": list(
            dossier.events.filter(at__gte=at("2026-03-05")).order_by("id").values_list("action", "at")
        ),
        "notices": sorted(Message.objects.filter(dossier=dossier).values_list("event", "status")),
        "rating": Rating.objects.filter(dossier=dossier, post_office=item.post_office).exists(),
        "weeks": sorted(
            DirtyWeek.objects.filter(unit_id=dossier.receiving_unit_id).values_list("week_start", flat=True)
        ),
    }


def test_api_events_leave_exactly_what_the_scan_and_delivery_screens_leave(
    api_for, carrier, item, postal_staff
):
    """The API's path (the item locked once, handed to the services) and the screens' path (the
    services read and lock it themselves) write the same history, attempt, return, notices and
    week marks."""
    from postal import services as postal_services

    screen_item = _second_item(item)
    Dossier.objects.filter(pk=item.dossier_id).update(applicant_phone="0912345678")
    api = api_for(carrier[1])
    moments = {
        "in_transit": at("2026-03-05", 14),
        "out_for_delivery": at("2026-03-06", 8),
        "delivered": at("2026-03-06", 10, 30),
    }
    for n, (kind, moment) in enumerate(moments.items()):
        body = {"event_id": f"e{n}", "kind": kind, "at": moment.isoformat()}
        if kind == "delivered":
            body["recipient"] = {"name": "Nguyễn Văn An", "id_checked": True}
        assert send(api, **body).status_code == 201
    postal_services.scan_item(
        item=screen_item, by=postal_staff, to_status=S.IN_TRANSIT, at=moments["in_transit"]
    )
    postal_services.scan_item(
        item=screen_item, by=postal_staff, to_status=S.OUT_FOR_DELIVERY, at=moments["out_for_delivery"]
    )
    postal_services.record_delivery_attempt(
        item=screen_item,
        by=postal_staff,
        outcome="delivered",
        at=moments["delivered"],
        recipient_name="Nguyễn Văn An",
        id_checked=True,
    )
    through_api, through_screens = _trace(item), _trace(screen_item)
    assert through_api == through_screens
    assert through_api["item_events"][-1][0] == "item.delivered"
    assert ("delivered", "queued") in through_api["notices"] and through_api["rating"]
    assert date(2026, 3, 2) in through_api["weeks"]


def test_duplicates_of_applied_and_stale_events_return_their_first_outcome(api_for, carrier, item):
    api = api_for(carrier[1])
    assert (
        send(api, event_id="e2", kind="out_for_delivery", at="2026-03-06T08:00:00+07:00").status_code == 201
    )
    late = send(api, event_id="e1", kind="in_transit", at="2026-03-05T14:00:00+07:00")
    assert late.json()["outcome"] == "stale"
    history = list(ItemEvent.objects.filter(item=item).values_list("id", flat=True))
    for event_id, kind, moment, outcome in (
        ("e1", "in_transit", "2026-03-05T14:00:00+07:00", "stale"),
        ("e2", "out_for_delivery", "2026-03-06T08:00:00+07:00", "applied"),
    ):
        again = send(api, event_id=event_id, kind=kind, at=moment)
        assert again.status_code == 200
        assert again.json() == {
            "event_id": event_id,
            "outcome": outcome,
            "duplicate": True,
            "item_status": "out_for_delivery",
        }
    assert list(ItemEvent.objects.filter(item=item).values_list("id", flat=True)) == history
    assert CarrierEvent.objects.filter(item=item).count() == 2
    # An id used for one item is not accepted for another.
    other = _second_item(item)
    clash = send(api, code=other.code, event_id="e2", kind="out_for_delivery", at="2026-03-06T09:00:00+07:00")
    assert clash.status_code == 409


def test_an_event_reads_and_writes_a_handful_of_rows(api_for, carrier, item, django_assert_max_num_queries):
    """In transit: the item locked once, one look-up for duplicates and the guard, the history
    row, the item, the carrier event (and the savepoint of the test's own transaction); the token
    is not read again."""
    api = api_for(carrier[1])
    send(api, event_id="warm", kind="in_transit", at="2026-03-05T14:00:00+07:00")
    with django_assert_max_num_queries(8):
        answer = send(api, event_id="e2", kind="out_for_delivery", at="2026-03-06T08:00:00+07:00")
    assert answer.json()["outcome"] == "applied"


def test_a_delivery_reads_its_dossier_once_and_its_services_open_no_savepoint(api_for, carrier, item):
    """The postal and dossier services join the event's transaction (core.transactions): the only
    savepoint is the event's own, opened because the test runs inside a transaction; the dossier
    is read, locked, once; the notice names the office without reading it again."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    Dossier.objects.filter(pk=item.dossier_id).update(applicant_phone="0912345678")
    api = api_for(carrier[1])
    send(api, event_id="e1", kind="out_for_delivery", at="2026-03-06T08:00:00+07:00")
    with CaptureQueriesContext(connection) as queries:
        answer = send(
            api,
            event_id="e2",
            kind="delivered",
            at="2026-03-06T10:30:00+07:00",
            recipient={"name": "Nguyễn Văn An", "id_checked": True},
        )
    assert answer.json()["item_status"] == "delivered"
    statements = [query["sql"] for query in queries.captured_queries]
    assert sum(sql.startswith("SAVEPOINT") for sql in statements) == 1
    assert sum(sql.startswith("SELECT") and 'FROM "dossiers_dossier"' in sql for sql in statements) == 1
    assert not [sql for sql in statements if 'FROM "communes_postoffice"' in sql]
    assert Dossier.objects.get(pk=item.dossier_id).status == Status.RETURNED


def test_a_delivery_refused_late_in_its_steps_leaves_nothing(api_for, carrier, item):
    """Without savepoints of their own, a refusal after the attempt and the item's history were
    written (the dossier's return refused) still undoes all of it, and the next event applies."""
    Dossier.objects.filter(pk=item.dossier_id).update(
        applicant_phone="0912345678", finished_at=at("2026-03-06", 12)
    )
    api = api_for(carrier[1])
    refused = send(
        api,
        event_id="e1",
        kind="delivered",
        at="2026-03-06T10:30:00+07:00",
        recipient={"name": "Nguyễn Văn An", "id_checked": True},
    )
    assert refused.status_code == 422
    item.refresh_from_db()
    assert item.status == S.ACCEPTED and item.attempts == 0
    assert not DeliveryAttempt.objects.filter(item=item).exists()
    assert not ItemEvent.objects.filter(item=item).exists()
    assert not CarrierEvent.objects.exists()
    assert Dossier.objects.get(pk=item.dossier_id).status == Status.FINISHED
    assert not item.dossier.messages.exists()
    later = send(
        api,
        event_id="e2",
        kind="delivered",
        at="2026-03-06T13:00:00+07:00",
        recipient={"name": "Nguyễn Văn An", "id_checked": True},
    )
    assert later.status_code == 201 and later.json()["item_status"] == "delivered"

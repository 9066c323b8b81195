"""core.prepared: a queryset compiled once gives the same statement and the same instances as the
queryset itself, for any values, and refuses what it cannot do faithfully."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection, transaction
from django.db.models import Q
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from core.prepared import PreparedQuery
from dossiers.models import Dossier, Procedure, ProcedureField, Status
from postal.models import ItemEvent, PostalItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def items(commune, post_office, other_post_office):
    procedure = Procedure.objects.create(
        national_code="1.001193",
        name="Đăng ký khai sinh",
        field=ProcedureField.objects.create(code="TP"),
        processing_days=3,
    )
    made = []
    for n, (code, office) in enumerate(
        (("EB123456785VN", post_office), ("EB000000000VN", other_post_office), ("RR000000013VN", post_office))
    ):
        dossier = Dossier.objects.create(
            code=f"000.01.16.H44-260302-{n + 1:04d}",
            procedure=procedure,
            receiving_unit=commune,
            status=Status.FINISHED,
        )
        item = PostalItem.objects.create(
            code=code,
            dossier=dossier,
            direction="return",
            post_office=office,
            status="accepted",
            handover_date=date(2026, 3, 5),
            target_date=date(2026, 3, 6 + n),
            recipient_name=f"Người nhận {n}",
        )
        ItemEvent.objects.create(item=item, action="item.created", to_status="created", details={"n": n})
        made.append(item)
    return made


def _fields(obj) -> dict:
    return {field.attname: getattr(obj, field.attname) for field in obj._meta.concrete_fields}


def test_the_same_rows_instances_and_related_objects_as_the_queryset(items):
    def build(code):
        # Without the model's ordering, as get() reads.
        return PostalItem.objects.select_related("post_office").filter(code=code).order_by()

    prepared = PreparedQuery(build, [str])
    for item in items:
        expected = build(item.code).get()
        with CaptureQueriesContext(connection) as orm:
            build(item.code).get()
        with CaptureQueriesContext(connection) as ours:
            found = prepared.get(item.code)
        assert type(found) is PostalItem
        assert _fields(found) == _fields(expected)
        assert not found._state.adding and found._state.db == "default"
        # The office came with the row, as select_related gives it: no query to read it.
        with CaptureQueriesContext(connection) as later:
            assert _fields(found.post_office) == _fields(expected.post_office)
        assert not later.captured_queries
        assert len(ours.captured_queries) == len(orm.captured_queries) == 1
        # The same statement, without get()'s LIMIT.
        assert ours.captured_queries[0]["sql"] in orm.captured_queries[0]["sql"]


def test_converted_columns_and_several_values_and_rows(items):
    """JSON and dates come back converted (SQLite returns them as text), an OR of two filters
    with values of both kinds, and the queryset's order."""
    prepared = PreparedQuery(
        lambda item_id, action: ItemEvent.objects.filter(Q(item_id=item_id) | Q(action=action)).order_by(
            "id"
        ),
        [int, str],
    )
    found = prepared.all(items[1].pk, "item.nothing")
    assert [event.details for event in found] == [{"n": 1}]
    expected = list(
        ItemEvent.objects.filter(Q(item_id=items[0].pk) | Q(action="item.created")).order_by("id")
    )
    found = prepared.all(items[0].pk, "item.created")
    assert [_fields(event) for event in found] == [_fields(event) for event in expected]
    assert len(found) == 3
    assert prepared.all(-1, "none") == []
    item = PreparedQuery(lambda code: PostalItem.objects.filter(code=code), [str]).get("RR000000013VN")
    assert item.target_date == date(2026, 3, 8)


def test_get_raises_as_the_queryset_does(items):
    prepared = PreparedQuery(lambda status: PostalItem.objects.filter(status=status), [str])
    with pytest.raises(PostalItem.DoesNotExist):
        prepared.get("delivered")
    with pytest.raises(PostalItem.MultipleObjectsReturned):
        prepared.get("accepted")


@pytest.mark.django_db(transaction=True)  # outside the test's own transaction
def test_a_locking_query_needs_a_transaction_every_time(items):
    prepared = PreparedQuery(
        lambda code: PostalItem.objects.select_for_update(of=("self",)).filter(code=code), [str]
    )
    with transaction.atomic():
        assert prepared.get(items[0].code).pk == items[0].pk
    if connection.features.has_select_for_update:
        with pytest.raises(TransactionManagementError):
            prepared.get(items[0].code)


def test_values_it_cannot_place_are_refused(items):
    with pytest.raises(TypeError):
        PreparedQuery(lambda day: PostalItem.objects.filter(target_date=day), [date]).all(date(2026, 3, 6))
    # A value the SQL does not carry as it is given (here: turned into a LIKE pattern).
    with pytest.raises(ValueError):
        PreparedQuery(lambda code: PostalItem.objects.filter(code__startswith=code), [str]).all("EB")
    prepared = PreparedQuery(lambda code: PostalItem.objects.filter(code=code), [str])
    with pytest.raises(TypeError):
        prepared.all("EB123456785VN", "extra")


# --- writes ----------------------------------------------------------------------------------


@pytest.fixture
def signals():
    from django.db.models.signals import post_save, pre_save

    seen = []

    def record(signal):
        def receiver(sender, instance, **kwargs):
            kwargs.pop("signal")
            seen.append((signal, sender, instance.pk, kwargs))

        return receiver

    receivers = {"pre": record("pre"), "post": record("post")}
    pre_save.connect(receivers["pre"], dispatch_uid="test-prepared-pre")
    post_save.connect(receivers["post"], dispatch_uid="test-prepared-post")
    yield seen
    pre_save.disconnect(dispatch_uid="test-prepared-pre")
    post_save.disconnect(dispatch_uid="test-prepared-post")


def _row(model, pk) -> dict:
    return model.objects.filter(pk=pk).values().get()


def test_save_new_writes_what_create_writes(items, signals):
    from core.prepared import save_new

    item = items[0]
    by_orm = ItemEvent.objects.create(item=item, action="item.scanned", details={"note": "ở bưu cục"})
    ours = ItemEvent(item=item, action="item.scanned", details={"note": "ở bưu cục"})
    with CaptureQueriesContext(connection) as queries:
        save_new(ours)
    assert len(queries.captured_queries) == 1 and queries.captured_queries[0]["sql"].startswith("INSERT")
    assert ours.pk == by_orm.pk + 1 and not ours._state.adding and ours._state.db == "default"
    expected = _row(ItemEvent, by_orm.pk)
    found = _row(ItemEvent, ours.pk)
    assert found.pop("id") != expected.pop("id")
    assert abs(found.pop("at") - expected.pop("at")).total_seconds() < 5 and found == expected
    # The same signals with the same arguments as create() sent.
    orm_signals = [(s, sender, kwargs) for s, sender, _pk, kwargs in signals[:2]]
    our_signals = [(s, sender, kwargs) for s, sender, _pk, kwargs in signals[2:]]
    assert our_signals == orm_signals
    assert [s for s, *_rest in our_signals] == ["pre", "post"] and our_signals[1][2]["created"] is True
    assert signals[3][2] == ours.pk  # post_save sees the new key


def test_save_new_fills_auto_now_add_and_the_related_key(items, signals):
    from api.clients import create_client
    from api.models import CarrierEvent
    from core.prepared import save_new

    client, _token = create_client(name="carrier", post_office=items[0].post_office, scopes=["items:write"])
    event = CarrierEvent(
        client=client, event_id="e-1", item=items[0], kind="in_transit", at=items[0].created_at
    )
    event.outcome = "applied"
    save_new(event)
    assert event.received_at is not None
    stored = CarrierEvent.objects.get(pk=event.pk)
    assert (stored.client_id, stored.item_id, stored.received_at, stored.details) == (
        client.pk,
        items[0].pk,
        event.received_at,
        {},
    )


def test_save_fields_updates_what_save_with_update_fields_updates(items, signals):
    from core.prepared import save_fields

    item, twin = PostalItem.objects.get(pk=items[0].pk), PostalItem.objects.get(pk=items[2].pk)
    before = _row(PostalItem, item.pk)
    for obj in (item, twin):
        obj.status, obj.version, obj.recipient_name = "in_transit", obj.version + 1, "không lưu"
    twin.save(update_fields=["status", "version", "updated_at"])
    with CaptureQueriesContext(connection) as queries:
        save_fields(item, ["status", "version", "updated_at"])
    assert len(queries.captured_queries) == 1 and queries.captured_queries[0]["sql"].startswith("UPDATE")
    after = _row(PostalItem, item.pk)
    assert after["status"] == "in_transit" and after["version"] == before["version"] + 1
    assert after["updated_at"] == item.updated_at > before["updated_at"]  # auto_now
    assert after["recipient_name"] == before["recipient_name"]  # only the named columns
    assert [(s, kwargs) for s, _sender, _pk, kwargs in signals[2:]] == [
        (s, kwargs) for s, _sender, _pk, kwargs in signals[:2]
    ]
    assert signals[2][3]["update_fields"] == frozenset({"status", "version", "updated_at"})


def test_save_fields_refuses_as_save_does(items):
    from django.db import DatabaseError

    from core.prepared import save_fields

    item = PostalItem.objects.get(pk=items[0].pk)
    with pytest.raises(ValueError):
        save_fields(item, ["status", "no_such_column"])
    gone = PostalItem.objects.get(pk=items[1].pk)
    gone.pk = 999_999
    with transaction.atomic(), pytest.raises(DatabaseError):
        save_fields(gone, ["status"])


def test_expressions_go_through_save(items):
    from django.db.models import F

    from core.prepared import save_fields

    item = PostalItem.objects.get(pk=items[0].pk)
    item.version = F("version") + 5
    save_fields(item, ["version"])
    item.refresh_from_db()
    assert item.version == items[0].version + 5


def test_insert_unless_exists_says_which_and_sets_the_key(db):
    from core.inserts import insert_unless_exists
    from notify.models import MessageTemplate

    taken = MessageTemplate(event="delivered", text="Một văn bản khác")
    with CaptureQueriesContext(connection) as queries:
        assert insert_unless_exists(taken) is False
    (statement,) = (query["sql"] for query in queries.captured_queries)
    assert "ON CONFLICT DO NOTHING" in statement or statement.startswith("INSERT OR IGNORE")  # SQLite
    assert taken.pk is None and taken._state.adding
    assert MessageTemplate.objects.get(event="delivered").text != "Một văn bản khác"
    MessageTemplate.objects.filter(event="delivered").delete()
    new = MessageTemplate(event="delivered", text="Đã phát: {ma_ho_so}. {dung_tin}")
    assert insert_unless_exists(new) is True
    assert not new._state.adding and new._state.db == "default"
    stored = MessageTemplate.objects.get(pk=new.pk)
    assert (stored.event, stored.text) == ("delivered", new.text)
    assert stored.updated_at == new.updated_at is not None  # auto_now on insert, as before

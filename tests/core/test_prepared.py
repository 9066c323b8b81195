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

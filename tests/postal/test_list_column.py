"""The desk list's postal column: where each result sent by post is, in words."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from dossiers.models import ReturnChannel
from postal import services
from postal.models import ItemStatus, PostalItem


def _postal_cells(response) -> dict[str, str]:
    rows = {row.code: row.postal for row in response.context["rows"]}
    return rows


def test_postal_column_in_words(client_for, official, make_dossier, django_assert_max_num_queries):
    waiting = make_dossier()  # BCCI, not handed to the post yet: empty
    travelling = make_dossier()
    delivered = make_dossier()
    back = make_dossier()
    at_desk = make_dossier(return_channel=ReturnChannel.DESK, decline_reason="in_person")
    for dossier, status in (
        (travelling, ItemStatus.IN_TRANSIT),
        (delivered, ItemStatus.DELIVERED),
        (back, ItemStatus.RETURNED_TO_SENDER),
    ):
        item = services.create_return_item(dossier=dossier, by=official)
        delivery = {"delivered_at": timezone.now(), "recipient_name": "Nguyễn Văn An", "id_checked": True}
        PostalItem.objects.filter(pk=item.pk).update(
            status=status, **(delivery if status == ItemStatus.DELIVERED else {})
        )
    client = client_for(official)
    client.get(reverse("dossiers:list"))
    with django_assert_max_num_queries(14):
        response = client.get(reverse("dossiers:list"))
    cells = _postal_cells(response)
    assert cells[travelling.code] == "Đang chuyển"
    assert cells[delivered.code] == "Đã phát"
    assert cells[back.code] == "Đã về lại Bộ phận một cửa"
    assert cells[waiting.code] == "" and cells[at_desk.code] == ""
    body = response.text.split("<tbody>", 1)[1]
    assert "Đã về lại Bộ phận một cửa" in body and 'data-label="Bưu chính"' in body


def test_postal_column_costs_one_query_whatever_the_page(client_for, official, make_dossier):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(official)
    item = services.create_return_item(dossier=make_dossier(), by=official)
    client.get(reverse("dossiers:list"))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("dossiers:list"))
    for _ in range(5):
        services.create_return_item(dossier=make_dossier(), by=official)
    with CaptureQueriesContext(connection) as six:
        client.get(reverse("dossiers:list"))
    assert len(six) == len(one)
    assert item.pk

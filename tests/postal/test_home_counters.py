"""The commune official's home: counters that lead to the work waiting, and the lists behind
them show exactly what was counted."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.urls import reverse
from django.utils import timezone

from dossiers.models import ReturnChannel
from dossiers.statuses import Status
from postal import services
from postal.models import ItemStatus, PostalItem

from .conftest import at


def _counters(client) -> dict[str, tuple[int, str]]:
    response = client.get(reverse("accounts:home"))
    assert response.status_code == 200
    return {counter.label: (counter.count, counter.url) for counter in response.context["counters"]}


def _listed(client, url) -> set[str]:
    return {row.code for row in client.get(url).context["rows"]}


@time_machine.travel(at("2026-03-10", 10), tick=False)
def test_official_home_counts_and_links(client_for, official, other_official, make_dossier, other_commune):
    today = timezone.localdate()
    due_today = make_dossier(status=Status.PROCESSING, due_date=today, finished_at=None)
    overdue = make_dossier(status=Status.ACCEPTED, due_date=today - timedelta(days=2), finished_at=None)
    supplement = make_dossier(status=Status.SUPPLEMENT_REQUESTED, due_date=today, finished_at=None)
    ready = make_dossier()  # processed, BCCI, nothing sent yet
    sent = make_dossier()
    back = make_dossier()
    make_dossier(return_channel=ReturnChannel.DESK, decline_reason="in_person")  # not for the post
    make_dossier(unit=other_commune)  # another commune's: never counted
    services.create_return_item(dossier=sent, by=official)
    item = services.create_return_item(dossier=back, by=official)
    PostalItem.objects.filter(pk=item.pk).update(status=ItemStatus.RETURNED_TO_SENDER)

    client = client_for(official)
    counters = _counters(client)
    assert counters["Đến hạn hôm nay"][0] == 1
    assert counters["Quá hạn"][0] == 1
    assert counters["Chờ bổ sung hồ sơ"][0] == 1
    assert counters["Kết quả chờ giao bưu điện"][0] == 1
    assert counters["Biên bản chờ ký"][0] == 0
    assert counters["Bưu gửi đã về lại Bộ phận một cửa"][0] == 1
    # Each counter leads to a list of exactly what it counted.
    assert _listed(client, counters["Đến hạn hôm nay"][1]) == {due_today.code}
    assert _listed(client, counters["Quá hạn"][1]) == {overdue.code}
    assert _listed(client, counters["Chờ bổ sung hồ sơ"][1]) == {supplement.code}
    assert _listed(client, counters["Kết quả chờ giao bưu điện"][1]) == {ready.code}
    assert _listed(client, counters["Bưu gửi đã về lại Bộ phận một cửa"][1]) == {back.code}
    # Another commune's official sees none of it.
    theirs = _counters(client_for(other_official))
    assert theirs["Kết quả chờ giao bưu điện"][0] == 1  # only their own dossier


def test_other_roles_have_no_desk_counters(client_for, leader, postal_staff):
    for user in (leader, postal_staff):
        assert client_for(user).get(reverse("accounts:home")).context["counters"] == []


def test_unsigned_handover_is_counted(client_for, official, make_dossier, post_office):
    item = services.create_return_item(dossier=make_dossier(), by=official)
    handover = services.create_handover(
        by=official, direction="desk_to_post", desk_unit=official.unit, post_office=post_office
    )
    services.add_item_to_handover(handover=handover, by=official, code=item.code)
    client = client_for(official)
    count, url = _counters(client)["Biên bản chờ ký"]
    assert count == 1
    assert handover.number in client.get(url).text

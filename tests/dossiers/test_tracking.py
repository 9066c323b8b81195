"""The public lookup at /track/: code plus PIN, no personal data, one answer for both failures."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from dossiers import tracking


@pytest.fixture
def dossier(log_dossier):
    return log_dossier()


def look_up(client, code, pin, **extra):
    return client.post(reverse("tracking:track"), {"code": code, "pin": pin}, **extra)


def test_the_page_is_public(client):
    response = client.get(reverse("tracking:track"))
    assert response.status_code == 200 and "Tra cứu hồ sơ" in response.text


def test_code_and_pin_show_status_and_dates_but_no_personal_data(client, dossier):
    response = look_up(client, dossier.code, dossier.tracking_pin)
    text = response.text
    assert response.status_code == 200
    assert "Được tiếp nhận" in text and "Thủ tục đăng ký khai sinh" in text
    assert dossier.due_date.strftime("%d/%m/%Y") in text
    for private in ("Nguyễn Văn An", "0912345678", "044090001234", "Thôn 1", "0912"):
        assert private not in text
    assert response["Cache-Control"] == "no-store"


def test_unknown_code_and_wrong_pin_get_the_same_answer(client, dossier):
    wrong_pin = look_up(client, dossier.code, "000000" if dossier.tracking_pin != "000000" else "111111")
    no_such_code = look_up(client, "000.01.16.H44-260101-9999", dossier.tracking_pin)
    marker = 'data-testid="not-found"'
    assert marker in wrong_pin.text and marker in no_such_code.text
    assert wrong_pin.status_code == no_such_code.status_code == 200

    def answer(response):
        return response.text.split(marker)[1].split("</div>")[0]

    assert answer(wrong_pin) == answer(no_such_code)
    assert "track-result" not in wrong_pin.text


def test_lookups_are_rate_limited_per_address(client, dossier):
    for _ in range(tracking.LIMIT):
        assert look_up(client, "nope", "123456", REMOTE_ADDR="203.0.113.7").status_code == 200
    blocked = look_up(client, dossier.code, dossier.tracking_pin, REMOTE_ADDR="203.0.113.7")
    assert blocked.status_code == 429 and "track-result" not in blocked.text
    assert "quá nhiều lần" in blocked.text
    other = look_up(client, dossier.code, dossier.tracking_pin, REMOTE_ADDR="203.0.113.8")
    assert other.status_code == 200 and "track-result" in other.text


def test_postal_delivery_progress_is_shown_in_plain_words(client, dossier, post_office):
    from datetime import date

    from postal.models import ItemEvent, PostalItem

    item = PostalItem.objects.create(
        code="EB123456785VN",
        dossier=dossier,
        direction="return",
        post_office=post_office,
        status="in_transit",
        handover_date=date(2026, 3, 5),
        target_date=date(2026, 3, 6),
    )
    ItemEvent.objects.create(item=item, at=timezone.now(), action="item.accepted", to_status="accepted")
    text = look_up(client, dossier.code, dossier.tracking_pin).text
    assert "Chuyển phát qua bưu điện" in text
    assert "Kết quả đã được gửi qua bưu điện ngày 05/03/2026, dự kiến phát trước 06/03/2026" in text
    assert "EB123456785VN" in text
    assert "in_transit" not in text and "item." not in text


def test_no_postal_section_without_items(client, dossier):
    assert "Chuyển phát qua bưu điện" not in look_up(client, dossier.code, dossier.tracking_pin).text

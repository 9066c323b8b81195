"""Forms 01, 02 and 03 as the citizen holds them, and the public lookup they lead to."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
import segno
from django.urls import reverse

from dossiers import workflow
from dossiers.models import ReturnChannel

from .pdf_text import pdf_text


@pytest.fixture
def dossier(log_dossier, desk):
    return log_dossier()


# --- Form 01 ----------------------------------------------------------------------------------


def test_receipt_qr_opens_the_lookup_with_the_code_and_prints_address_and_phone(
    client_for, official, dossier
):
    body = client_for(official).get(reverse("dossiers:receipt", args=[dossier.pk])).text
    qr_target = segno.make(f"http://testserver/track/?code={dossier.code}", error="m").svg_inline(
        scale=3, border=1
    )
    assert qr_target in body  # the printed QR encodes the lookup address with the code
    assert "testserver/track/" in body and "0232 3862 111" in body
    assert "Số 1 đường Hùng Vương" in body


def test_receipt_letterhead_names_the_commune_and_province_not_the_old_district(
    client_for, official, dossier
):
    response = client_for(official).get(reverse("dossiers:receipt", args=[dossier.pk]))
    body = response.text
    assert "ỦY BAN NHÂN DÂN TỈNH QUẢNG TRỊ" in body and "ỦY BAN NHÂN DÂN XÃ HOÀN LÃO" in body
    assert "BỐ TRẠCH" not in body.upper()
    text = pdf_text(client_for(official).get(reverse("dossiers:receipt_pdf", args=[dossier.pk])).content)
    text = " ".join(text.split())  # the PDF breaks lines where the sheet wraps them
    assert "ỦY BAN NHÂN DÂN TỈNH QUẢNG TRỊ" in text and "BỐ TRẠCH" not in text.upper()
    assert "0232 3862 111" in text


def test_the_qr_link_fills_in_the_code_and_asks_for_the_pin(client, dossier):
    url = reverse("tracking:track") + f"?code={dossier.code}"
    body = client.get(url).content.decode()
    assert f'value="{dossier.code}"' in body
    assert 'name="pin"' in body and "autofocus" in body
    assert dossier.applicant_name not in body


# --- Form 02 ----------------------------------------------------------------------------------


def test_supplement_request_prints_form_02_with_each_document(client_for, official, dossier):
    workflow.request_supplement(dossier=dossier, by=official, items="Bản sao Giấy khai sinh\nẢnh 4x6")
    request = dossier.supplement_requests.get()
    client = client_for(official)
    page = client.get(reverse("dossiers:detail", args=[dossier.pk])).text
    link = reverse("dossiers:supplement", args=[dossier.pk, request.pk])
    assert link in page
    body = client.get(link).text
    assert "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ" in body and "Mẫu số 02" in body
    assert "<li>Bản sao Giấy khai sinh</li>" in body and "<li>Ảnh 4x6</li>" in body
    assert official.get_full_name() in body and "0232 3862 111" in body
    text = pdf_text(client.get(reverse("dossiers:supplement_pdf", args=[dossier.pk, request.pk])).content)
    assert "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ" in text and "Ảnh 4x6" in text


def test_form_02_of_another_dossier_is_404(client_for, official, dossier, log_dossier):
    workflow.request_supplement(dossier=dossier, by=official, items="Ảnh 4x6")
    request = dossier.supplement_requests.get()
    other = log_dossier()
    response = client_for(official).get(reverse("dossiers:supplement", args=[other.pk, request.pk]))
    assert response.status_code == 404


# --- Form 03 ----------------------------------------------------------------------------------


def test_refused_dossier_gets_form_03_never_the_receipt_and_no_timeliness(
    client_for, official, log_dossier, desk
):
    dossier = log_dossier(return_channel=ReturnChannel.BCCI, decline_reason="")
    workflow.refuse(dossier=dossier, by=official, reason="Thủ tục không thuộc thẩm quyền của xã")
    client = client_for(official)
    page = client.get(reverse("dossiers:detail", args=[dossier.pk])).text
    assert reverse("dossiers:refusal", args=[dossier.pk]) in page
    assert reverse("dossiers:receipt", args=[dossier.pk]) not in page
    assert 'data-testid="timeliness"' not in page
    assert 'data-testid="postal-items"' not in page  # no result to send by post
    receipt = client.get(reverse("dossiers:receipt", args=[dossier.pk]))
    assert receipt.status_code == 302 and receipt.url == reverse("dossiers:refusal", args=[dossier.pk])
    assert client.get(reverse("dossiers:receipt_pdf", args=[dossier.pk])).status_code == 302
    body = client.get(reverse("dossiers:refusal", args=[dossier.pk])).text
    assert "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ" in body and "Mẫu số 03" in body
    assert "Thủ tục không thuộc thẩm quyền của xã" in body
    text = pdf_text(client.get(reverse("dossiers:refusal_pdf", args=[dossier.pk])).content)
    assert "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ" in text and "thẩm quyền" in text


def test_form_03_only_for_a_refused_dossier(client_for, official, dossier):
    assert client_for(official).get(reverse("dossiers:refusal", args=[dossier.pk])).status_code == 404


# --- /track/ in plain words ---------------------------------------------------------------------


def look_up(client, dossier):
    return client.post(reverse("tracking:track"), {"code": dossier.code, "pin": dossier.tracking_pin}).text


def test_lookup_speaks_plainly_and_gives_the_desks_contacts(client, dossier):
    body = look_up(client, dossier)
    assert "Hồ sơ của Ông/Bà đang được giải quyết" in body
    assert "Số 1 đường Hùng Vương" in body and "0232 3862 111" in body
    for internal in ("bcci", "BCCI", "dossier.", "None"):
        assert internal not in body.split('data-testid="track-result"')[1]


def test_lookup_lists_what_to_bring_for_a_supplement(client, official, dossier):
    workflow.request_supplement(dossier=dossier, by=official, items="Ảnh 4x6")
    body = look_up(client, dossier)
    assert "cần bổ sung giấy tờ" in body and "<li>Ảnh 4x6</li>" in body


def test_lookup_of_a_finished_postal_return_says_it_will_come_by_post(client, official, log_dossier, desk):
    dossier = log_dossier(return_channel=ReturnChannel.BCCI, decline_reason="")
    workflow.finish(dossier=dossier, by=official)
    assert "kết quả sẽ được gửi đến Ông/Bà qua bưu điện" in look_up(client, dossier)


def test_qr_target_is_a_lookup_address_with_only_the_code(dossier, rf):
    from dossiers import printing

    url = printing.tracking_url(dossier, rf.get("/"))
    parsed = urlparse(url)
    assert parsed.path == "/track/" and parse_qs(parsed.query) == {"code": [dossier.code]}
    assert dossier.tracking_pin not in url


@pytest.mark.parametrize(
    ("name", "kind", "titled"),
    [
        ("Quảng Trị", "tinh", "Tỉnh Quảng Trị"),
        ("Thành phố Hà Nội", "thanh_pho", "Thành phố Hà Nội"),
        ("Xã Hoàn Lão", "xa", "Xã Hoàn Lão"),
        ("Ba Đình", "phuong", "Phường Ba Đình"),
        ("Huyện Bố Trạch (cũ)", "huyen", "Huyện Bố Trạch (cũ)"),
    ],
)
def test_letterhead_names_carry_their_kind_once(name, kind, titled):
    from communes.models import AdministrativeUnit

    assert AdministrativeUnit(name=name, kind=kind).titled_name == titled

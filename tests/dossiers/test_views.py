"""Pages: each role, another commune's user (404), a role without the right (403)."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dossiers.models import Dossier, DossierEvent, Status
from dossiers.selectors import PAGE_SIZE

from .conftest import at

NOW = at(2026, 3, 4, 10)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def dossier(log_dossier):
    return log_dossier()


@pytest.fixture
def theirs(log_dossier, other_official, other_commune):
    return log_dossier(by=other_official, receiving_unit=other_commune, applicant_name="Lê Thị Khác")


# --- list ------------------------------------------------------------------------------------


def test_list_shows_own_commune_only(client_for, official, dossier, theirs):
    response = client_for(official).get(reverse("dossiers:list"))
    assert response.status_code == 200
    assert dossier.code in response.text
    assert theirs.code not in response.text
    assert "044090001234" not in response.text


@pytest.mark.parametrize("role_user", ["leader", "post_manager"])
def test_leader_and_post_manager_see_both_communes(request, client_for, role_user, dossier, theirs):
    response = client_for(request.getfixturevalue(role_user)).get(reverse("dossiers:list"))
    assert dossier.code in response.text and theirs.code in response.text


def test_postal_staff_see_the_commune_their_office_serves(client_for, postal_staff, dossier, theirs):
    response = client_for(postal_staff).get(reverse("dossiers:list"))
    assert dossier.code in response.text and theirs.code not in response.text
    assert "Tạo hồ sơ mới" not in response.text


def test_anonymous_user_is_sent_to_login(client):
    response = client.get(reverse("dossiers:list"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_list_filters(client_for, official, commune, bulk_dossiers, log_dossier):
    bulk_dossiers(commune, 3, status=Status.PROCESSING, due_offset=-2, name="Quá Hạn")  # overdue
    bulk_dossiers(commune, 2, status=Status.RETURNED, due_offset=-2, name="Xong Rồi")
    (soon,) = bulk_dossiers(commune, 1, status=Status.PROCESSING, due_offset=4, name="Sắp Hạn")  # due Fri 6/3
    fresh = log_dossier(applicant_name="Hoàng Văn Tìm")
    client = client_for(official)

    def codes(**params):
        response = client.get(reverse("dossiers:list"), params)
        assert response.status_code == 200
        return {d.code for d in response.context["page"].rows}

    assert len(codes(flag="overdue")) == 3
    assert len(codes(status=Status.RETURNED)) == 2
    assert codes(q="Tìm") == {fresh.code}
    assert codes(q=fresh.code[:-2]) == {fresh.code}
    assert codes(flag="nearly_due") == {soon.code}  # Fri 6/3 is two working days from Wed 4/3; Mon 9/3 is not
    assert len(codes(received_from="04/03/2026", received_to="04/03/2026")) == 1
    assert codes(intake_channel=3) == set()


def test_list_pages_with_a_cursor_and_no_count(
    client_for, official, commune, bulk_dossiers, django_assert_max_num_queries
):
    bulk_dossiers(commune, PAGE_SIZE + 5)
    client = client_for(official)
    with django_assert_max_num_queries(12):
        first = client.get(reverse("dossiers:list"))
    page = first.context["page"]
    assert len(page.rows) == PAGE_SIZE and page.next_cursor and not page.previous_cursor
    second = client.get(reverse("dossiers:list"), {"after": page.next_cursor})
    rest = second.context["page"]
    assert len(rest.rows) == 5 and not rest.next_cursor and rest.previous_cursor
    assert not {d.pk for d in page.rows} & {d.pk for d in rest.rows}
    back = client.get(reverse("dossiers:list"), {"before": rest.previous_cursor}).context["page"]
    assert [d.pk for d in back.rows] == [d.pk for d in page.rows]


def test_list_queries_do_not_grow_with_rows(
    client_for, official, commune, bulk_dossiers, django_assert_num_queries
):
    client = client_for(official)
    bulk_dossiers(commune, 3)
    client.get(reverse("dossiers:list"))  # warm the session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(reverse("dossiers:list"))
    Dossier.objects.all().delete()
    bulk_dossiers(commune, 40)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("dossiers:list"))
    assert len(many) == len(few)
    assert not any("COUNT(" in q["sql"].upper() for q in many.captured_queries)


def test_export_csv_and_xlsx_mask_identity_numbers(client_for, official, dossier, theirs):
    client = client_for(official)
    response = client.get(reverse("dossiers:export_csv"))
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert dossier.code in body and theirs.code not in body
    assert "0440******34" in body and "044090001234" not in body
    assert "0912***678" in body and "0912345678" not in body

    from io import BytesIO

    from openpyxl import load_workbook

    response = client.get(reverse("dossiers:export_xlsx"))
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content)), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "ma_ho_so" and rows[1][0] == dossier.code and len(rows) == 2
    assert "0440******34" in rows[1] and "044090001234" not in rows[1]


def test_export_keeps_a_formula_typed_as_a_name_from_running(client_for, official, log_dossier):
    from io import BytesIO

    from openpyxl import load_workbook

    hostile = log_dossier(applicant_name='=HYPERLINK("http://evil.example","Bấm vào đây")')
    client = client_for(official)
    body = b"".join(client.get(reverse("dossiers:export_csv")).streaming_content).decode("utf-8-sig")
    assert "'=HYPERLINK" in body and ",=HYPERLINK" not in body
    response = client.get(reverse("dossiers:export_xlsx"))
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content))).worksheets[0]
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value == hostile.applicant_name]
    assert cells and all(cell.data_type == "s" for cell in cells)


# --- intake ----------------------------------------------------------------------------------


def intake_post(chosen, **overrides):
    data = {
        "procedure": chosen.pk,
        "applicant_name": "Nguyễn Thị Bình",
        "applicant_phone": "0987654321",
        "applicant_address": "Thôn 2",
        "applicant_id_number": "044190004321",
        "intake_channel": "1",
        "received_at": "",
        "return_channel": "desk",
        "decline_reason": "worried_papers",
        "decline_note": "",
        "documents-TOTAL_FORMS": "2",
        "documents-INITIAL_FORMS": "0",
        "documents-MIN_NUM_FORMS": "0",
        "documents-MAX_NUM_FORMS": "40",
        "documents-0-name": "Tờ khai",
        "documents-0-form": "original",
        "documents-0-count": "1",
        "documents-1-name": "",
        "documents-1-form": "copy",
        "documents-1-count": "1",
    }
    data.update(overrides)
    return data


def test_official_logs_a_dossier(client_for, official, birth_registration):
    response = client_for(official).post(reverse("dossiers:create"), intake_post(birth_registration))
    dossier = Dossier.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "dossiers:detail", args=[dossier.pk]
    )
    assert dossier.receiving_unit == official.unit and dossier.created_by == official
    assert list(dossier.documents.values_list("name", flat=True)) == ["Tờ khai"]
    assert dossier.due_date == date(2026, 3, 9)
    assert "044190004321" not in response["Location"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"applicant_phone": "12ab"}, "Số điện thoại phải có 10 hoặc 11 chữ số"),
        ({"applicant_id_number": "1234"}, "phải có đúng 12 chữ số"),
        ({"procedure": "999999"}, "Chọn thủ tục trong danh mục"),
        ({"received_at": "05/03/2026 09:00"}, "không được ở tương lai"),
        ({"received_at": "2026/03/04"}, "Nhập"),
        ({"decline_reason": ""}, "Ghi lý do công dân không chọn nhận kết quả qua bưu điện"),
    ],
)
def test_bad_intake_shows_a_vietnamese_message_and_saves_nothing(
    client_for, official, birth_registration, overrides, message
):
    response = client_for(official).post(
        reverse("dossiers:create"), intake_post(birth_registration, **overrides)
    )
    assert response.status_code == 200
    assert message in response.text
    assert not Dossier.objects.exists() and not DossierEvent.objects.exists()
    assert 'value="Nguyễn Thị Bình"' in response.text  # nothing typed is lost


@pytest.mark.parametrize("role_user", ["leader", "postal_staff", "post_manager"])
def test_roles_without_the_desk_cannot_log_dossiers(request, client_for, birth_registration, role_user):
    client = client_for(request.getfixturevalue(role_user))
    assert client.get(reverse("dossiers:create")).status_code == 403
    assert client.post(reverse("dossiers:create"), intake_post(birth_registration)).status_code == 403
    assert not Dossier.objects.exists()


def test_due_date_preview_fragment(client_for, official, birth_registration, certification):
    client = client_for(official)
    response = client.get(reverse("dossiers:intake_preview"), {"procedure": birth_registration.pk})
    assert "09/03/2026" in response.text
    response = client.get(
        reverse("dossiers:intake_preview"), {"procedure": certification.pk, "received_at": "04/03/2026 09:00"}
    )
    assert "04/03/2026" in response.text
    response = client.get(
        reverse("dossiers:intake_preview"), {"procedure": birth_registration.pk, "intake_channel": 3}
    )
    assert "biên bản giao nhận" in response.text


def test_documents_fragment_is_prefilled_from_the_procedure(client_for, official, birth_registration):
    response = client_for(official).get(
        reverse("dossiers:intake_documents"), {"procedure": birth_registration.pk}
    )
    assert 'value="Tờ khai đăng ký khai sinh"' in response.text
    assert 'value="Giấy chứng sinh"' in response.text


# --- detail and actions ----------------------------------------------------------------------


def test_detail_for_the_owner_shows_allowed_actions_only(client_for, official, dossier):
    response = client_for(official).get(reverse("dossiers:detail", args=[dossier.pk]))
    assert response.status_code == 200
    assert "0440******34" in response.text and "044090001234" not in response.text
    actions = dict(response.context["actions"])
    assert "start" in actions and "return_result" not in actions and "accept" not in actions
    assert reverse("dossiers:action", args=[dossier.pk, "start"]) in response.text
    assert reverse("dossiers:action", args=[dossier.pk, "return_result"]) not in response.text


def test_timeline_reads_as_words_not_data(client_for, official, dossier):
    client = client_for(official)
    url = reverse("dossiers:action", args=[dossier.pk, "request_supplement"])
    client.post(url, {"version": dossier.version, "items": "Bản sao sổ hộ khẩu"})
    page = client.get(reverse("dossiers:detail", args=[dossier.pk])).text
    assert "Lịch sử xử lý" in page
    assert "Bản sao sổ hộ khẩu" in page  # what the citizen must bring, on the supplement event
    assert "dict_items" not in page and "{&#x27;" not in page
    assert "Hình thức trả kết quả" in page


def test_detail_of_another_commune_is_404(client_for, official, theirs):
    assert client_for(official).get(reverse("dossiers:detail", args=[theirs.pk])).status_code == 404


def test_leader_reads_the_detail_without_actions(client_for, leader, dossier):
    response = client_for(leader).get(reverse("dossiers:detail", args=[dossier.pk]))
    assert response.status_code == 200 and response.context["actions"] == []


def test_action_moves_the_dossier_and_records_the_event(client_for, official, dossier):
    url = reverse("dossiers:action", args=[dossier.pk, "request_supplement"])
    client = client_for(official)
    assert client.get(url).status_code == 200
    response = client.post(url, {"version": dossier.version, "items": "Bản sao sổ hộ khẩu"})
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.status == Status.SUPPLEMENT_REQUESTED
    assert dossier.events.last().details["items"] == "Bản sao sổ hộ khẩu"


def test_stale_form_explains_and_keeps_the_input(client_for, official, dossier):
    client = client_for(official)
    url = reverse("dossiers:action", args=[dossier.pk, "refuse"])
    Dossier.objects.filter(pk=dossier.pk).update(version=5)  # someone else saved meanwhile
    response = client.post(url, {"version": 1, "reason": "Giấy tờ giả mạo"})
    assert response.status_code == 409
    assert "người khác cập nhật" in response.text
    assert "Giấy tờ giả mạo" in response.text
    assert 'name="version" value="5"' in response.text
    dossier.refresh_from_db()
    assert dossier.status == Status.ACCEPTED


def test_transition_not_allowed_is_refused_with_a_message(client_for, official, dossier):
    url = reverse("dossiers:action", args=[dossier.pk, "return_result"])
    response = client_for(official).post(url, {"version": dossier.version, "channel": "desk"})
    assert response.status_code == 400
    assert "Không thể thực hiện" in response.text
    dossier.refresh_from_db()
    assert dossier.status == Status.ACCEPTED and dossier.version == 1


def test_second_extension_is_refused(client_for, official, dossier):
    client = client_for(official)
    url = reverse("dossiers:action", args=[dossier.pk, "extend"])
    first = client.post(url, {"version": 1, "new_due_date": "12/03/2026", "reason": "Chờ xác minh"})
    assert first.status_code == 302
    second = client.post(url, {"version": 2, "new_due_date": "16/03/2026", "reason": "Lần hai"})
    assert second.status_code == 400 and "không được hẹn lại lần thứ hai" in second.text


def test_actions_on_another_commune_are_404_and_for_leaders_403(client_for, official, leader, theirs):
    url = reverse("dossiers:action", args=[theirs.pk, "start"])
    assert client_for(official).post(url, {"version": 1}).status_code == 404
    assert client_for(leader).post(url, {"version": 1}).status_code == 403
    theirs.refresh_from_db()
    assert theirs.status == Status.ACCEPTED


# --- printing --------------------------------------------------------------------------------


def test_receipt_html_has_code_qr_pin_and_masked_identity(client_for, official, dossier):
    response = client_for(official).get(reverse("dossiers:receipt", args=[dossier.pk]))
    assert response.status_code == 200
    text = response.text
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in text
    assert dossier.code in text and dossier.tracking_pin in text
    assert "<svg" in text and "<script>" not in text.replace(" ", "")
    assert "09/03/2026" in text
    assert "0440******34" in text and "044090001234" not in text


def test_receipt_pdf_has_vietnamese_text(client_for, official, dossier):
    from .pdf_text import page_count, pdf_text

    response = client_for(official).get(reverse("dossiers:receipt_pdf", args=[dossier.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = response.content
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in text
    assert "Nguyễn Văn An" in text and "Thủ tục đăng ký khai sinh" in text
    assert dossier.code in text and "09/03/2026" in text
    assert page_count(pdf) == 1


def test_apology_letter_only_after_an_extension(client_for, official, dossier):
    from dossiers import workflow

    from .pdf_text import pdf_text

    client = client_for(official)
    assert client.get(reverse("dossiers:apology", args=[dossier.pk])).status_code == 404
    workflow.extend(
        dossier=dossier, by=official, reason="Chờ kết quả xác minh", new_due_date=date(2026, 3, 12)
    )
    html = client.get(reverse("dossiers:apology", args=[dossier.pk])).text
    assert "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ" in html and "12/03/2026" in html
    text = pdf_text(client.get(reverse("dossiers:apology_pdf", args=[dossier.pk])).content)
    assert "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ" in text and "Chờ kết quả xác minh" in text


def test_receipt_of_another_commune_is_404(client_for, official, theirs):
    assert client_for(official).get(reverse("dossiers:receipt", args=[theirs.pk])).status_code == 404
    assert client_for(official).get(reverse("dossiers:receipt_pdf", args=[theirs.pk])).status_code == 404


def test_administrator_logs_a_dossier_for_a_chosen_commune(
    client_for, administrator, commune, birth_registration
):
    client = client_for(administrator)
    assert "Xã tiếp nhận" in client.get(reverse("dossiers:create")).text
    response = client.post(
        reverse("dossiers:create"), intake_post(birth_registration, receiving_unit=commune.pk)
    )
    assert response.status_code == 302
    assert Dossier.objects.get().receiving_unit == commune


def test_admin_shows_history_read_only_and_identity_masked(client_for, administrator, dossier):
    client = client_for(administrator)
    events = client.get(reverse("admin:dossiers_dossierevent_changelist"))
    assert events.status_code == 200 and "dossier.accepted" in events.text
    assert client.get(reverse("admin:dossiers_dossierevent_add")).status_code == 403
    page = client.get(reverse("admin:dossiers_dossier_change", args=[dossier.pk]))
    assert page.status_code == 200
    assert "0440******34" in page.text and "044090001234" not in page.text
    assert client.get(reverse("admin:dossiers_procedure_changelist")).status_code == 200
    assert client.get(reverse("admin:dossiers_calendaroverride_add")).status_code == 200


def test_menu_entries_by_role(client_for, official, leader, postal_staff):
    from accounts.navigation import menu_for

    assert {"dossiers:list", "dossiers:create", "dossiers:import_upload"} <= {
        item["url_name"] for item in menu_for(official)
    }
    for user in (leader, postal_staff):
        names = {item["url_name"] for item in menu_for(user)}
        assert "dossiers:list" in names and "dossiers:create" not in names


def test_list_rows_print_dates_badges_and_escaped_names(client_for, official, commune, bulk_dossiers):
    (late,) = bulk_dossiers(commune, 1, status=Status.PROCESSING, due_offset=-2, name="Quá <b>Hạn</b>")
    (done,) = bulk_dossiers(commune, 1, status=Status.RETURNED, due_offset=-2, name="Xong Rồi")
    response = client_for(official).get(reverse("dossiers:list"))
    html = response.text

    def row(code):
        at = html.index(code)
        return html[html.rindex("<tr>", 0, at) : html.index("</tr>", at)]

    late_row, done_row = row(late.code), row(done.code)
    assert "Quá &lt;b&gt;Hạn&lt;/b&gt;" in late_row
    assert late.due_date.strftime("%d/%m/%Y") in late_row and "Quá hạn" in late_row
    assert "text-bg-primary" in late_row and "Đang xử lý" in late_row
    assert "Quá hạn" not in done_row  # returned: never overdue
    assert "text-bg-success" in done_row and "Đã trả kết quả" in done_row
    received = timezone.localtime(done.received_at).strftime("%d/%m/%Y %H:%M")
    assert received in done_row
    assert f'href="{reverse("dossiers:detail", args=[done.pk])}"' in done_row


def test_filter_selects_read_each_table_with_one_plain_query(client_for, official, birth_registration):
    client = client_for(official)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("dossiers:list"), {"procedure": birth_registration.pk})
    assert f'<option value="{birth_registration.pk}" selected>' in response.text
    statements = [query["sql"] for query in captured.captured_queries]
    assert not any("COUNT(" in sql.upper() or "DECLARE" in sql.upper() for sql in statements)

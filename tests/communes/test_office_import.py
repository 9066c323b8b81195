"""Importing the registry from CSV/XLSX: all rows or none, each bad row reported by line."""

from dataclasses import replace
from io import BytesIO, StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import Workbook

from accounts.models import User
from communes.models import PostOffice, PostOfficeEvent
from communes.spreadsheets import ImportFailed, export_post_offices, import_post_offices

pytestmark = pytest.mark.django_db

HEADER = (
    "code,name,kind,commune_code,parent_code,floor_area_m2,condition,combined_with_desk,latitude,longitude"
)
GOOD = "\n".join(
    [
        HEADER,
        "BDVHX-19111,Bưu điện văn hóa xã Hoàn Lão,cultural,19111,BD-BT,60,good,1,17.5901,106.5312",
        "BDVHX-19141-B,Điểm thôn Đại Phong,Bưu điện văn hóa xã (BĐVHX),19141,BD-BT,36,Cần sửa chữa,có,,",
        "DL-19141,Đại lý bưu điện Đại Phong,agent,19141,BDVHX-19141-B,18,good,0,,",
    ]
)


def csv_bytes(text: str, encoding="utf-8") -> bytes:
    return text.encode(encoding)


def errors_of(call) -> list[tuple[int | None, str]]:
    with pytest.raises(ImportFailed) as failure:
        call()
    return [(e.line, e.message) for e in failure.value.errors]


def test_a_good_file_creates_and_updates_by_code(post_manager, post_office, other_commune):
    result = import_post_offices(by=post_manager, data=csv_bytes(GOOD), filename="mang-luoi.csv")
    assert (result.created, result.updated, result.unchanged) == (2, 1, 0)
    post_office.refresh_from_db()
    assert post_office.combined_with_desk and str(post_office.floor_area_m2) == "60.0"
    new = PostOffice.objects.get(code="BDVHX-19141-B")
    assert new.condition == "needs_repair" and new.commune == other_commune and new.parent.code == "BD-BT"
    assert PostOffice.objects.get(code="DL-19141").parent == new  # parent from an earlier line
    event = PostOfficeEvent.objects.get(post_office=post_office)
    assert event.actor == post_manager and event.details["source"] == "import:mang-luoi.csv"
    # Importing the same file again (a new request: the scope is computed afresh) changes nothing.
    manager = User.objects.get(pk=post_manager.pk)
    again = import_post_offices(by=manager, data=csv_bytes(GOOD), filename="mang-luoi.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert PostOfficeEvent.objects.count() == 3


def test_a_file_with_bad_rows_saves_nothing_and_lists_every_bad_row(post_manager, post_office, far_commune):
    bad = "\n".join(
        [
            HEADER,
            "BDVHX-19111,Bưu điện văn hóa xã Hoàn Lão,cultural,19111,BD-BT,60,good,1,17.59,106.53",  # fine
            "BDVHX-NEW1,Điểm mới,cultural,19141,BD-BT,-15,good,0,,",  # negative area
            "BDVHX-NEW2,Điểm mới 2,cultural,99999,BD-BT,30,good,0,,",  # unknown commune
            f"BDVHX-NEW3,Điểm mới 3,cultural,{far_commune.code},BD-BT,30,good,0,,",  # outside the scope
            "BDVHX-NEW4,Điểm mới 4,castle,19141,BD-BT,30,rất tốt,maybe,abc,106",  # several reasons
            "BDVHX-19111,Trùng mã,cultural,19111,BD-BT,60,good,1,,",  # duplicate code in the file
            "BDVHX-NEW5,Điểm mới 5,cultural,19141,BD-BT,250000,good,0,,",  # absurd area
            "BDVHX-NEW6,Điểm mới 6,cultural,19141,KHONG-CO,30,good,0,,",  # unknown parent
        ]
    )
    errors = dict(errors_of(lambda: import_post_offices(by=post_manager, data=csv_bytes(bad))))
    assert sorted(errors) == [3, 4, 5, 6, 7, 8, 9]
    assert "floor_area_m2: Diện tích sàn phải lớn hơn 0" in errors[3]
    assert "commune_code: Không có xã nào mang mã 99999." in errors[4]
    assert "Phường Đông Hà nằm ngoài phạm vi quản lý của bạn" in errors[5]
    assert "kind: “castle” không thuộc các giá trị" in errors[6]
    assert (
        "condition: “rất tốt”" in errors[6] and "maybe" in errors[6] and "“abc” không phải là số" in errors[6]
    )
    assert "code: Mã BDVHX-19111 đã có ở dòng 2." in errors[7]
    assert "10.000 m²" in errors[8]
    assert "KHONG-CO" in errors[9]
    post_office.refresh_from_db()
    assert not post_office.combined_with_desk  # line 2 was fine but nothing is saved
    assert not PostOffice.objects.filter(code__startswith="BDVHX-NEW").exists()
    assert not PostOfficeEvent.objects.exists()


def test_a_code_used_outside_the_scope_is_refused(post_manager, post_office, far_post):
    text = f"{HEADER}\nBC-DONGHA,Đổi tên,post_office,19111,BD-BT,30,good,0,,"
    ((line, message),) = errors_of(lambda: import_post_offices(by=post_manager, data=csv_bytes(text)))
    assert line == 2 and "ngoài phạm vi" in message
    far_post.refresh_from_db()
    assert far_post.name == "Bưu cục Đông Hà"


@pytest.mark.parametrize(
    "header, expected",
    [
        ("ma,ten,loai", "Thiếu các cột: code, name, kind, commune_code."),
        (HEADER + ",remarks", "Cột không hợp lệ: remarks."),
        (HEADER + ",name", "Các cột bị lặp: name."),
    ],
)
def test_wrong_columns_are_reported(post_manager, header, expected):
    errors = errors_of(
        lambda: import_post_offices(by=post_manager, data=csv_bytes(header + "\nX,Y,agent,19111"))
    )
    assert any(expected in message for _, message in errors), errors
    assert all(line == 1 for line, _ in errors)


def test_a_file_in_another_encoding_is_refused_with_advice(post_manager, post_office):
    text = GOOD.replace("Hoàn Lão", "Hoan Lao").replace("Đại", "Dai") + ",Ã©"
    data = text.encode("utf-8").replace("Ã©".encode(), b"\xe9\xff")
    ((line, message),) = errors_of(lambda: import_post_offices(by=post_manager, data=data, filename="x.csv"))
    assert line is None and "không được mã hóa UTF-8" in message
    assert not PostOfficeEvent.objects.exists()


@pytest.mark.parametrize(
    "data, filename, expected",
    [
        (b"", "x.csv", "Tệp không có dữ liệu."),
        (b"PK\x03\x04garbage", "x.xlsx", "không phải là bảng tính Excel"),
        (b"\xd0\xcf\x11\xe0rest", "x.xls", "định dạng Excel cũ"),
        (b"code,name", "x.pdf", "Hãy tải lên tệp .csv hoặc .xlsx."),
    ],
)
def test_unreadable_files_are_refused(post_manager, data, filename, expected):
    ((_, message),) = errors_of(lambda: import_post_offices(by=post_manager, data=data, filename=filename))
    assert expected in message


def test_excel_with_vietnamese_settings_semicolons_and_decimal_commas(post_manager, post_office):
    text = "code;name;kind;commune_code;floor_area_m2;latitude;longitude\n"
    text += "BDVHX-19111;Bưu điện văn hóa xã Hoàn Lão;cultural;19111;45,5;17,5901;106,5312\n"
    result = import_post_offices(by=post_manager, data=("\ufeff" + text).encode(), filename="x.csv")
    assert result.updated == 1
    post_office.refresh_from_db()
    assert str(post_office.floor_area_m2) == "45.5" and str(post_office.latitude) == "17.590100"


def test_an_xlsx_export_imports_back_unchanged(post_manager, post_office, other_post_office, district_post):
    offices = PostOffice.objects.select_related("commune", "parent").order_by("code")
    data = export_post_offices(offices)
    result = import_post_offices(by=post_manager, data=data, filename="buu-cuc.xlsx")
    assert (result.created, result.updated, result.unchanged) == (0, 0, 3)


def test_xlsx_numbers_for_codes_are_read_as_codes(post_manager, district_post, other_commune):
    book = Workbook()
    sheet = book.active
    sheet.append(["code", "name", "kind", "commune_code", "parent_code", "staff_count", "floor_area_m2"])
    sheet.append(["BDVHX-X", "Điểm X", "cultural", 19141, "BD-BT", 2, 40.25])
    buffer = BytesIO()
    book.save(buffer)
    assert import_post_offices(by=post_manager, data=buffer.getvalue(), filename="x.xlsx").created == 1
    office = PostOffice.objects.get(code="BDVHX-X")
    assert office.commune == other_commune and office.staff_count == 2 and str(office.floor_area_m2) == "40.3"


def test_roles_without_the_right_cannot_import(leader):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        import_post_offices(by=leader, data=csv_bytes(GOOD))


# --- the upload page and the command ---------------------------------------------------------


def upload(client, text: str, name="mang-luoi.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        reverse("communes:office_import"), {"file": SimpleUploadedFile(name, text.encode(), "text/csv")}
    )


def test_the_upload_page_lists_bad_rows_in_vietnamese(client_for, post_manager, post_office):
    bad = f"{HEADER}\nBDVHX-NEW1,Điểm mới,cultural,19141,BD-BT,-15,good,0,,"
    response = upload(client_for(post_manager), bad)
    assert response.status_code == 200
    assert "Chưa nhập dữ liệu nào" in response.text and "Diện tích sàn phải lớn hơn 0" in response.text
    assert "<td>2</td>" in response.text
    assert not PostOffice.objects.filter(code="BDVHX-NEW1").exists()


def test_the_upload_page_imports_a_good_file(client_for, post_manager, post_office):
    client = client_for(post_manager)
    response = upload(client, GOOD)
    assert response.status_code == 302
    assert "Đã nhập xong: thêm mới 2, cập nhật 1" in client.get(response.url).text


def test_the_upload_page_is_403_for_leaders(client_for, leader):
    assert upload(client_for(leader), GOOD).status_code == 403
    assert not PostOffice.objects.filter(code="DL-19141").exists()


def test_the_command_imports_or_explains(tmp_path, district_post, commune, other_commune, post_manager):
    good = tmp_path / "good.csv"
    good.write_text(GOOD, encoding="utf-8")
    out = StringIO()
    call_command("import_post_offices", str(good), stdout=out)
    assert "2 created, 1 updated" in out.getvalue()
    assert PostOfficeEvent.objects.filter(actor=None).count() == 3  # the system acted

    bad = tmp_path / "bad.csv"
    bad.write_text(f"{HEADER}\nX-1,Điểm,cultural,19111,,0,good,0,,", encoding="utf-8")
    err = StringIO()
    with pytest.raises(CommandError, match="Không nhập dữ liệu nào"):
        call_command("import_post_offices", str(bad), "--user", "quanlybd", stderr=err)
    assert "bad.csv, dòng 2: " in err.getvalue() and "floor_area_m2: Diện tích sàn" in err.getvalue()
    assert not PostOffice.objects.filter(code="X-1").exists()
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_post_offices", str(tmp_path / "missing.csv"))


def test_text_that_looks_like_a_formula_is_exported_as_text(post_office):
    from openpyxl import load_workbook

    PostOffice.objects.filter(pk=post_office.pk).update(name='=HYPERLINK("http://x","Bấm vào")')
    data = export_post_offices(
        PostOffice.objects.filter(pk=post_office.pk).select_related("commune", "parent")
    )
    cell = load_workbook(BytesIO(data)).worksheets[0]["B2"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")


# --- limits on the upload (issue 14, #6): refused before the file is read whole ---------------


def _workbook(rows: list[list]) -> bytes:
    book = Workbook()
    for cells in rows:
        book.active.append(cells)
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_workbook_that_unpacks_past_the_limit_is_refused_before_reading(post_manager, monkeypatch):
    from communes import spreadsheets

    monkeypatch.setattr(spreadsheets, "LIMITS", replace(spreadsheets.LIMITS, max_uncompressed_bytes=200_000))
    # A few kilobytes packed, far more unpacked: the same long name on every row.
    data = _workbook([HEADER.split(",")] + [["BD", "x" * 200, "agent", "19111"]] * 2000)
    assert len(data) < 100_000
    reads = []
    monkeypatch.setattr(spreadsheets, "load_workbook", lambda *a, **k: reads.append(1))
    [(line, message)] = errors_of(lambda: import_post_offices(by=post_manager, data=data, filename="x.xlsx"))
    assert line is None and "Khi giải nén" in message
    assert reads == []  # refused from the sizes in the archive, no cell parsed


def test_a_workbook_that_declares_too_many_rows_is_refused_before_reading(post_manager, monkeypatch):
    from communes import spreadsheets

    data = _workbook([HEADER.split(",")] + [[f"BD-{n}", "Điểm", "agent", "19111"] for n in range(10_001)])
    reads = []
    monkeypatch.setattr(spreadsheets, "load_workbook", lambda *a, **k: reads.append(1))
    [(_line, message)] = errors_of(lambda: import_post_offices(by=post_manager, data=data, filename="x.xlsx"))
    assert "10,000" in message and "dòng" in message
    assert reads == []


def test_a_header_of_thousands_of_columns_is_refused_quickly(post_manager):
    header = ",".join(f"c{n}" for n in range(50_000))
    [(line, message)] = errors_of(lambda: import_post_offices(by=post_manager, data=csv_bytes(header)))
    assert line is None and "60" in message and "cột" in message


def test_only_the_first_thousand_bad_rows_are_kept(post_manager, post_office):
    rows = [HEADER] + [f"BAD-{n},Điểm {n},no-such-kind,19111,,,,,," for n in range(1500)]
    with pytest.raises(ImportFailed) as failure:
        import_post_offices(by=post_manager, data=csv_bytes("\n".join(rows)))
    assert len(failure.value.errors) == 1000 and failure.value.count == 1500
    assert failure.value.errors[0].line == 2 and failure.value.errors[-1].line == 1001


def test_the_upload_page_refuses_a_file_past_the_size_limit_and_says_how_many_rows_are_not_listed(
    client_for, post_manager, post_office
):
    client = client_for(post_manager)
    big = upload(client, HEADER + "\n" + "x" * (5 * 2**20 + 1))
    assert big.status_code == 200 and "lớn hơn 5 MB" in big.text
    rows = [HEADER] + [f"BAD-{n},Điểm {n},no-such-kind,19111,,,,,," for n in range(1200)]
    response = upload(client, "\n".join(rows))
    assert "và 200 dòng sai khác" in response.text
    assert not PostOffice.objects.filter(code__startswith="BAD-").exists()

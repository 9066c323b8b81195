"""Finding a dossier as the desk is asked for it: a name typed without diacritics, part of the
code, a phone number — the same answers on PostgreSQL and SQLite."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from dossiers.models import Dossier
from dossiers.search import fold
from dossiers.selectors import dossier_list


@pytest.mark.parametrize(
    ("name", "folded"),
    [
        ("Nguyễn Thị Hồng Nhung", "nguyen thi hong nhung"),
        ("ĐẶNG VĂN ĐỨC", "dang van duc"),
        ("Trần Quốc Việt", "tran quoc viet"),
        ("Lê Ngọc Ánh", "le ngoc anh"),
        ("Phạm Thị Thu Hà", "pham thi thu ha"),
    ],
)
def test_fold_drops_case_and_diacritics(name, folded):
    assert fold(name) == folded


@pytest.fixture
def people(log_dossier):
    return {
        "nhung": log_dossier(applicant_name="Nguyễn Thị Hồng Nhung", applicant_phone="0912 345 678"),
        "dang": log_dossier(applicant_name="Đặng Văn Đức", applicant_phone="0987654321"),
        "hong": log_dossier(applicant_name="Hoàng Văn Hồng", applicant_phone=""),
    }


def _found(user, q) -> set[str]:
    return set(dossier_list(user, {"q": q}).values_list("applicant_name", flat=True))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("hong nhung", {"Nguyễn Thị Hồng Nhung"}),
        ("HONG NHUNG", {"Nguyễn Thị Hồng Nhung"}),
        ("Hồng", {"Nguyễn Thị Hồng Nhung", "Hoàng Văn Hồng"}),
        ("nhung nguyen", {"Nguyễn Thị Hồng Nhung"}),  # every word, in any order
        ("dang van duc", {"Đặng Văn Đức"}),
        ("d", {"Đặng Văn Đức"}),  # đ is read as d
        ("  van   duc ", {"Đặng Văn Đức"}),
        ("hong xyz", set()),
        ("%", set()),  # LIKE wildcards are searched literally
    ],
)
def test_name_search_ignores_diacritics_and_case(official, people, query, expected):
    assert _found(official, query) == expected


def test_partial_code_finds_the_dossier(official, people):
    code = people["dang"].code  # 000.01.16.H44-260304-0002 style
    middle = code.split("-", 1)[1]  # "260304-0002"
    assert set(dossier_list(official, {"q": middle}).values_list("code", flat=True)) == {code}
    assert set(dossier_list(official, {"q": code.lower()}).values_list("code", flat=True)) == {code}
    tail = code[-6:]  # "0-0002" style: still matches anywhere in the code
    assert code in set(dossier_list(official, {"q": tail}).values_list("code", flat=True))


@pytest.mark.parametrize("typed", ["0912345678", "0912 345 678", "0912.345.678", "+84912345678"])
def test_phone_search_matches_exact_digits(official, people, typed):
    assert _found(official, typed) == {"Nguyễn Thị Hồng Nhung"}


def test_phone_search_needs_the_whole_number(official, people):
    assert _found(official, "091234567") == set()  # one digit short: no partial phone matching


def test_search_stays_in_the_users_commune(official, other_official, other_commune, log_dossier, people):
    log_dossier(by=other_official, receiving_unit=other_commune, applicant_name="Nguyễn Hồng Nhung")
    assert _found(official, "hong nhung") == {"Nguyễn Thị Hồng Nhung"}
    assert _found(other_official, "hong nhung") == {"Nguyễn Hồng Nhung"}


def test_list_page_search_box(client_for, official, people):
    response = client_for(official).get(reverse("dossiers:list"), {"q": "hong nhung"})
    assert response.status_code == 200
    assert people["nhung"].code in response.text and people["hong"].code not in response.text
    # The phone is never printed in the rows, even when it was what was searched.
    response = client_for(official).get(reverse("dossiers:list"), {"q": "0987654321"})
    table = response.text.split("<tbody>", 1)[1]
    assert people["dang"].code in table and "0987654321" not in table


def test_database_folds_like_python(db):
    """The database function and the Python one agree (unaccent on PostgreSQL)."""
    names = ["Nguyễn Thị Hồng Nhung", "ĐẶNG VĂN ĐỨC", "Lưu Thị Ngọc Ánh", "Võ Hữu Thuận", "Bùi Quỳnh"]
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute("SELECT postdesk_fold(%s)", [name])
            assert cursor.fetchone()[0] == fold(name), name


def test_name_search_uses_the_folded_trigram_index(db):
    if connection.vendor != "postgresql":
        return  # SQLite: a plain scan of the folded column
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'dossiers_dossier'")
        indexes = dict(cursor.fetchall())
    assert "applicant_name_folded gin_trgm_ops" in indexes["dossier_name_fold_trgm_idx"]
    assert "upper((code)::text) gin_trgm_ops" in indexes["dossier_code_upper_trgm_idx"]
    assert "dossier_code_trgm_idx" not in indexes
    # An empty table: forbid the plain scans so the plan shows which index can serve the filter.
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_indexscan = off")
    try:
        by_name = Dossier.objects.filter(applicant_name_folded__contains="nhung").order_by().values("id")
        by_code = Dossier.objects.filter(code__icontains="261129-0002").order_by().values("id")
        assert "dossier_name_fold_trgm_idx" in by_name.explain()
        assert "dossier_code_upper_trgm_idx" in by_code.explain()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET enable_seqscan")
            cursor.execute("RESET enable_indexscan")


def test_folded_name_follows_every_write(official, log_dossier):
    """The database keeps the folded column in step, whatever writes the row."""
    dossier = log_dossier(applicant_name="Đỗ Thị Ngọc Ánh")
    dossier.refresh_from_db()
    assert dossier.applicant_name_folded == "do thi ngoc anh"
    Dossier.objects.filter(pk=dossier.pk).update(applicant_name="Vũ Đình Lộc")  # a bulk write
    dossier.refresh_from_db()
    assert dossier.applicant_name_folded == "vu dinh loc"
    assert _found(official, "dinh loc") == {"Vũ Đình Lộc"}


def test_only_the_unique_index_serves_a_lookup_by_code(db):
    """A trigram index on the plain code column also answers ``code = …``, and the planner
    priced it below the unique index: the import's check of 100,000 codes took 33 s at 1M
    dossiers instead of a fraction of a second. Only the unique index sits on the bare column."""
    if connection.vendor != "postgresql":
        return  # SQLite: no trigram indexes
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, am.amname FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam"
            " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
            " WHERE i.indrelid = 'dossiers_dossier'::regclass AND a.attname = 'code'"
        )
        on_code = dict(cursor.fetchall())
    # The unique index only: no trigram index, and no pattern index for a prefix search that
    # nothing does (migration dossiers.0008), each a cost on every insert.
    assert on_code == {"dossiers_dossier_code_key": "btree"}, on_code
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
    try:
        plan = Dossier.objects.filter(code="000.00.16.H44-261129-0002").values("id").explain()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET enable_seqscan")
    assert "trgm" not in plan, plan
